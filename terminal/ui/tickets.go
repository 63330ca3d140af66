package ui

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

// TicketStore is what the kiosk needs of a store that keeps the site's
// prepaid tickets (*sqlite.DB is one): a scanned "ECT:…" is checked
// against the list held and let in once.
type TicketStore interface {
	CheckTicket(ctx context.Context, code string) (*ticket.Answer, error)
	UseTicket(ctx context.Context, op *terminal.Operator, code string, req ticket.UseRequest) (*ticket.Answer, error)
}

// ticketScreen checks a pass or a prepaid ticket and lets it in: the
// express lane's only screen (mode express: nothing is sold), and where a
// prepaid ticket scanned at the entry gate or the exit lane goes. A paid
// pass is let in once; a deferred one is sent to a staffed lane.
type ticketScreen struct {
	k *Kiosk

	scan    *entry
	check   *button
	admit   *button
	code    string // the ticket or pass on screen, to let in
	isPass  bool
	party   []terminal.LineRequest // keyed at the entry screen, larger than the ticket
	rest    *widget.Label
	refusal *widget.Label
	details *widget.Label
	hint    *widget.Label
	receipt *widget.Label
	msg     *message
	box     fyne.CanvasObject
}

func newTicketScreen(k *Kiosk) *ticketScreen {
	s := &ticketScreen{k: k, msg: newMessage()}
	s.scan = newEntry(T("ticket.scan_placeholder"))
	s.scan.scan = true
	s.scan.submit(s.checkScan)
	s.check = newPrimary(T("ticket.check"), s.checkScan)
	s.admit = newPrimary(T("ticket.admit"), s.letIn)
	s.admit.Hide()
	s.refusal = bigText("")
	s.refusal.Importance = widget.DangerImportance
	s.refusal.Wrapping = fyne.TextWrapWord
	s.refusal.Hide()
	s.details = bigText("")
	s.details.Wrapping = fyne.TextWrapWord
	s.details.Hide()
	s.rest = widget.NewLabel("")
	s.rest.Wrapping = fyne.TextWrapWord
	s.rest.Hide()
	s.hint = widget.NewLabel(T("express.hint"))
	s.hint.Wrapping = fyne.TextWrapWord
	s.receipt = bigText("")
	s.receipt.Importance = widget.SuccessImportance
	s.receipt.Wrapping = fyne.TextWrapWord
	scanRow := container.NewBorder(nil, nil, nil, s.check, s.scan)
	body := container.NewVBox(heading(T("ticket.title")), s.hint, s.refusal, s.details, s.rest, s.admit, s.receipt, s.msg.Label)
	s.box = container.NewPadded(container.NewBorder(panel(scanRow), nil, nil, nil, panel(container.NewVScroll(body))))
	return s
}

func (s *ticketScreen) content() fyne.CanvasObject { return s.box }

func (s *ticketScreen) shown() { s.k.win.Canvas().Focus(s.scan) }

// clear forgets what is on screen.
func (s *ticketScreen) clear() {
	s.code, s.isPass, s.party = "", false, nil
	s.say(s.refusal, "")
	s.say(s.rest, "")
	s.say(s.details, "")
	s.receipt.SetText("")
	s.admit.Hide()
	s.msg.clear()
}

func (s *ticketScreen) say(l *widget.Label, text string) {
	l.SetText(text)
	l.Hidden = text == ""
	l.Refresh()
}

// show checks text (scanned elsewhere, e.g. at the exit lane) here.
func (s *ticketScreen) show(text string) {
	k := s.k
	if k.current != k.tickets {
		k.show(k.tickets)
	}
	s.scan.SetText(text)
	s.checkScan()
}

// checkScan checks what was scanned. Nothing is stored.
func (s *ticketScreen) checkScan() {
	k := s.k
	text := strings.Join(strings.Fields(s.scan.Text), "")
	s.scan.SetText("")
	s.clear()
	defer k.win.Canvas().Focus(s.scan)
	if text == "" {
		s.msg.bad(T("ticket.scan_first"))
		return
	}
	if !ticket.IsCode(text) {
		s.checkPass(text)
		return
	}
	ts, ok := k.o.Store.(TicketStore)
	if !ok {
		s.msg.bad(T("ticket.unsupported"))
		return
	}
	ctx, cancel := k.ctx()
	defer cancel()
	a, err := ts.CheckTicket(ctx, text)
	if err != nil {
		s.msg.error(err)
		return
	}
	if a.Ticket != nil {
		s.say(s.details, s.describe(a.Ticket))
	}
	if a.Refusal != nil {
		s.say(s.refusal, refusalText(a.Refusal, k.lang))
		return
	}
	s.code = text
	s.admit.Show()
	if k.mode != "express" {
		s.hint.SetText(T("ticket.larger_party"))
		// A party counted at the entry screen before the scan: what the
		// ticket does not cover is sold with the use, in one transaction.
		if party := k.entry.lines(); len(party) > 0 {
			s.party = party
			if extra := ticket.ExtraLines(a.Ticket, party); len(extra) > 0 {
				parts := make([]string, 0, len(extra))
				for _, l := range extra {
					parts = append(parts, fmt.Sprintf("%d × %s", l.Qty, l.Code))
				}
				s.say(s.rest, T("ticket.rest", "Lines", strings.Join(parts, ", ")))
			}
		}
	}
}

// checkPass checks a pass: a paid one may be let in, a deferred one owes.
func (s *ticketScreen) checkPass(text string) {
	k := s.k
	ctx, cancel := k.ctx()
	defer cancel()
	q, err := k.o.Store.QuoteSettlement(ctx, text)
	switch {
	case pass.ReasonOf(err) != "":
		s.say(s.refusal, pass.ReasonOf(err).Message(k.lang))
	case terminal.ErrorKind(err) == terminal.ECONFLICT && q != nil && q.Check != nil && q.Check.State == "paid":
		p := q.Check.Pass
		s.say(s.details, T("express.pass", "ID", p.ID.String()[:8], "People", p.People(), "Plate", p.Plate))
		s.code, s.isPass = text, true
		s.admit.Show()
	case err != nil:
		s.msg.error(err)
	default:
		s.say(s.refusal, T("express.pass_owes", "Due", totals(q.Totals, k.base())))
	}
}

// letIn lets the ticket or pass on screen in, once.
func (s *ticketScreen) letIn() {
	k := s.k
	if s.code == "" || k.op == nil {
		return
	}
	defer k.win.Canvas().Focus(s.scan)
	ctx, cancel := k.ctx()
	defer cancel()
	var why, sold string
	if s.isPass {
		pc, err := k.o.Store.UsePass(ctx, k.op, s.code)
		if err != nil {
			s.msg.error(err)
			return
		}
		if pc.Refusal != nil {
			why = pc.Refusal.Message(k.lang)
		}
	} else {
		ts, _ := k.o.Store.(TicketStore)
		req := ticket.UseRequest{}
		if s.rest.Visible() {
			tenders, err := k.entry.tender.requests()
			if err != nil {
				s.msg.error(err)
				return
			}
			plate, _ := terminal.NormalizePlate(k.entry.plate.Text)
			req = ticket.UseRequest{Party: s.party, Vehicle: plate, Tenders: tenders}
		}
		a, err := ts.UseTicket(ctx, k.op, s.code, req)
		if err != nil {
			s.msg.error(err)
			return
		}
		if a.Refusal != nil {
			why = refusalText(a.Refusal, k.lang)
		}
		if a.Refusal == nil && s.party != nil {
			k.entry.reset() // the party keyed there came in on the ticket
			k.entry.changed()
		}
		if a.SaleID != "" {
			sold = a.SaleID
		}
	}
	details := s.details.Text
	s.clear()
	if why != "" {
		s.say(s.refusal, why)
		return
	}
	s.say(s.details, details)
	s.receipt.SetText(T("ticket.admitted"))
	if sold != "" {
		if sales, err := k.o.Store.Sales(ctx, k.o.Now().Add(-10*time.Minute)); err == nil {
			for _, x := range sales {
				if x.ID == sold {
					s.receipt.SetText(T("ticket.rest_sold", "Total", totals(x.Totals, k.base())))
				}
			}
		}
		if k.o.Notify != nil {
			k.o.Notify() // the receipt of the rest is in the spool
		}
	}
}

// describe is the ticket's party and vehicle, as the attendant checks
// them against the vehicle at the gate.
func (s *ticketScreen) describe(t *ticket.Ticket) string {
	groups := make([]string, 0, len(t.Party))
	for _, g := range t.Party {
		groups = append(groups, T("ticket.group", "Count", g.Count, "Category", g.Category, "Band", g.AgeBand))
	}
	vehicle := T("ticket.no_vehicle")
	if t.Vehicle != nil {
		vehicle = T("ticket.vehicle", "Plate", t.Vehicle.Plate, "Band", t.Vehicle.Band)
	}
	return T("ticket.details", "No", t.No, "Party", strings.Join(groups, ", "), "Vehicle", vehicle, "Until", t.ValidTo.In(s.k.loc()).Format("15:04 MST"))
}

// refusalText is a ticket's refusal in the kiosk's language: the pass
// reason's words, and the detail (which gate, when).
func refusalText(r *ticket.Refusal, lang string) string {
	return r.Reason.Message(lang) + "\n" + r.Message
}

// divertTicket moves a prepaid ticket's text typed into e (the entry
// gate's plate, a tender's code: a keyboard-wedge scanner types wherever
// the focus is) to the ticket screen's scan field, where the scanner's
// Enter checks it; at the express lane a pass's text goes there too. It
// reports whether it moved anything.
func (k *Kiosk) divertTicket(e *entry) bool {
	if k.tickets == nil || e == k.tickets.scan || k.op == nil || k.shift == nil || k.fatal != nil {
		return false
	}
	i := strings.Index(e.Text, ticket.Prefix)
	if k.mode == "express" {
		if j := strings.Index(e.Text, pass.TextPrefix); j >= 0 && (i < 0 || j < i) {
			i = j
		}
	}
	if i < 0 || len(k.win.Canvas().Overlays().List()) > 0 {
		return false
	}
	text := e.Text[i:]
	e.SetText(e.Text[:i])
	if k.current != k.tickets {
		k.show(k.tickets)
	}
	scan := k.tickets.scan
	scan.SetText(text)
	scan.CursorRow, scan.CursorColumn = 0, utf8.RuneCountInString(text)
	scan.Refresh()
	k.win.Canvas().Focus(scan)
	return true
}

// scannedTicket sends a prepaid ticket's code to the ticket screen; it
// reports whether text was one.
func (k *Kiosk) scannedTicket(text string) bool {
	if !ticket.IsCode(text) || k.tickets == nil {
		return false
	}
	k.tickets.show(text)
	return true
}
