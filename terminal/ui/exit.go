package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// exitScreen is the exit lane: a focused field takes the scanner's input
// (a keyboard wedge types the pass and Enter) or typed or pasted text; the
// pass is shown, or why it is refused; a deferred pass is settled.
type exitScreen struct {
	k *Kiosk

	scan    *entry
	check   *button
	text    string // the pass being settled
	quote   *terminal.SettleQuote
	refusal *widget.Label
	valid   *widget.Label // the big VALID of a good pass
	details *widget.Label
	hint    *widget.Label // what to do, while no pass is on screen
	total   *widget.Label
	tender  *tenderPanel
	settle  *button
	admit   *button // a paid pass: let it through once
	payBox  *fyne.Container
	msg     *message
	receipt *widget.Label
	box     fyne.CanvasObject
}

func newExitScreen(k *Kiosk) *exitScreen {
	s := &exitScreen{k: k, msg: newMessage()}
	s.scan = newEntry(T("exit.scan_placeholder"))
	s.scan.scan = true
	s.scan.submit(s.checkPass)
	s.check = newPrimary(T("exit.check"), s.checkPass)
	s.refusal = bigText("")
	s.refusal.Importance = widget.DangerImportance
	s.refusal.Wrapping = fyne.TextWrapWord
	s.refusal.Hide()
	s.valid = bigText(T("exit.valid"))
	s.valid.Importance = widget.SuccessImportance
	s.valid.Hide()
	s.details = widget.NewLabel("")
	s.details.Wrapping = fyne.TextWrapWord
	s.details.Hide()
	s.hint = widget.NewLabel(T("exit.hint"))
	s.hint.Wrapping = fyne.TextWrapWord
	s.total = bigText("")
	s.tender = newTenderPanel(k, s.settlePass, terminal.TenderCash, terminal.TenderMpesa, terminal.TenderCard)
	s.tender.edited = func() {
		if s.msg.isError() {
			s.msg.clear()
		}
	}
	s.settle = newPrimary(T("exit.settle"), s.settlePass)
	s.admit = newPrimary(T("exit.admit"), s.admitPass)
	s.admit.Hide()
	s.receipt = bold("")
	s.receipt.Importance = widget.SuccessImportance
	s.receipt.Wrapping = fyne.TextWrapWord

	scanRow := container.NewBorder(nil, nil, nil, s.check, s.scan)
	left := container.NewVBox(heading(T("exit.pass")), container.NewStack(s.refusal, s.valid), s.details, s.admit, s.receipt)
	s.payBox = container.NewVBox(heading(T("exit.to_pay")), s.total, widget.NewSeparator(), s.tender.box)
	s.payBox.Hide()
	s.settle.Hide()
	// Settle sits at the bottom of the panel, under a row kept for the
	// message: a conversion's preview or an error does not move it.
	right := atLeastWide(440, container.NewBorder(nil, container.NewVBox(reserve(1, s.msg.Label), s.settle), nil, nil, container.NewVScroll(container.NewVBox(s.hint, s.payBox))))
	top := panel(scanRow)
	s.box = container.NewPadded(container.NewBorder(top, nil, nil, panel(right), panel(container.NewVScroll(left))))
	return s
}

func (s *exitScreen) content() fyne.CanvasObject { return s.box }

func (s *exitScreen) shown() { s.k.win.Canvas().Focus(s.scan) }

// clear forgets the pass on screen.
func (s *exitScreen) clear() {
	s.text, s.quote = "", nil
	s.refuse("")
	s.valid.Hide()
	s.describeAs("")
	s.total.SetText("")
	s.admit.Hide()
	s.payBox.Hide()
	s.settle.Hide()
	s.hint.Show()
	s.tender.reset()
	s.msg.clear()
}

// describeAs shows the pass's details, or hides them.
func (s *exitScreen) describeAs(text string) {
	s.details.SetText(text)
	s.details.Hidden = text == ""
	s.details.Refresh()
}

// settledMark says when (site time, with the zone) and where the pass
// was settled.
func (s *exitScreen) settledMark(pc *terminal.PassCheck) (at, where string) {
	for _, m := range pc.Marks {
		if m.Mark == "settled" {
			at, where = m.At.In(s.k.loc()).Format("15:04 MST"), m.Terminal
		}
	}
	return at, where
}

// refuse shows why a pass is refused, or nothing.
func (s *exitScreen) refuse(why string) {
	s.refusal.Importance = widget.DangerImportance
	s.refusal.SetText(why)
	s.refusal.Hidden = why == ""
	s.refusal.Refresh()
}

// checkPass verifies what was scanned and says what it owes. Nothing is
// stored.
func (s *exitScreen) checkPass() {
	k := s.k
	text := strings.Join(strings.Fields(s.scan.Text), "") // a pass has no spaces
	s.scan.SetText("")
	if k.scannedTicket(text) { // a prepaid ticket (tickets.go)
		return
	}
	s.clear()
	s.receipt.SetText("")
	defer k.win.Canvas().Focus(s.scan)
	if text == "" {
		s.msg.bad(T("exit.scan_first"))
		return
	}
	ctx, cancel := k.ctx()
	defer cancel()
	q, err := k.o.Store.QuoteSettlement(ctx, text)
	if err != nil {
		reason := pass.ReasonOf(err)
		switch {
		case reason == pass.AlreadyUsed && q != nil && q.Check != nil && q.Check.State == "settled":
			// A pass settled at the exit and scanned again (to check, or a
			// second vehicle): say when and where it was settled, in amber,
			// not a bare "already used" that reads like a fraud.
			at, where := s.settledMark(q.Check)
			s.refuse(T("exit.already_settled", "Time", at, "Terminal", where))
			s.refusal.Importance = widget.WarningImportance
			s.refusal.Refresh()
			s.describeAs(s.describe(q.Check, nil))
		case reason != "":
			s.refuse(reason.Message(k.lang))
			if reason == pass.Revoked || reason == pass.AlreadyUsed || reason == pass.Expired {
				if q != nil && q.Check != nil {
					s.describeAs(s.describe(q.Check, nil))
				}
			}
		case terminal.ErrorKind(err) == terminal.ECONFLICT && q != nil && q.Check != nil && q.Check.State == "paid":
			s.describeAs(s.describe(q.Check, nil))
			s.text = text
			s.valid.Show()
			s.admit.Show()
		default:
			s.msg.error(err)
		}
		return
	}
	s.text, s.quote = text, q
	s.valid.Show()
	s.describeAs(s.describe(q.Check, q))
	s.total.SetText(totals(q.Totals, k.base()))
	s.tender.setDue(q.Totals)
	s.hint.Hide()
	s.payBox.Show()
	s.settle.Show()
}

// describe is the pass in words: party, vehicle, state, validity.
func (s *exitScreen) describe(pc *terminal.PassCheck, q *terminal.SettleQuote) string {
	k := s.k
	p := pc.Pass
	var ls []string
	for _, pl := range p.Party {
		ls = append(ls, partyLine(k, pl.Count, pl.Category, pl.Band))
	}
	if p.Plate != "" || p.SeatBand != "" {
		v := terminal.DisplayPlate(p.Plate)
		if p.SeatBand != "" {
			if v != "" {
				v += " · "
			}
			v += s.k.entry.vehicleName(p.SeatBand)
		}
		ls = append(ls, T("exit.vehicle", "Vehicle", v))
	}
	switch pc.State {
	case "paid":
		ls = append(ls, T("exit.state_paid"))
	case "settled":
		ls = append(ls, T("exit.state_settled"))
	default:
		due := terminal.Totals{}
		for _, a := range p.Due {
			due.Add(terminal.Currency(a.Currency), a.Minor)
		}
		ls = append(ls, T("exit.state_deferred", "Due", totals(due, k.base())))
	}
	if q != nil && len(q.Overstay) > 0 {
		over := terminal.Totals{}
		for _, l := range q.Overstay {
			over.Add(l.Currency, l.Total)
		}
		ls = append(ls, T("exit.overstay", "Amount", totals(over, k.base())))
	}
	ls = append(ls, T("exit.valid_until", "Time", p.ValidUntil.In(k.loc()).Format("2006-01-02 15:04 MST")))
	if p.Terminal != "" {
		ls = append(ls, T("exit.issued_by", "Terminal", p.Terminal))
	}
	return strings.Join(ls, "\n")
}

// settlePass takes the tender for a deferred pass and records the
// settlement, then the receipt prints.
func (s *exitScreen) settlePass() {
	k := s.k
	if s.quote == nil {
		s.msg.bad(T("exit.scan_first"))
		return
	}
	if k.op == nil || k.shift == nil {
		s.msg.bad(T("entry.no_shift"))
		return
	}
	tenders, err := s.tender.requests()
	if err != nil {
		s.msg.error(err)
		return
	}
	k.paySettlement(s.text, tenders, s.settled, s.refused)
}

// refused says why the pass or the payment was refused.
func (s *exitScreen) refused(err error) {
	if r := pass.ReasonOf(err); r != "" {
		s.msg.bad(r.Message(s.k.lang))
	} else {
		s.msg.error(err)
	}
}

// settled shows the receipt of a recorded settlement.
func (s *exitScreen) settled(res *terminal.SettleResult) {
	k := s.k
	k.printed(res.PrintJob)
	st := res.Settlement
	var paid []string
	for _, t := range st.Tenders {
		p := T("tender."+string(t.Kind)) + " " + money(t.Currency, t.Amount)
		if t.Bank != "" {
			p += " " + t.Bank
		}
		if t.Reference != "" {
			p += " " + t.Reference
		}
		if t.Change > 0 {
			p += " · " + T("tender.change", "Change", money(t.Currency, t.Change))
		}
		paid = append(paid, p)
	}
	printing := T("pass.no_printer")
	if res.PrintJob != "" {
		printing = T("exit.receipt_printing")
	}
	s.clear()
	said := T("exit.settled", "Total", totals(st.Totals, k.base()), "Paid", strings.Join(paid, "; "))
	s.receipt.SetText(said + "\n" + printing)
	k.watchPrint(res.PrintJob, func() {
		if s.receipt.Text == said+"\n"+printing { // still this settlement's receipt
			s.receipt.SetText(said + "\n" + T("exit.receipt_printed"))
		}
	})
	k.win.Canvas().Focus(s.scan)
}

// admitPass lets a paid pass through once: a second scan is refused.
func (s *exitScreen) admitPass() {
	k := s.k
	if s.text == "" || k.op == nil {
		return
	}
	ctx, cancel := k.ctx()
	defer cancel()
	pc, err := k.o.Store.UsePass(ctx, k.op, s.text)
	switch {
	case err != nil:
		s.msg.error(err)
	case pc.Refusal != nil:
		s.clear()
		s.refuse(pc.Refusal.Message(k.lang))
	default:
		s.clear()
		s.receipt.SetText(T("exit.admitted"))
	}
	k.win.Canvas().Focus(s.scan)
}
