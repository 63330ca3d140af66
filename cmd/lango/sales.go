package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// tenderJSON is a tender as the contract prints it: money as {CUR: minor}.
type tenderJSON struct {
	Kind      terminal.TenderKind `json:"kind"`
	Amount    terminal.Totals     `json:"amount"`
	Change    terminal.Totals     `json:"change,omitempty"`
	Reference string              `json:"reference,omitempty"`
	CardLast4 string              `json:"card_last4,omitempty"`
	Bank      string              `json:"bank,omitempty"`
	Paybill   string              `json:"paybill,omitempty"` // the M-PESA paybill an mpesa tender was for
}

func tendersJSON(ts []terminal.Tender) []tenderJSON {
	out := []tenderJSON{}
	for _, t := range ts {
		j := tenderJSON{Kind: t.Kind, Amount: terminal.Totals{t.Currency: t.Amount}, Reference: t.Reference, CardLast4: t.CardLast4, Bank: t.Bank, Paybill: t.Paybill}
		if t.Change != 0 {
			j.Change = terminal.Totals{t.Currency: t.Change}
		}
		out = append(out, j)
	}
	return out
}

// lineJSON is a priced line as the contract prints money: {CUR: minor}.
type lineJSON struct {
	Code      string          `json:"code"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Qty       int             `json:"qty"`
	Unit      terminal.Totals `json:"unit"`
	Total     terminal.Totals `json:"total"`
	Season    string          `json:"season,omitempty"`
	Exemption string          `json:"exemption,omitempty"`
	Evidence  string          `json:"evidence,omitempty"`
	FreeDay   string          `json:"free_day,omitempty"`
}

func linesJSON(ls []terminal.Line) []lineJSON {
	out := []lineJSON{}
	for _, l := range ls {
		out = append(out, lineJSON{Code: l.Code, Name: l.Name, Kind: l.Kind, Qty: l.Qty,
			Unit: terminal.Totals{l.Currency: l.Unit}, Total: terminal.Totals{l.Currency: l.Total},
			Season: l.Season, Exemption: l.Exemption, Evidence: l.Evidence, FreeDay: l.FreeDay})
	}
	return out
}

// conversionJSON is a currency conversion: what was due, what it became,
// at which rate from which source.
type conversionJSON struct {
	Amount    terminal.Totals `json:"amount"`
	Converted terminal.Totals `json:"converted"`
	Rate      string          `json:"rate"`
	Source    string          `json:"source"`
}

func conversionsJSON(cs []terminal.Conversion) []conversionJSON {
	var out []conversionJSON
	for _, c := range cs {
		out = append(out, conversionJSON{Amount: terminal.Totals{c.From: c.Amount}, Converted: terminal.Totals{c.To: c.Converted}, Rate: c.Rate, Source: c.Source})
	}
	return out
}

func parseItems(items list) ([]terminal.LineRequest, error) {
	var out []terminal.LineRequest
	for _, it := range items {
		// CODE=QTY[:EXEMPTION:EVIDENCE]
		code, rest, ok := strings.Cut(it, "=")
		if !ok {
			return nil, terminal.Errorf(terminal.EINVALID, "item %q is not CODE=QTY", it)
		}
		qtyS, exempt, _ := strings.Cut(rest, ":")
		qty, err := strconv.Atoi(strings.TrimSpace(qtyS))
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "quantity of %s is not a whole number: %q", code, qtyS)
		}
		lr := terminal.LineRequest{Code: code, Qty: qty}
		if exempt != "" {
			lr.Exemption, lr.Evidence, _ = strings.Cut(exempt, ":")
		}
		out = append(out, lr)
	}
	return out, nil
}

func parseTenders(pays list) ([]terminal.TenderRequest, error) {
	var out []terminal.TenderRequest
	for _, p := range pays {
		tr, err := terminal.ParseTender(p)
		if err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	return out, nil
}

func (m *Main) cmdSell(ctx context.Context, args []string) error {
	fs := m.newFlags("sell").withAs().withJSON()
	var items, pays list
	fs.Var(&items, "item", "CODE=QTY[:EXEMPTION:EVIDENCE] (repeatable)")
	fs.Var(&pays, "pay", "tender: cash, cash:CUR=AMOUNT, mpesa:CODE, card:APPROVAL, card, bank:BANK:REFERENCE[=AMOUNT], defer (repeatable)")
	vehicle := fs.String("vehicle", "", "vehicle plate")
	owedBy := fs.String("owed-by", "", "with --pay defer: the tour operator who owes (code or licence in the catalogue)")
	phone := fs.String("phone", "", "with --pay defer: the driver's phone, 07XXXXXXXX or +2547XXXXXXXX")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("sell takes no arguments, got %q", pos[0])
	}
	if len(items) == 0 {
		return usagef("sell needs --item CODE=QTY and --pay TENDER")
	}
	lines, err := parseItems(items)
	if err != nil {
		return err
	}
	tenders, err := parseTenders(pays)
	if err != nil {
		return err
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	if len(pays) == 0 {
		// --pay may be left out only when the sale comes to nothing (free
		// entry); otherwise it is a usage error, before the PIN is asked.
		if due, err := m.dueWithoutTender(ctx, db, lines); err != nil || len(due) > 0 {
			if err != nil {
				return err
			}
			return usagef("sell needs --pay TENDER: %s is due", due)
		}
	}
	op, err := m.operator(ctx, db, fs.as)
	if err != nil {
		return err
	}
	// The card desk charges an integrated PDQ (after a trial of the sale,
	// so a refusal comes before the charge), then commits and clears.
	d, err := m.desk(db)
	if err != nil {
		return err
	}
	res, err := d.Sell(ctx, op, terminal.SaleRequest{Lines: lines, Vehicle: *vehicle, Tenders: tenders, OwedBy: *owedBy, Phone: *phone}, m.announceCharge)
	if err != nil {
		return err
	}
	pr := m.printNow(ctx, db, res.PrintJob)
	s := res.Sale
	if fs.json {
		return m.printJSON(saleJSON(s, &pr))
	}
	fmt.Fprintf(m.Stdout, "sale %d %s: %s (%s)\n", s.Number, s.State, s.Totals, s.ID)
	if pr.Status == "queued" {
		fmt.Fprintf(m.Stderr, "lango: printing queued: %s\n", pr.Error)
	}
	return nil
}

// dueWithoutTender prices lines as a sale would now and returns what is
// due (nothing for free entry). A pricing refusal is returned as is.
func (m *Main) dueWithoutTender(ctx context.Context, db *sqlite.DB, lines []terminal.LineRequest) (terminal.Totals, error) {
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	p, err := cat.Price(db.Now(), id.Site, lines)
	if err != nil {
		return nil, err
	}
	return p.Totals.Clone().Clean(), nil
}

type saleOut struct {
	ID          string             `json:"id"`
	Number      int64              `json:"number"`
	Kind        string             `json:"kind"`
	State       terminal.SaleState `json:"state"`
	At          time.Time          `json:"at"`
	Operator    string             `json:"operator"`
	Vehicle     string             `json:"vehicle,omitempty"`
	Lines       []lineJSON         `json:"lines"`
	Totals      terminal.Totals    `json:"totals"`
	Tenders     []tenderJSON       `json:"tenders"`
	Conversions []conversionJSON   `json:"conversions,omitempty"`
	Due         terminal.Totals    `json:"due,omitempty"`
	RefundOf    string             `json:"refund_of,omitempty"`
	Void        *terminal.Void     `json:"void,omitempty"`
	Pass        string             `json:"pass,omitempty"`
	Owed        *terminal.Owed     `json:"owed,omitempty"`
	Print       *printJSON         `json:"print,omitempty"`
}

func saleJSON(s *terminal.Sale, pr *printJSON) saleOut {
	return saleOut{
		ID: s.ID, Number: s.Number, Kind: s.Kind, State: s.State, At: s.At, Operator: s.Operator, Vehicle: s.Vehicle,
		Lines: linesJSON(s.Lines), Totals: s.Totals, Tenders: tendersJSON(s.Tenders), Conversions: conversionsJSON(s.Conversions), Due: s.Due,
		RefundOf: s.RefundOf, Void: s.Void, Pass: s.Pass, Owed: s.Owed, Print: pr,
	}
}

func (m *Main) cmdSales(ctx context.Context, args []string) error {
	fs := m.newFlags("sales").withJSON()
	since := fs.String("since", "", "only sales at or after this RFC 3339 time")
	until := fs.String("until", "", "only sales before this RFC 3339 time")
	limit := fs.Int("limit", 0, "at most this many sales (0: all)")
	format := fs.String("format", "", "text, json (as --json) or ndjson (one sale a line, for exports)")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	var q terminal.SaleQuery
	for _, t := range []struct {
		flag, v string
		to      *time.Time
	}{{"since", *since, &q.Since}, {"until", *until, &q.Until}} {
		if t.v == "" {
			continue
		}
		var err error
		if *t.to, err = time.Parse(time.RFC3339, t.v); err != nil {
			return usagef("--%s %q is not an RFC 3339 time, e.g. 2024-01-03T06:00:00+03:00", t.flag, t.v)
		}
	}
	if *limit < 0 {
		return usagef("--limit %d: give a number of sales, or 0 for all", *limit)
	}
	q.Limit = *limit
	if fs.json && *format == "" {
		*format = "json"
	}
	db, err := m.open(ctx)
	if err != nil {
		return err
	}
	switch *format {
	case "", "text":
		w := bufio.NewWriterSize(m.Stdout, 64<<10)
		if err := db.EachSale(ctx, q, func(s *terminal.Sale) error {
			_, err := fmt.Fprintf(w, "%6d  %s  %-8s  %s  %s\n", s.Number, db.SiteTime(s.At, "2006-01-02 15:04"), s.State, s.Totals, s.ID)
			return err
		}); err != nil {
			return err
		}
		return w.Flush()
	case "json", "ndjson":
		list := newJSONList(m.Stdout, *format == "ndjson")
		if err := db.EachSale(ctx, q, func(s *terminal.Sale) error { return list.add(saleJSON(s, nil)) }); err != nil {
			return err
		}
		return list.close()
	}
	return usagef("--format %q: text, json or ndjson", *format)
}

func (m *Main) voidOrRefund(ctx context.Context, name string, args []string, do func(*sqlite.DB, *terminal.Operator, string, string) (*terminal.Sale, error)) error {
	fs := m.newFlags(name).withAs().withJSON()
	reason := fs.String("reason", "", "why (required)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("%s --as SUPERVISOR SALE --reason TEXT (SALE: the sale's number or id)", name)
	}
	if _, err := terminal.ValidateReason(*reason); err != nil {
		return err
	}
	db, sup, err := m.openAs(ctx, fs.as)
	if err != nil {
		return err
	}
	saleID := pos[0]
	if n, err := strconv.ParseInt(saleID, 10, 64); err == nil {
		// The number on the slip and the screen.
		if saleID, err = db.SaleIDByNumber(ctx, n); err != nil {
			return err
		}
	}
	s, err := do(db, sup, saleID, *reason)
	if err != nil {
		return err
	}
	if fs.json {
		return m.printJSON(saleJSON(s, nil))
	}
	fmt.Fprintf(m.Stdout, "sale %d %s\n", s.Number, map[string]string{"void": "voided", "refund": "refunded"}[name])
	return nil
}

func (m *Main) cmdVoid(ctx context.Context, args []string) error {
	return m.voidOrRefund(ctx, "void", args, func(db *sqlite.DB, op *terminal.Operator, id, r string) (*terminal.Sale, error) {
		return db.Void(ctx, op, id, r)
	})
}

func (m *Main) cmdRefund(ctx context.Context, args []string) error {
	return m.voidOrRefund(ctx, "refund", args, func(db *sqlite.DB, op *terminal.Operator, id, r string) (*terminal.Sale, error) {
		return db.Refund(ctx, op, id, r)
	})
}
