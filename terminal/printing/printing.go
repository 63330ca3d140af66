// Package printing connects the terminal's store to the printer: it lays out
// the store's queued print jobs (passes, receipts, settlements, Z-reports)
// with the printer's layouts, for the configured printer profile, and so
// implements the print spool's job store.
package printing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// Jobs is what printing needs of the terminal's store (*sqlite.DB is one):
// its queued print jobs, the records they print, and the settings that
// shape them.
type Jobs interface {
	NextPrintJob(ctx context.Context) (terminal.PrintJob, bool, error)
	MarkPrinted(ctx context.Context, id string, at time.Time) error
	MarkPrintFailed(ctx context.Context, id, reason string, final bool) error
	MarkPrintInterrupted(ctx context.Context, id string, at int, sum, reason string) error
	MarkPrintProgress(ctx context.Context, id string, at int, sum string) error
	Sale(ctx context.Context, id string) (*terminal.Sale, error)
	Settlement(ctx context.Context, id string) (*terminal.Settlement, error)
	ShiftReport(ctx context.Context, shiftID string) (*terminal.ZReport, error)
	Catalogue(ctx context.Context) (*terminal.Catalogue, error)
	Identity(ctx context.Context) (terminal.Identity, error)
	Setting(ctx context.Context, key string) (string, error)
}

// Queue is the spool's view of the store's print jobs.
type Queue struct {
	DB      Jobs
	Profile printer.Profile
	// Lang, if set, is the language of every document; empty, each job is
	// laid out in the terminal's language setting when it prints, so a
	// supervisor who switches the kiosk to Swahili gets Swahili slips from
	// the next one on.
	Lang string
}

var (
	_ printer.JobStore    = (*Queue)(nil)
	_ printer.ResumeStore = (*Queue)(nil)
)

// NextJob returns the oldest pending job, laid out. A job whose document
// cannot be laid out is reported with empty data, so the spool gives it up
// rather than blocking the queue.
func (q *Queue) NextJob(ctx context.Context) (printer.Job, bool, error) {
	j, ok, err := q.DB.NextPrintJob(ctx)
	if err != nil || !ok {
		return printer.Job{}, ok, err
	}
	data, err := q.Render(ctx, j)
	if err != nil {
		return printer.Job{}, false, fmt.Errorf("lay out print job %s: %w", j.ID, err)
	}
	job := printer.Job{ID: j.ID, Data: data, Attempts: j.Attempts}
	if j.ResumeAt > 0 && j.ResumeAt <= len(data) && j.ResumeSum == digest(data) {
		job.From = j.ResumeAt
	}
	return job, true, nil
}

// digest names a job's bytes, so a resume point is used only for the
// bytes it was recorded in.
func digest(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:16])
}

// MarkInterrupted records where an attempt stopped, for the next one.
func (q *Queue) MarkInterrupted(ctx context.Context, job printer.Job, at int) error {
	return q.DB.MarkPrintInterrupted(ctx, job.ID, at, digest(job.Data), "printing was interrupted")
}

// MarkProgress records how far a job being printed is on the paper, for a
// restart after the process died (printer.ProgressStore).
func (q *Queue) MarkProgress(ctx context.Context, job printer.Job, at int) error {
	return q.DB.MarkPrintProgress(ctx, job.ID, at, digest(job.Data))
}

// MarkPrinted records the printer's confirmation.
func (q *Queue) MarkPrinted(ctx context.Context, id string, at time.Time) error {
	return q.DB.MarkPrinted(ctx, id, at)
}

// MarkFailed records a failed attempt.
func (q *Queue) MarkFailed(ctx context.Context, id, reason string, final bool) error {
	return q.DB.MarkPrintFailed(ctx, id, reason, final)
}

// Render lays out a stored job as ESC/POS bytes.
func (q *Queue) Render(ctx context.Context, j terminal.PrintJob) ([]byte, error) {
	doc, err := q.Document(ctx, j)
	if err != nil {
		return nil, err
	}
	return printer.Render(q.Profile, doc)
}

// Document builds the printable document of a stored job.
func (q *Queue) Document(ctx context.Context, j terminal.PrintJob) (printer.Document, error) {
	id, err := q.DB.Identity(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := q.DB.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	site, _ := cat.Site(id.Site)
	lang := q.Lang
	if lang == "" {
		setting, err := q.DB.Setting(ctx, "language")
		if err != nil {
			return nil, err
		}
		lang = Lang(setting)
	}
	switch j.Kind {
	case "pass", "receipt":
		s, err := q.DB.Sale(ctx, j.SaleID)
		if err != nil {
			return nil, err
		}
		return SaleDocument(s, cat, site.Name, id.Name, lang, j.Copy), nil
	case "settlement":
		st, err := q.DB.Settlement(ctx, j.Ref)
		if err != nil {
			return nil, err
		}
		return SettlementDocument(st, site.Name, id.Name, lang, j.Copy), nil
	case "zreport":
		z, err := q.DB.ShiftReport(ctx, j.Ref)
		if err != nil {
			return nil, err
		}
		return ZDocument(z, site.Name, lang, j.Copy), nil
	case "test":
		return &printer.TestPage{Lang: lang, Terminal: id.Name, Printed: j.CreatedAt}, nil
	}
	return nil, fmt.Errorf("unknown print job kind %q", j.Kind)
}

func lines(ls []terminal.Line, cat *terminal.Catalogue, lang string) []printer.Line {
	var out []printer.Line
	for _, l := range ls {
		name := l.Name
		if cat != nil && l.Kind == "entry" {
			name = cat.CategoryName(l.Category, lang) + ", " + cat.BandName(l.Band, lang)
		}
		if l.Exemption != "" {
			name += " (" + l.Exemption + ": " + l.Evidence + ")"
		}
		out = append(out, printer.Line{Qty: l.Qty, Description: name, Amount: terminal.Money{Currency: l.Currency, Minor: l.Total}})
	}
	return out
}

func tenders(ts []terminal.Tender) ([]printer.Tender, terminal.Totals) {
	var out []printer.Tender
	change := terminal.Totals{}
	for _, t := range ts {
		out = append(out, printer.Tender{Kind: string(t.Kind), Amount: terminal.Money{Currency: t.Currency, Minor: t.Amount}, Reference: t.Reference, Bank: t.Bank})
		if t.Change != 0 {
			change[t.Currency] += t.Change
		}
	}
	return out, change
}

// conversions are the rates tenders were taken at, as printed.
func conversions(cs []terminal.Conversion) []printer.Conversion {
	var out []printer.Conversion
	for _, c := range cs {
		out = append(out, printer.Conversion{From: terminal.Money{Currency: c.From, Minor: c.Amount}, To: terminal.Money{Currency: c.To, Minor: c.Converted}, Rate: c.Rate})
	}
	return out
}

// SaleDocument is the pass of a sale that issued one, else its receipt.
func SaleDocument(s *terminal.Sale, cat *terminal.Catalogue, site, term, lang string, copy bool) printer.Document {
	tl, change := tenders(s.Tenders)
	drawer := !copy && len(change) > 0
	for _, t := range s.Tenders {
		drawer = drawer || (!copy && t.Kind == terminal.TenderCash)
	}
	cvs := conversions(s.Conversions)
	if s.Pass != "" {
		// The times printed are the signed pass's own, whatever catalogue
		// is active now: a reprint never contradicts its QR code.
		issued, until := s.At, s.At.Add(time.Duration(cat.PassHours)*time.Hour)
		if p, err := pass.ParseText(s.Pass); err == nil {
			issued, until = p.IssuedAt, p.ValidUntil
		}
		return &printer.PassSlip{
			Lang: lang, Copy: copy, Site: site, Terminal: term, Operator: s.Operator, PassID: s.ID,
			Issued: issued, ValidUntil: until,
			Lines: lines(s.Lines, cat, lang), Vehicle: s.Vehicle, Totals: s.Totals,
			Tenders: tl, Change: change, Conversions: cvs, Due: s.Due, Owed: s.Owed, QR: s.Pass, OpenDrawer: drawer,
		}
	}
	return &printer.Receipt{
		Lang: lang, Copy: copy, Site: site, Terminal: term, Operator: s.Operator, SaleID: s.ID, Time: s.At,
		Lines: lines(s.Lines, cat, lang), Totals: s.Totals, Tenders: tl, Change: change, Conversions: cvs, OpenDrawer: drawer,
	}
}

// SettlementDocument is the receipt of a settlement at exit.
func SettlementDocument(st *terminal.Settlement, site, term, lang string, copy bool) printer.Document {
	tl, change := tenders(st.Tenders)
	return &printer.Settlement{
		Lang: lang, Copy: copy, Site: site, Terminal: term, Operator: st.Operator, ReceiptID: st.ID, Time: st.At,
		PassID: st.PassID, IssuedBy: st.IssuerTerminal, Vehicle: terminal.DisplayPlate(st.Plate), Lines: lines(st.Overstay, nil, lang),
		Totals: st.Totals, Tenders: tl, Change: change, Conversions: conversions(st.Conversions), OpenDrawer: !copy && len(change) > 0,
	}
}

// ZDocument is a shift's Z-report.
func ZDocument(z *terminal.ZReport, site, lang string, copy bool) printer.Document {
	d := &printer.ZReport{
		Lang: lang, Copy: copy, Site: site, Terminal: z.Terminal, Operator: z.Operator, ShiftID: z.ShiftID,
		Opened: z.OpenedAt, Closed: z.ClosedAt, Sales: z.Sales, Voids: z.Voided, Visitors: z.Visitors,
		Float: z.Float, Expected: z.Expected, Counted: z.Counted, Printed: z.ClosedAt,
		OpenPasses: z.OpenPasses, OpenPassesBy: z.OpenPassesBy,
	}
	idx := map[string]int{}
	for _, t := range z.Tenders {
		k := string(t.Tender)
		i, ok := idx[k]
		if !ok {
			i = len(d.ByTender)
			idx[k] = i
			d.ByTender = append(d.ByTender, printer.TenderTotal{Kind: k, Totals: terminal.Totals{}})
		}
		d.ByTender[i].Count += t.Count
		d.ByTender[i].Totals[t.Currency] += t.Amount
	}
	return d
}

// ProfileOf returns the printer profile named by a printer setting.
func ProfileOf(spec string) (printer.Profile, error) {
	if spec == "" || spec == "none" {
		return printer.LookupProfile("")
	}
	s, err := printer.ParseSpec(spec)
	if err != nil {
		return printer.Profile{}, err
	}
	return s.Profile, nil
}

// Lang normalises a language setting.
func Lang(s string) string {
	if strings.HasPrefix(s, "sw") {
		return "sw"
	}
	return "en"
}
