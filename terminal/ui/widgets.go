package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
)

// button is a widget.Button at least MinTouch square that also fires on
// Enter when focused (fyne's fires on Space only), so Tab and Enter reach
// every action.
type button struct {
	widget.Button
	min fyne.Size
	k   *Kiosk // set by Kiosk.adopt: function keys reach the kiosk while b has focus
}

func newButton(label string, tapped func()) *button {
	b := &button{min: fyne.NewSquareSize(MinTouch)}
	b.Text = label
	b.OnTapped = tapped
	b.ExtendBaseWidget(b)
	return b
}

// newIconButton is a button showing an icon only, such as + and −.
func newIconButton(icon fyne.Resource, tapped func()) *button {
	b := newButton("", tapped)
	b.Icon = icon
	return b
}

// newPrimary is a button of high importance: the one action of a screen.
func newPrimary(label string, tapped func()) *button {
	b := newButton(label, tapped)
	b.Importance = widget.HighImportance
	b.min.Height = MinTouch + 16
	return b
}

func (b *button) MinSize() fyne.Size { return b.Button.MinSize().Max(b.min) }

func (b *button) TypedKey(ev *fyne.KeyEvent) {
	if functionKey(b, b.k, ev) {
		return
	}
	if ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter {
		b.Tapped(nil)
		return
	}
	b.Button.TypedKey(ev)
}

// setSelected shows b as the chosen one of a group.
func (b *button) setSelected(on bool) {
	if on {
		b.Importance = widget.HighImportance
	} else {
		b.Importance = widget.MediumImportance
	}
	b.Refresh()
}

// entry is a single-line widget.Entry at least MinTouch tall. Once the
// kiosk adopts it, the function keys typed while it has focus reach the
// kiosk, and a pass's text typed into it (a keyboard-wedge scanner, while
// the wrong field had focus) goes to the pass check instead.
type entry struct {
	widget.Entry
	k    *Kiosk // set by Kiosk.adopt
	scan bool   // the exit lane's scan field: a pass belongs here
}

func (e *entry) TypedKey(ev *fyne.KeyEvent) {
	if functionKey(e, e.k, ev) {
		return
	}
	e.Entry.TypedKey(ev)
}

// functionKey hands a function key typed into o, a focused widget, to the
// kiosk k (or, when no kiosk adopted o, to the handler of o's canvas) and
// reports whether ev was one: the window's driver gives keys to the
// focused widget, never to the canvas.
func functionKey(o fyne.CanvasObject, k *Kiosk, ev *fyne.KeyEvent) bool {
	if !isFunctionKey(ev.Name) {
		return false
	}
	if k != nil {
		k.typedKey(ev)
		return true
	}
	if a := fyne.CurrentApp(); a != nil {
		if c := a.Driver().CanvasForObject(o); c != nil && c.OnTypedKey() != nil {
			c.OnTypedKey()(ev)
		}
	}
	return true
}

func (e *entry) TypedRune(r rune) {
	e.Entry.TypedRune(r)
	if e.k != nil && !e.scan {
		e.k.divertScan(e)
	}
}

func newEntry(placeholder string) *entry {
	e := &entry{}
	e.PlaceHolder = placeholder
	e.ExtendBaseWidget(e)
	return e
}

func (e *entry) MinSize() fyne.Size {
	return e.Entry.MinSize().Max(fyne.NewSize(MinTouch*2, MinTouch))
}

// submit makes Enter in e call fn.
func (e *entry) submit(fn func()) *entry {
	e.OnSubmitted = func(string) { fn() }
	return e
}

// message is the inline line under a form: an error in red, or a result in
// green. It never opens a dialog, so the attendant's flow is not broken.
type message struct {
	*widget.Label
}

func newMessage() *message {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.TextStyle.Bold = true
	l.Hide() // takes no room until it has something to say
	return &message{l}
}

// oneLine folds whitespace so a message is one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// error shows err's message for the attendant.
func (m *message) error(err error) { m.bad(errText(err)) }

// pluralArg names, for a store message that says a count, the argument
// whose number chooses the plural form; "" for the others.
func pluralArg(id string) string {
	switch id {
	case "wrong_pin_tries":
		return "Left"
	}
	return ""
}

// errText says err in the kiosk's language when the error names its
// message (terminal.Error's ID) and the translations have it; else the
// store's English message.
func errText(err error) string {
	if id, args := terminal.ErrorID(err); id != "" {
		key := "err." + id
		kv := make([]any, 0, 2*len(args))
		for k, v := range args {
			kv = append(kv, k, v)
		}
		s := T(key, kv...)
		if arg := pluralArg(id); arg != "" {
			if n, ok := args[arg].(int); ok {
				s = TN(key, n, kv...)
			}
		}
		if s != key {
			return s
		}
	}
	return terminal.ErrorMessage(err)
}

func (m *message) bad(s string) { m.say(widget.DangerImportance, s) }

func (m *message) good(s string) { m.say(widget.SuccessImportance, s) }

func (m *message) say(imp widget.Importance, s string) {
	m.Importance = imp
	m.SetText(oneLine(s))
	m.Show()
}

func (m *message) clear() {
	m.SetText("")
	m.Hide()
}

// isError reports whether m shows an error.
// clearOnEdit makes an edit of any of es take m's error away: the error
// said what was wrong with the input, which is being fixed. What the
// fields did on a change they still do.
func clearOnEdit(m *message, es ...*entry) {
	for _, e := range es {
		prev := e.OnChanged
		e.OnChanged = func(text string) {
			if m.isError() {
				m.clear()
			}
			if prev != nil {
				prev(text)
			}
		}
	}
}

func (m *message) isError() bool { return m.Text != "" && m.Importance == widget.DangerImportance }

// heading is a large bold label.
func heading(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

// bigText is a very large bold label, for totals.
func bigText(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	l.SizeName = theme.SizeNameHeadingText
	return l
}

func bold(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	return l
}

// panel puts a light background behind o, to group a screen's parts.
func panel(o fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(colPanel)
	bg.CornerRadius = 8
	bg.StrokeColor = color.NRGBA{0xc4, 0xcc, 0xd4, 0xff}
	bg.StrokeWidth = 1
	return container.NewStack(bg, container.NewPadded(o))
}

// fixedWidth lays out its objects stacked, at least w wide.
type fixedWidth struct{ w float32 }

func (f fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := layout.NewStackLayout().MinSize(objs)
	return fyne.NewSize(max(s.Width, f.w), s.Height)
}

func (f fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	layout.NewStackLayout().Layout(objs, size)
}

func atLeastWide(w float32, o fyne.CanvasObject) *fyne.Container {
	return container.New(fixedWidth{w}, o)
}

// pinPad is a PIN field whose digits are never shown, with big digit
// buttons; a keyboard types into the field and Enter submits.
type pinPad struct {
	field  *entry
	digits [10]*button
	back   *button
	clear  *button
	ok     *button
	box    fyne.CanvasObject
}

func newPINPad(okLabel string, submit func(pin string)) *pinPad {
	p := &pinPad{}
	p.field = newEntry(T("pin.placeholder"))
	p.field.Password = true
	// no reveal button: a PIN is never shown
	p.field.ActionItem = canvas.NewRectangle(color.Transparent)
	p.field.OnChanged = func(s string) {
		clean := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		if len(clean) > 12 {
			clean = clean[:12]
		}
		if clean != s {
			p.field.SetText(clean)
		}
	}
	p.field.submit(func() { submit(p.field.Text) })
	for d := range 10 {
		digit := string(rune('0' + d))
		p.digits[d] = newButton(digit, func() { p.field.SetText(p.field.Text + digit) })
		p.digits[d].min = fyne.NewSize(MinTouch+24, MinTouch+8)
	}
	p.back = newButton(T("pin.back"), func() {
		if t := p.field.Text; t != "" {
			p.field.SetText(t[:len(t)-1])
		}
	})
	p.clear = newButton(T("pin.clear"), func() { p.field.SetText("") })
	p.ok = newPrimary(okLabel, func() { submit(p.field.Text) })
	grid := container.NewGridWithColumns(3,
		p.digits[1], p.digits[2], p.digits[3],
		p.digits[4], p.digits[5], p.digits[6],
		p.digits[7], p.digits[8], p.digits[9],
		p.clear, p.digits[0], p.back,
	)
	p.box = container.NewVBox(p.field, grid, p.ok)
	return p
}

// reset empties the field.
func (p *pinPad) reset() { p.field.SetText("") }

// money formats an amount for the screen: "KES 5,300.00".
func money(c terminal.Currency, minor int64) string {
	return terminal.Money{Currency: c, Minor: minor}.String()
}

// totals formats amounts per currency, or a zero in base.
func totals(t terminal.Totals, base terminal.Currency) string {
	t = t.Clone().Clean()
	if len(t) == 0 {
		return money(base, 0)
	}
	return t.String()
}

// minHeight lays out its objects stacked, at least h tall.
type minHeight struct{ h float32 }

func (m minHeight) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := layout.NewStackLayout().MinSize(objs)
	return fyne.NewSize(s.Width, max(s.Height, m.h))
}

func (m minHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	layout.NewStackLayout().Layout(objs, size)
}

// tile is a big button whose label is a left-aligned title over a
// caption: a service at the counter.
func tile(title, caption string, tapped func()) (*button, fyne.CanvasObject) {
	b := newButton("", tapped)
	t := bold(title)
	t.Truncation = fyne.TextTruncateEllipsis
	c := widget.NewLabel(caption)
	c.Truncation = fyne.TextTruncateEllipsis
	text := container.New(layout.NewCustomPaddedVBoxLayout(-14), t, c)
	return b, container.NewStack(b, text)
}

// walk calls fn on every object under o.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case *container.Scroll:
		walk(x.Content, fn)
	}
}

// linesTall is the height of a label of n lines of body text: what a row
// reserves for a message or a preview that may wrap.
func linesTall(n int) float32 {
	return widget.NewLabel(strings.Repeat("Ag\n", n-1) + "Ag").MinSize().Height
}

// reserve keeps a row of n lines for o, shown or hidden, so that what
// comes after it does not move when o appears, wraps or goes.
func reserve(n int, o fyne.CanvasObject) *fyne.Container {
	return container.New(minHeight{linesTall(n)}, o)
}
