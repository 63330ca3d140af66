package ui

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
)

// shiftScreen opens the operator's shift with a float per currency, and
// closes it with the cash counted, showing the Z-report.
type shiftScreen struct {
	k *Kiosk

	// opening
	float   map[terminal.Currency]*entry
	open    *button
	openBox fyne.CanvasObject

	// closing
	info     *widget.Label
	counted  map[terminal.Currency]*entry
	close    *button
	confirm  *fyne.Container // "close with …? yes / back"
	confirmQ *widget.Label
	yes      *button
	back     *button
	closeBox fyne.CanvasObject

	// after closing
	z      *terminal.ZReport
	zBox   *fyne.Container
	done   *button
	report fyne.CanvasObject

	msg  *message
	body *fyne.Container
	box  fyne.CanvasObject
}

func newShiftScreen(k *Kiosk) *shiftScreen {
	s := &shiftScreen{k: k, float: map[terminal.Currency]*entry{}, counted: map[terminal.Currency]*entry{}, msg: newMessage()}
	curs := s.currencies()

	floatForm := container.NewGridWithColumns(2)
	for i, c := range curs {
		e := newEntry("0")
		if i == len(curs)-1 {
			e.submit(s.openShift)
		} else {
			next := i + 1
			e.submit(func() { k.win.Canvas().Focus(s.float[curs[next]]) })
		}
		s.float[c] = e
		floatForm.Add(bold(T("shift.float_in", "Currency", string(c))))
		floatForm.Add(e)
	}
	s.open = newPrimary(T("shift.open"), s.openShift)
	s.openBox = container.NewVBox(heading(T("shift.open_title")), widget.NewLabel(T("shift.float_help")), floatForm, s.open)

	s.info = widget.NewLabel("")
	countForm := container.NewGridWithColumns(2)
	for i, c := range curs {
		e := newEntry("0")
		if i == len(curs)-1 {
			e.submit(s.askClose)
		} else {
			next := i + 1
			e.submit(func() { k.win.Canvas().Focus(s.counted[curs[next]]) })
		}
		s.counted[c] = e
		countForm.Add(bold(T("shift.counted_in", "Currency", string(c))))
		countForm.Add(e)
	}
	s.close = newPrimary(T("shift.close"), s.askClose)
	for _, c := range curs {
		clearOnEdit(s.msg, s.float[c], s.counted[c])
	}
	s.confirmQ = bold("")
	s.confirmQ.Wrapping = fyne.TextWrapWord
	s.yes = newPrimary(T("shift.close_yes"), s.closeShift)
	s.yes.Importance = widget.DangerImportance
	s.back = newButton(T("common.back"), func() { s.confirm.Hide(); s.close.Show() })
	s.confirm = container.NewVBox(s.confirmQ, container.NewGridWithColumns(2, s.back, s.yes))
	s.confirm.Hide()
	s.closeBox = container.NewVBox(heading(T("shift.close_title")), s.info, widget.NewLabel(T("shift.count_help")), countForm, s.close, s.confirm)

	s.zBox = container.NewVBox()
	s.done = newPrimary(T("shift.done"), func() { s.z = nil; k.logout() })
	s.report = container.NewVBox(heading(T("z.title")), s.zBox, s.done)

	s.body = container.NewStack()
	s.box = container.NewCenter(container.NewPadded(atLeastWide(640, panel(container.NewVBox(s.body, s.msg.Label)))))
	return s
}

// currencies are those a drawer may hold: the base and those with a rate.
func (s *shiftScreen) currencies() []terminal.Currency { return s.k.cashCurrencies() }

func (s *shiftScreen) content() fyne.CanvasObject { return s.box }

func (s *shiftScreen) shown() {
	s.msg.clear()
	switch {
	case s.z != nil:
		s.body.Objects = []fyne.CanvasObject{s.report}
	case s.k.shift == nil:
		s.body.Objects = []fyne.CanvasObject{s.openBox}
		s.k.win.Canvas().Focus(s.float[s.k.base()])
	default:
		sh := s.k.shift
		s.info.SetText(T("shift.open_since", "Time", sh.OpenedAt.In(s.k.loc()).Format("15:04 MST"), "Float", totals(sh.Float, s.k.base())))
		s.confirm.Hide()
		s.close.Show()
		s.body.Objects = []fyne.CanvasObject{s.closeBox}
		s.k.win.Canvas().Focus(s.counted[s.k.base()])
	}
	s.body.Refresh()
}

// amounts reads one amount per currency; empty is zero.
func (s *shiftScreen) amounts(fields map[terminal.Currency]*entry) (terminal.Totals, error) {
	t := terminal.Totals{}
	for _, c := range s.currencies() {
		text := strings.TrimSpace(fields[c].Text)
		if text == "" {
			continue
		}
		v, err := terminal.ParseMajor(c, text)
		if err != nil {
			return nil, errorf("amount.invalid_in", "Text", text, "Currency", string(c))
		}
		t[c] = v
	}
	return t, nil
}

func (s *shiftScreen) openShift() {
	float, err := s.amounts(s.float)
	if err != nil {
		s.msg.error(err)
		return
	}
	ctx, cancel := s.k.ctx()
	defer cancel()
	sh, err := s.k.o.Store.OpenShift(ctx, s.k.op, float)
	if err != nil {
		s.msg.error(err)
		return
	}
	for _, e := range s.float {
		e.SetText("")
	}
	s.k.shift = sh
	s.k.goHome()
}

// askClose checks the count and asks to confirm: closing cannot be undone.
func (s *shiftScreen) askClose() {
	counted, err := s.amounts(s.counted)
	if err != nil {
		s.msg.error(err)
		return
	}
	s.msg.clear()
	s.confirmQ.SetText(T("shift.close_confirm", "Counted", totals(counted, s.k.base())))
	s.close.Hide()
	s.confirm.Show()
	s.k.win.Canvas().Focus(s.yes)
}

func (s *shiftScreen) closeShift() {
	counted, err := s.amounts(s.counted)
	if err != nil {
		s.msg.error(err)
		return
	}
	ctx, cancel := s.k.ctx()
	defer cancel()
	z, err := s.k.o.Store.CloseShift(ctx, s.k.op, counted)
	var te *terminal.Error
	if errors.As(err, &te) && te.ID == "shift_open_passes" {
		s.askNaming(counted, te)
		return
	}
	if err != nil {
		s.confirm.Hide()
		s.close.Show()
		s.msg.error(err)
		return
	}
	s.closed(ctx, z)
}

// askNaming asks a supervisor to name the deferred passes of the shift
// still owed, which the Z-report then lists: the shift closes only so
// (the store's rule, terminal.CheckOpenPassesNamed). The question lists
// them; the supervisor's PIN names every one.
func (s *shiftScreen) askNaming(counted terminal.Totals, refusal *terminal.Error) {
	s.confirm.Hide()
	s.close.Show()
	s.msg.error(refusal)
	ctx, cancel := s.k.ctx()
	defer cancel()
	all, err := s.k.o.Store.Unsettled(ctx)
	if err != nil {
		s.msg.error(err)
		return
	}
	var ids []string
	for _, u := range all {
		if s.k.shift != nil && u.ShiftID == s.k.shift.ID {
			ids = append(ids, u.SaleID)
		}
	}
	s.k.gate.open(T("shift.name_open_passes", "Passes", refusal.Args["Passes"]), func(sup *terminal.Operator) {
		ctx, cancel := s.k.ctx()
		defer cancel()
		z, err := s.k.o.Store.CloseShiftNaming(ctx, s.k.op, counted, terminal.OpenPassNaming{Supervisor: sup, Passes: ids})
		if err != nil {
			s.msg.error(err)
			return
		}
		s.closed(ctx, z)
	})
}

// closed shows the Z-report of a shift just closed and queues its print.
func (s *shiftScreen) closed(ctx context.Context, z *terminal.ZReport) {
	s.msg.clear()
	for _, e := range s.counted {
		e.SetText("")
	}
	s.z = z
	s.k.shift = nil
	s.showZ(z)
	s.k.show(s)
	// the shift is closed whatever the printer does: a failure to queue
	// the Z-report's print is said, not fatal
	if job, err := s.k.o.Store.QueuePrint(ctx, "zreport", z.ShiftID); err != nil {
		s.msg.error(err)
	} else {
		s.k.printed(job)
	}
	s.k.win.Canvas().Focus(s.done)
}

// showZ lays out the Z-report as it prints: counts, takings by tender,
// and the cash drawer expected against counted.
func (s *shiftScreen) showZ(z *terminal.ZReport) {
	base := s.k.base()
	counts := container.New(layout.NewFormLayout())
	cash := container.New(layout.NewFormLayout())
	row := func(g *fyne.Container, label, value string) *widget.Label {
		v := bold(value)
		g.Add(widget.NewLabel(label))
		g.Add(v)
		return v
	}
	row(counts, T("z.operator"), z.Operator)
	row(counts, T("z.opened"), z.OpenedAt.In(s.k.loc()).Format("2006-01-02 15:04 MST"))
	row(counts, T("z.closed"), z.ClosedAt.In(s.k.loc()).Format("2006-01-02 15:04 MST"))
	row(counts, T("z.sales"), strconv.Itoa(z.Sales))
	row(counts, T("z.deferred"), T("z.deferred_value", "N", z.Deferred, "Due", totals(z.DeferredDue, base)))
	row(counts, T("z.settlements"), strconv.Itoa(z.Settlements))
	row(counts, T("z.voided"), strconv.Itoa(z.Voided))
	row(counts, T("z.refunds"), strconv.Itoa(z.Refunds))
	for _, t := range z.Tenders {
		row(cash, T("z.tender", "Tender", T("tender."+string(t.Tender)), "N", t.Count), money(t.Currency, t.Amount))
	}
	row(cash, T("z.float"), totals(z.Float, base))
	row(cash, T("z.expected"), totals(z.Expected, base))
	row(cash, T("z.counted"), totals(z.Counted, base))
	v := row(cash, T("z.variance"), totals(z.Variance, base))
	v.Importance = widget.SuccessImportance
	if len(z.Variance.Clone().Clean()) > 0 {
		v.Importance = widget.DangerImportance
	}
	s.zBox.Objects = []fyne.CanvasObject{container.NewHBox(counts, widget.NewSeparator(), cash)}
	s.zBox.Refresh()
}

// zText is the Z-report's values as shown, for tests.
func (s *shiftScreen) zText() string {
	var b strings.Builder
	for _, o := range s.zBox.Objects {
		walk(o, func(o fyne.CanvasObject) {
			if l, ok := o.(*widget.Label); ok {
				b.WriteString(l.Text)
				b.WriteByte('\n')
			}
		})
	}
	return b.String()
}
