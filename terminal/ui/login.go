package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// loginScreen signs an operator in: the name typed or tapped, the PIN on
// big digit buttons, never shown.
type loginScreen struct {
	k     *Kiosk
	name  *entry
	names *fyne.Container
	pad   *pinPad
	msg   *message
	box   fyne.CanvasObject
}

func newLoginScreen(k *Kiosk) *loginScreen {
	s := &loginScreen{k: k, msg: newMessage()}
	s.name = newEntry(T("login.name_placeholder"))
	s.name.submit(func() { k.win.Canvas().Focus(s.pad.field) })
	s.pad = newPINPad(T("login.sign_in"), s.submit)
	s.names = container.NewGridWithColumns(2)
	left := container.NewVBox(heading(T("login.who")), s.name, widget.NewLabel(T("login.tap_name")), s.names)
	right := container.NewVBox(heading(T("login.pin")), s.pad.box, s.msg.Label)
	title := bigText(T("login.title"))
	form := container.NewGridWithColumns(2, panel(left), panel(atLeastWide(360, right)))
	s.box = container.NewPadded(container.NewVBox(title, form, layout.NewSpacer()))
	return s
}

func (s *loginScreen) content() fyne.CanvasObject { return s.box }

func (s *loginScreen) shown() {
	s.pad.reset()
	s.names.RemoveAll()
	ctx, cancel := s.k.ctx()
	defer cancel()
	ops, err := s.k.o.Store.Operators(ctx)
	if err == nil {
		for i, op := range ops {
			if i == 12 {
				break // the rest type their name
			}
			name := op.Name
			s.names.Add(newButton(name, func() { s.pick(name) }))
		}
	}
	if s.name.Text == "" {
		s.k.win.Canvas().Focus(s.name)
	} else {
		s.k.win.Canvas().Focus(s.pad.field)
	}
}

// pick chooses an operator by name.
func (s *loginScreen) pick(name string) {
	s.name.SetText(name)
	s.msg.clear()
	s.k.win.Canvas().Focus(s.pad.field)
}

func (s *loginScreen) submit(pin string) {
	name := strings.TrimSpace(s.name.Text)
	switch {
	case name == "":
		s.msg.bad(T("login.no_name"))
		return
	case pin == "":
		s.msg.bad(T("login.no_pin"))
		return
	}
	ctx, cancel := s.k.ctx()
	defer cancel()
	op, err := s.k.o.Store.Authenticate(ctx, name, pin)
	s.pad.reset()
	if err != nil {
		s.msg.error(err)
		return
	}
	s.msg.clear()
	s.name.SetText("")
	if err := s.k.signedIn(op); err != nil {
		s.msg.error(err)
	}
}
