package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
)

// supervisorGate asks for a supervisor's name and PIN before a guarded
// action: a void, a refund, a reprint, the settings, leaving the kiosk.
type supervisorGate struct {
	k      *Kiosk
	why    *widget.Label
	name   *entry
	pad    *pinPad
	msg    *message
	cancel *button
	popup  *widget.PopUp
	then   func(*terminal.Operator)
}

func newSupervisorGate(k *Kiosk) *supervisorGate {
	g := &supervisorGate{k: k, msg: newMessage()}
	g.why = bold("")
	g.why.Wrapping = fyne.TextWrapWord
	g.name = newEntry(T("login.name_placeholder"))
	g.name.submit(func() { k.win.Canvas().Focus(g.pad.field) })
	g.pad = newPINPad(T("sup.approve"), g.submit)
	g.cancel = newButton(T("common.cancel"), g.close)
	// The question and the message are beside the keypad, not above it:
	// the keypad opens at the same height whatever is asked, and stays
	// there after a refusal.
	words := container.NewVBox(heading(T("sup.gate_title")), g.why, g.msg.Label)
	keys := container.NewVBox(g.name, g.pad.box, g.cancel)
	g.popup = widget.NewModalPopUp(container.NewPadded(container.NewGridWithColumns(2, words, keys)), k.win.Canvas())
	return g
}

// open asks for a supervisor PIN, then calls then with the supervisor.
func (g *supervisorGate) open(why string, then func(*terminal.Operator)) {
	g.then = then
	g.why.SetText(why)
	g.msg.clear()
	g.pad.reset()
	g.name.SetText("")
	if op := g.k.op; op != nil && op.Role == terminal.RoleSupervisor {
		g.name.SetText(op.Name)
	}
	g.popup.Show()
	if g.name.Text == "" {
		g.k.win.Canvas().Focus(g.name)
	} else {
		g.k.win.Canvas().Focus(g.pad.field)
	}
}

func (g *supervisorGate) close() {
	g.pad.reset()
	g.popup.Hide()
}

func (g *supervisorGate) submit(pin string) {
	name := strings.TrimSpace(g.name.Text)
	if name == "" {
		g.msg.bad(T("login.no_name"))
		return
	}
	if pin == "" {
		g.msg.bad(T("login.no_pin"))
		return
	}
	ctx, cancel := g.k.ctx()
	defer cancel()
	op, err := g.k.o.Store.Authenticate(ctx, name, pin)
	g.pad.reset()
	if err != nil {
		g.msg.error(err)
		return
	}
	if op.Role != terminal.RoleSupervisor {
		g.msg.bad(T("sup.not_supervisor", "Name", op.Name))
		return
	}
	g.popup.Hide()
	if g.then != nil {
		g.then(op)
	}
}

// superScreen holds the supervisor's actions on recent sales (void,
// refund, reprint marked COPY), the settings, and leaving the kiosk.
type superScreen struct {
	k        *Kiosk
	sup      *terminal.Operator
	title    *widget.Label
	sales    []*terminal.Sale
	list     *widget.List
	selected *terminal.Sale
	detail   *widget.Label
	reason   *entry
	void     *button
	refund   *button
	reprint  *button
	msg      *message
	done     *button
	quit     *button
	setBtn   *button
	syncBtn  *button // "Sync now", with Options.SyncNow
	locked   *fyne.Container
	unlocks  map[string]*button // by operator name: those locked out now
	settings *settingsPanel
	salesBox fyne.CanvasObject
	body     *fyne.Container
	box      fyne.CanvasObject
}

func newSuperScreen(k *Kiosk) *superScreen {
	s := &superScreen{k: k, msg: newMessage()}
	s.title = heading("")
	s.list = widget.NewList(
		func() int { return len(s.sales) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.New(minHeight{MinTouch}, l)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(s.sales) {
				o.(*fyne.Container).Objects[0].(*widget.Label).SetText(s.saleLine(s.sales[i]))
			}
		},
	)
	s.list.OnSelected = func(i widget.ListItemID) {
		if i < len(s.sales) {
			s.choose(s.sales[i])
		}
	}
	s.detail = widget.NewLabel(T("sup.pick_sale"))
	s.detail.Wrapping = fyne.TextWrapWord
	s.reason = newEntry(T("sup.reason_placeholder"))
	clearOnEdit(s.msg, s.reason)
	s.void = newButton(T("sup.void"), s.voidSale)
	s.void.Importance = widget.DangerImportance
	s.refund = newButton(T("sup.refund"), s.refundSale)
	s.reprint = newButton(T("sup.reprint"), s.reprintSale)
	s.done = newButton(T("sup.done"), s.end)
	s.quit = newButton(T("sup.quit"), s.askClose)
	s.quit.Importance = widget.DangerImportance
	s.setBtn = newButton(T("sup.settings"), func() { s.showSettings() })
	s.settings = newSettingsPanel(k, s)

	s.locked = container.NewVBox()
	// The sale's details scroll in a fixed space: choosing a sale does
	// not move the reason field or the buttons.
	detail := container.NewVScroll(s.detail)
	detail.SetMinSize(fyne.NewSize(0, linesTall(6)))
	actions := container.NewVBox(bold(T("sup.sale")), detail, s.reason,
		container.NewGridWithColumns(3, s.void, s.refund, s.reprint), s.msg.Label,
		widget.NewSeparator(), bold(T("sup.locked")), s.locked)
	s.salesBox = container.NewBorder(nil, nil, nil, atLeastWide(460, panel(actions)),
		panel(container.NewBorder(bold(T("sup.recent")), nil, nil, nil, s.list)))
	s.body = container.NewStack(s.salesBox)
	top := container.NewHBox(s.title, layout.NewSpacer(), s.setBtn, s.quit, s.done)
	if k.o.SyncNow != nil {
		s.syncBtn = newButton(T("sup.sync_now"), s.syncNow)
		top = container.NewHBox(s.title, layout.NewSpacer(), s.syncBtn, s.setBtn, s.quit, s.done)
	}
	s.box = container.NewPadded(container.NewBorder(top, nil, nil, nil, s.body))
	return s
}

func (s *superScreen) content() fyne.CanvasObject { return s.box }

func (s *superScreen) shown() {
	if s.sup == nil {
		s.k.goHome()
		return
	}
	s.title.SetText(T("sup.title", "Name", s.sup.Name))
}

// begin starts a supervisor's session on this screen.
func (s *superScreen) begin(sup *terminal.Operator) {
	s.sup = sup
	s.selected = nil
	s.msg.clear()
	s.reason.SetText("")
	s.detail.SetText(T("sup.pick_sale"))
	s.body.Objects = []fyne.CanvasObject{s.salesBox}
	s.body.Refresh()
	s.load()
	s.loadLocked()
}

// loadLocked lists the operators locked out now, each with its Unlock.
func (s *superScreen) loadLocked() {
	k := s.k
	s.locked.RemoveAll()
	s.unlocks = map[string]*button{}
	ctx, cancel := k.ctx()
	defer cancel()
	ops, err := k.o.Store.Operators(ctx)
	if err != nil {
		s.msg.error(err)
		return
	}
	now := k.o.Now()
	for _, op := range ops {
		if !now.Before(op.LockedUntil) || !op.DisabledAt.IsZero() {
			continue
		}
		name := op.Name
		b := newButton(T("sup.unlock", "Name", name, "Time", op.LockedUntil.In(k.loc()).Format("15:04 MST")), func() { s.unlock(name) })
		s.unlocks[name] = b
		s.locked.Add(b)
	}
	if len(s.unlocks) == 0 {
		s.locked.Add(widget.NewLabel(T("sup.none_locked")))
	}
}

// unlock lifts name's lockout: the operator signs in again at once.
func (s *superScreen) unlock(name string) {
	if s.sup == nil {
		return
	}
	ctx, cancel := s.k.ctx()
	defer cancel()
	if _, err := s.k.o.Store.Unlock(ctx, s.sup, name); err != nil {
		s.msg.error(err)
		s.loadLocked()
		return
	}
	s.loadLocked()
	s.msg.good(T("sup.unlocked", "Name", name))
}

// end leaves the supervisor's screen.
func (s *superScreen) end() {
	s.sup = nil
	if s.k.op == nil {
		s.k.show(s.k.login)
	} else if s.k.shift == nil {
		s.k.show(s.k.shiftS)
	} else {
		s.k.goHome()
	}
}

// load lists the sales of the last two days, newest first.
func (s *superScreen) load() {
	ctx, cancel := s.k.ctx()
	defer cancel()
	sales, err := s.k.o.Store.Sales(ctx, s.k.o.Now().Add(-48*time.Hour))
	if err != nil {
		s.msg.error(err)
		return
	}
	slices.Reverse(sales)
	s.sales = sales
	s.list.UnselectAll()
	s.list.Refresh()
}

func (s *superScreen) saleLine(sale *terminal.Sale) string {
	parts := []string{fmt.Sprintf("#%d", sale.Number), sale.At.In(s.k.loc()).Format("15:04 MST")}
	if sale.Vehicle != "" {
		parts = append(parts, sale.Vehicle)
	}
	state := T("state." + string(sale.State))
	if sale.Kind == "refund" {
		state = T("state.refund")
	}
	parts = append(parts, state, totals(sale.Totals, s.k.base()))
	return strings.Join(parts, " · ")
}

func (s *superScreen) choose(sale *terminal.Sale) {
	s.selected = sale
	s.msg.clear()
	var ls []string
	ls = append(ls, s.saleLine(sale), T("sup.operator", "Name", sale.Operator))
	for _, l := range sale.Lines {
		name := s.k.lineName(l)
		ls = append(ls, fmt.Sprintf("%d × %s  %s", l.Qty, name, money(l.Currency, l.Total)))
	}
	if sale.Void != nil {
		ls = append(ls, T("sup.void_reason", "Reason", sale.Void.Reason, "Name", sale.Void.By))
	}
	s.detail.SetText(strings.Join(ls, "\n"))
}

// selectSale selects the sale numbered n, as a tap on its row would.
func (s *superScreen) selectSale(id string) bool {
	for i, sale := range s.sales {
		if sale.ID == id {
			s.list.Select(i)
			return true
		}
	}
	return false
}

func (s *superScreen) target() (*terminal.Sale, string, bool) {
	if s.sup == nil {
		return nil, "", false
	}
	if s.selected == nil {
		s.msg.bad(T("sup.pick_sale"))
		return nil, "", false
	}
	return s.selected, strings.TrimSpace(s.reason.Text), true
}

func (s *superScreen) voidSale() {
	s.reverse(func(sale *terminal.Sale) (string, string) {
		return T("sup.void_confirm", "N", sale.Number, "Amount", totals(sale.Totals, s.k.base())), T("sup.void")
	}, func(ctx context.Context, sale *terminal.Sale, reason string) (string, error) {
		v, err := s.k.o.Store.Void(ctx, s.sup, sale.ID, reason)
		if err != nil {
			return "", err
		}
		return T("sup.voided", "N", v.Number), nil
	})
}

func (s *superScreen) refundSale() {
	s.reverse(func(sale *terminal.Sale) (string, string) {
		return T("sup.refund_confirm", "N", sale.Number, "Amount", totals(sale.Totals, s.k.base())), T("sup.refund")
	}, func(ctx context.Context, sale *terminal.Sale, reason string) (string, error) {
		r, err := s.k.o.Store.Refund(ctx, s.sup, sale.ID, reason)
		if err != nil {
			return "", err
		}
		return T("sup.refunded", "N", sale.Number, "Amount", totals(r.Totals, s.k.base())), nil
	})
}

// reverse voids or refunds the selected sale with the reason typed, once
// the supervisor has confirmed it (ask gives the question and its
// button), and says what do did.
func (s *superScreen) reverse(ask func(*terminal.Sale) (question, yes string), do func(ctx context.Context, sale *terminal.Sale, reason string) (string, error)) {
	sale, reason, ok := s.target()
	if !ok {
		return
	}
	if reason == "" {
		s.msg.bad(T("sup.reason_needed"))
		return
	}
	question, yes := ask(sale)
	s.k.confirm(question, yes, func() {
		if s.sup == nil {
			return
		}
		ctx, cancel := s.k.ctx()
		defer cancel()
		done, err := do(ctx, sale, reason)
		if err != nil {
			s.msg.error(err)
			return
		}
		s.after(done)
	})
}

func (s *superScreen) reprintSale() {
	sale, _, ok := s.target()
	if !ok {
		return
	}
	ctx, cancel := s.k.ctx()
	defer cancel()
	job, err := s.k.o.Store.Reprint(ctx, s.sup, sale.ID)
	if err != nil {
		s.msg.error(err)
		return
	}
	s.k.printed(job)
	s.msg.good(T("sup.reprinted", "N", sale.Number))
}

// askClose asks before Lango closes. While a shift is open, closing
// leaves it open and the gate unattended: a supervisor's PIN is asked
// again after the confirmation, so a tap on the button next to Settings
// never closes the kiosk by itself.
func (s *superScreen) askClose() {
	k := s.k
	if k.shift == nil || k.op == nil {
		k.confirm(T("sup.quit_confirm"), T("sup.quit"), k.quit)
		return
	}
	name := k.op.Name
	k.confirm(T("sup.quit_shift_open", "Name", name), T("sup.quit_anyway"), func() {
		k.gate.open(T("quit.shift_open_why", "Name", name), func(*terminal.Operator) { k.quit() })
	})
}

// confirmPrompt asks before a costly action: what it will do, Cancel
// (focused, so a stray Enter cancels) and the action.
type confirmPrompt struct {
	what   *widget.Label
	cancel *button
	ok     *button
	popup  *widget.PopUp
}

// confirm asks whether to do what says, with action on the button that
// does it; then runs only if the action is tapped.
func (k *Kiosk) confirm(what, action string, then func()) *confirmPrompt {
	c := &confirmPrompt{what: bold(what)}
	c.what.Wrapping = fyne.TextWrapWord
	c.cancel = newButton(T("common.cancel"), func() { c.popup.Hide() })
	c.ok = newButton(action, func() {
		c.popup.Hide()
		then()
	})
	c.ok.Importance = widget.DangerImportance
	box := container.NewVBox(heading(T("confirm.title")), c.what, container.NewGridWithColumns(2, c.cancel, c.ok))
	c.popup = widget.NewModalPopUp(atLeastWide(480, container.NewPadded(box)), k.win.Canvas())
	k.adopt(box)
	k.prompt = c
	c.popup.Show()
	k.win.Canvas().Focus(c.cancel)
	return c
}

// after reloads the list and says what was done.
func (s *superScreen) after(done string) {
	s.load()
	s.selected = nil
	s.reason.SetText("")
	s.detail.SetText(T("sup.pick_sale"))
	s.msg.good(done)
}

func (s *superScreen) showSettings() {
	s.settings.load()
	s.body.Objects = []fyne.CanvasObject{s.settings.box}
	s.body.Refresh()
}

func (s *superScreen) showSales() {
	s.body.Objects = []fyne.CanvasObject{s.salesBox}
	s.body.Refresh()
}

// settingsPanel changes the terminal's settings; the store validates each
// value and a refusal is shown beside the field.
type settingsPanel struct {
	k      *Kiosk
	s      *superScreen
	fields map[string]*entry
	save   map[string]*button
	msgs   map[string]*message
	langs  map[string]*button
	modes  map[string]*button
	box    fyne.CanvasObject
}

func newSettingsPanel(k *Kiosk, s *superScreen) *settingsPanel {
	p := &settingsPanel{k: k, s: s, fields: map[string]*entry{}, save: map[string]*button{}, msgs: map[string]*message{},
		langs: map[string]*button{}, modes: map[string]*button{}}
	form := container.NewVBox()
	for _, key := range []string{"printer", "hub"} {
		p.fields[key] = newEntry(T("settings." + key + "_placeholder"))
		p.fields[key].submit(func() { p.set(key, p.fields[key].Text) })
		p.save[key] = newButton(T("settings.save"), func() { p.set(key, p.fields[key].Text) })
		p.msgs[key] = newMessage()
		form.Add(bold(T("settings." + key)))
		form.Add(container.NewBorder(nil, nil, nil, p.save[key], p.fields[key]))
		form.Add(p.msgs[key].Label)
	}
	// choices adds a setting chosen by a row of buttons, one per value.
	choices := func(key, title string, buttons map[string]*button, label func(v string) string, values ...string) {
		row := container.NewHBox()
		for _, v := range values {
			buttons[v] = newButton(label(v), func() { p.set(key, v) })
			row.Add(buttons[v])
		}
		p.msgs[key] = newMessage()
		form.Add(bold(title))
		form.Add(row)
		form.Add(p.msgs[key].Label)
	}
	choices("mode", T("settings.mode"), p.modes, func(m string) string { return T("settings.mode_" + m) }, "entry", "exit", "counter", "express")
	choices("language", T("settings.language"), p.langs, func(l string) string { return T("language." + l) }, "en", "sw")
	back := newButton(T("common.back"), s.showSales)
	p.box = panel(container.NewVScroll(container.NewVBox(heading(T("sup.settings")), form, back)))
	return p
}

// load shows the current settings.
func (p *settingsPanel) load() {
	ctx, cancel := p.k.ctx()
	defer cancel()
	if st, err := p.k.o.Store.Settings(ctx); err == nil {
		p.k.settings = st
	}
	for key, e := range p.fields {
		e.SetText(p.k.settings[key])
	}
	for m, b := range p.modes {
		b.setSelected(m == p.k.settings["mode"])
	}
	for l, b := range p.langs {
		b.setSelected(l == p.k.lang)
	}
	for _, m := range p.msgs {
		m.clear()
	}
}

// set stores one setting; the store refuses a bad value and says why.
func (p *settingsPanel) set(key, value string) {
	k := p.k
	sup := p.s.sup
	if sup == nil {
		return
	}
	ctx, cancel := k.ctx()
	defer cancel()
	v, err := k.o.Store.SetSetting(ctx, sup.Name, key, value)
	if err != nil {
		p.msgs[key].error(err)
		return
	}
	k.settings[key] = v
	switch key {
	case "language", "mode":
		if key == "mode" {
			k.mode = v
		}
		lang := k.lang
		if key == "language" {
			lang = v
		}
		// every screen is rebuilt in the new language or mode; the
		// supervisor stays on the settings
		k.setLanguage(lang)
		k.super.begin(sup)
		k.show(k.super)
		k.super.showSettings()
		k.super.settings.msgs[key].good(T("settings.saved"))
	default:
		p.fields[key].SetText(v)
		if k.o.Reconfigure != nil && k.o.Reconfigure(key, v) {
			p.msgs[key].good(T("settings.saved"))
		} else {
			p.msgs[key].good(T("settings.saved_restart"))
		}
	}
}

// syncNowTimeout bounds the supervisor's "Sync now": one exchange, which
// the sync client bounds per request too.
const syncNowTimeout = 2 * time.Minute

// syncNow runs one exchange with the hub off the UI goroutine (the
// network may take seconds), then says how it went and shows the sync
// state the store now holds. Closing the kiosk cancels it.
func (s *superScreen) syncNow() {
	k := s.k
	if k.o.SyncNow == nil || s.sup == nil {
		return
	}
	s.syncBtn.Disable()
	s.msg.say(widget.MediumImportance, T("sup.syncing"))
	ctx, cancel := context.WithTimeout(context.Background(), syncNowTimeout)
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- k.o.SyncNow(ctx) }()
		var err error
		select {
		case err = <-done:
		case <-k.stop:
			cancel()
			<-done
			return
		}
		fyne.Do(func() {
			s.syncBtn.Enable()
			if err != nil {
				s.msg.bad(T("sup.sync_failed", "Err", errText(err)))
			} else {
				s.msg.good(T("sup.synced"))
			}
			c, stop := k.ctx()
			defer stop()
			k.RefreshStatus(c)
		})
	}()
}
