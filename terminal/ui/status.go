package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
)

type printerState = printer.State

var (
	colOK   = color.NRGBA{0x12, 0x7a, 0x3a, 0xff}
	colWarn = color.NRGBA{0xc2, 0x5e, 0x00, 0xff}
	colBad  = color.NRGBA{0xb0, 0x00, 0x20, 0xff}
	colNone = color.NRGBA{0x55, 0x5f, 0x6a, 0xff}
)

// chip is a coloured box with white text in the status bar.
type chip struct {
	bg   *canvas.Rectangle
	text *canvas.Text
	box  fyne.CanvasObject
}

func newChip() *chip {
	c := &chip{bg: canvas.NewRectangle(colNone), text: canvas.NewText("", colPaper)}
	c.bg.CornerRadius = 6
	c.text.TextStyle.Bold = true
	c.text.TextSize = theme.TextSize() - 2
	c.box = container.NewStack(c.bg, container.New(layout.NewCustomPaddedLayout(8, 8, 12, 12), c.text))
	return c
}

func (c *chip) set(text string, bg color.Color) {
	c.text.Text = text
	c.bg.FillColor = bg
	c.text.Refresh()
	c.bg.Refresh()
}

// statusBar is always visible: the terminal, the sync state (online,
// events queued, age of the oldest unsynced), the printer, and who is
// signed in with which shift.
type statusBar struct {
	k        *Kiosk
	where    *chip
	sync     *chip
	printer  *chip
	who      *chip
	syncSt   *SyncState
	printSt  *printerState
	box      fyne.CanvasObject
	lastSync string // the sync chip's text, for tests
}

func newStatusBar(k *Kiosk) *statusBar {
	s := &statusBar{k: k, where: newChip(), sync: newChip(), printer: newChip(), who: newChip()}
	bg := canvas.NewRectangle(colBar)
	row := container.New(statusLayout{}, s.where.box, s.sync.box, s.printer.box, s.who.box)
	s.box = container.NewStack(bg, container.NewPadded(row))
	if k.o.Printer != nil {
		st := k.o.Printer.State()
		s.printSt = &st
	}
	s.update()
	return s
}

func (s *statusBar) setSync(st SyncState) {
	s.syncSt = &st
	s.update()
}

func (s *statusBar) setPrinter(st printerState) {
	s.printSt = &st
	s.update()
}

// update redraws every chip from what is known.
func (s *statusBar) update() {
	k := s.k
	where := "Lango"
	if k.ident.Name != "" {
		where = k.ident.Name + " · " + k.ident.Site
	}
	s.where.set(where, colNone)

	switch st := s.syncSt; {
	case st == nil:
		s.lastSync = T("sync.none")
		s.sync.set(s.lastSync, colWarn)
	default:
		text := T("sync.offline", "Queued", st.Queued)
		bg := color.Color(colWarn)
		if st.Online {
			text, bg = T("sync.online", "Queued", st.Queued), colOK
		}
		if st.Queued > 0 && !st.OldestUnsynced.IsZero() {
			text += " · " + T("sync.oldest", "Age", age(k.o.Now().Sub(st.OldestUnsynced)))
			if k.o.Now().Sub(st.OldestUnsynced) > 24*time.Hour {
				bg = colBad
			}
		}
		if st.CatalogueRefused != "" {
			text += " · " + T("sync.catalogue_refused", "Version", st.CatalogueRefused)
			if bg == colOK {
				bg = colWarn
			}
		}
		s.lastSync = text
		s.sync.set(text, bg)
	}

	switch st := s.printSt; {
	case st == nil:
		if k.settings["printer"] == "none" || k.settings["printer"] == "" {
			s.printer.set(T("printer.label", "State", T("printer.none")), colNone)
		} else {
			s.printer.set(T("printer.label", "State", T("printer.unknown")), colNone)
		}
	case st.At.IsZero():
		s.printer.set(T("printer.label", "State", T("printer.unknown")), colNone)
	default:
		code := st.Code()
		bg := colBad
		switch code {
		case "ready":
			bg = colOK
		case "paper_low":
			bg = colWarn
		}
		s.printer.set(T("printer.label", "State", T("printer."+code)), bg)
	}

	bg := colNone
	if k.op != nil && k.shift != nil {
		bg = colPrimary
	} else if k.op != nil {
		bg = colWarn
	}
	s.who.set(k.shiftLabel(), bg)
}

// age says how long ago in the attendant's words: "5 min", "2 h 05 min".
func age(d time.Duration) string {
	if d < time.Minute {
		return T("age.now")
	}
	m := int(d / time.Minute)
	switch {
	case m < 60:
		return T("age.min", "M", m)
	case m < 24*60:
		return T("age.hours", "H", m/60, "M", m%60)
	}
	return T("age.days", "D", m/(24*60), "H", m/60%24)
}

// navBar switches screens: the lanes of the terminal's mode, the shift,
// the supervisor, the language, and signing out.
type navBar struct {
	k       *Kiosk
	entry   *button
	exit    *button
	counter *button
	express *button
	shift   *button
	super   *button
	lang    *button
	logout  *button
	lanes   *fyne.Container
	session *fyne.Container
	box     fyne.CanvasObject
}

func newNavBar(k *Kiosk) *navBar {
	n := &navBar{k: k}
	n.entry = newButton(T("nav.entry"), func() { k.show(k.entry) })
	n.exit = newButton(T("nav.exit"), func() { k.show(k.exit) })
	n.counter = newButton(T("nav.counter"), func() { k.show(k.counter) })
	n.express = newButton(T("nav.express"), func() { k.show(k.tickets) })
	n.shift = newButton(T("nav.shift"), func() { k.show(k.shiftS) })
	n.super = newButton(T("nav.supervisor"), func() {
		k.gate.open(T("sup.why"), func(sup *terminal.Operator) { k.super.begin(sup); k.show(k.super) })
	})
	other := "sw"
	if k.lang == "sw" {
		other = "en"
	}
	n.lang = newButton(T("nav.language_"+other), func() { k.switchLanguage(other) })
	n.logout = newButton(T("nav.logout"), func() { k.logout() })
	n.lanes = container.NewHBox()
	if k.mode == "counter" {
		n.lanes.Add(n.counter)
	} else if k.mode == "express" {
		n.lanes.Add(n.express) // scans only: no selling, no settling
	} else {
		n.lanes.Add(n.entry)
		n.lanes.Add(n.exit)
	}
	n.session = container.NewHBox(n.shift, n.super, n.logout)
	n.box = container.NewPadded(container.NewHBox(n.lanes, layout.NewSpacer(), n.session, n.lang))
	return n
}

// update shows which screen is current and hides what a signed-out or
// shift-less attendant cannot use.
func (n *navBar) update() {
	k := n.k
	signed := k.op != nil
	working := signed && k.shift != nil
	for _, b := range []*button{n.entry, n.exit, n.counter, n.express} {
		if working {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if signed {
		n.session.Show()
	} else {
		n.session.Hide()
	}
	n.lanes.Hidden = !signed
	n.entry.setSelected(k.current == k.entry)
	n.exit.setSelected(k.current == k.exit)
	n.counter.setSelected(k.current == k.counter)
	n.express.setSelected(k.current == k.tickets)
	n.shift.setSelected(k.current == k.shiftS)
	n.super.setSelected(k.current == k.super)
	n.lanes.Refresh()
}

// tapHome goes to the mode's screen; tapOther to the other lane.
func (n *navBar) tapHome() {
	if n.k.shift != nil {
		n.k.goHome()
	}
}

func (n *navBar) tapOther() {
	k := n.k
	if k.shift == nil || k.mode == "counter" || k.mode == "express" {
		return
	}
	if k.current == k.entry {
		k.show(k.exit)
	} else {
		k.show(k.entry)
	}
}

// switchLanguage changes every text to lang and, when someone is signed
// in, the terminal's language setting too.
func (k *Kiosk) switchLanguage(lang string) {
	if k.op != nil {
		ctx, cancel := k.ctx()
		defer cancel()
		if v, err := k.o.Store.SetSetting(ctx, k.op.Name, "language", lang); err == nil {
			k.settings["language"] = v
		}
	}
	k.setLanguage(lang)
}

// statusLayout puts the first object at the left and the others at the
// right, each at its minimum size, hiding the first when they do not all
// fit. It asks for no width, so a long status never widens the window.
type statusLayout struct{}

func (statusLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(0, h)
}

func (statusLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	pad := theme.Padding()
	x := size.Width
	for i := len(objs) - 1; i >= 1; i-- {
		m := objs[i].MinSize()
		x -= m.Width
		objs[i].Move(fyne.NewPos(x, (size.Height-m.Height)/2))
		objs[i].Resize(m)
		x -= pad
	}
	first := objs[0]
	m := first.MinSize()
	if fits := m.Width <= x; fits != first.Visible() {
		if fits {
			first.Show()
		} else {
			first.Hide()
		}
	}
	first.Move(fyne.NewPos(0, (size.Height-m.Height)/2))
	first.Resize(m)
}
