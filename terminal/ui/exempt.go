package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
)

// exemptPanel keys visitors who enter free under one of the catalogue's
// exemptions (a citizen of 70 or over, a person with a disability, a
// licensed guide): the exemption, who (category and age band), and the
// evidence the attendant saw, which the sale records. Each exempt visitor
// is a line of their own, priced at zero.
type exemptPanel struct {
	k       *Kiosk
	changed func()

	lines []terminal.LineRequest // added, in order

	chosen   string // exemption code
	who      string // entry code, e.g. EAC-ADULT
	exBtn    map[string]*button
	whoBtn   map[string]*button
	whoRow   *fyne.Container
	evidence *entry
	add      *button
	list     *fyne.Container
	msg      *message
	box      fyne.CanvasObject
}

func newExemptPanel(k *Kiosk, counters []*counter, changed func()) *exemptPanel {
	p := &exemptPanel{k: k, changed: changed, exBtn: map[string]*button{}, whoBtn: map[string]*button{}, msg: newMessage()}
	cat := k.cat
	if cat == nil || len(cat.Exemptions) == 0 {
		p.box = container.NewVBox()
		return p
	}
	exRow := container.NewGridWithColumns(2)
	for _, ex := range cat.Exemptions {
		code := ex.Code
		b := newButton(twoLines(ex.Name.In(k.lang)), func() { p.choose(code) })
		p.exBtn[code] = b
		exRow.Add(b)
	}
	p.whoRow = container.NewGridWithColumns(3)
	for _, c := range counters {
		code := c.code
		b := newButton(p.whoName(code, "\n"), func() { p.pick(code) })
		p.whoBtn[code] = b
		p.whoRow.Add(b)
	}
	p.evidence = newEntry(T("exempt.evidence_placeholder"))
	p.evidence.OnChanged = func(string) { p.msg.clear() }
	p.evidence.submit(p.addVisitor)
	p.add = newButton(T("exempt.add"), p.addVisitor)
	p.list = container.NewVBox()
	p.box = container.NewVBox(widget.NewSeparator(), heading(T("exempt.title")), exRow, p.whoRow,
		container.NewBorder(nil, nil, nil, p.add, p.evidence), p.msg.Label, p.list)
	p.choose("")
	return p
}

// whoName names an entry code as the attendant reads it: "Citizen · Adult"
// (sep between the two).
func (p *exemptPanel) whoName(code, sep string) string {
	cat, band, _ := strings.Cut(code, "-")
	return p.k.cat.CategoryName(cat, p.k.lang) + sep + p.k.cat.BandName(band, p.k.lang)
}

// twoLines breaks a long button label at the space nearest its middle:
// buttons do not wrap, and the exemptions' names are sentences.
func twoLines(s string) string {
	if len(s) <= 20 {
		return s
	}
	best := -1
	for i, r := range s {
		if r == ' ' && (best < 0 || abs(i-len(s)/2) < abs(best-len(s)/2)) {
			best = i
		}
	}
	if best < 0 {
		return s
	}
	return s[:best] + "\n" + s[best+1:]
}

func abs(n int) int { return max(n, -n) }

// choose selects an exemption (a second tap takes it off) and offers only
// the visitors it can apply to.
func (p *exemptPanel) choose(code string) {
	if p.chosen == code {
		code = ""
	}
	p.chosen, p.who = code, ""
	var ex *terminal.Exemption
	if code != "" {
		ex = p.k.cat.Exemption(code)
	}
	for c, b := range p.exBtn {
		b.setSelected(c == code)
	}
	for c, b := range p.whoBtn {
		cat, _, _ := strings.Cut(c, "-")
		b.setSelected(false)
		if ex != nil && (len(ex.Categories) == 0 || slices.Contains(ex.Categories, cat)) {
			b.Show()
		} else {
			b.Hide()
		}
	}
	p.whoRow.Refresh()
	if ex != nil {
		p.evidence.SetPlaceHolder(ex.Evidence.In(p.k.lang))
		p.evidence.Show()
		p.add.Show()
	} else {
		p.evidence.Hide()
		p.add.Hide()
	}
	p.msg.clear()
}

// pick chooses who the exempt visitor is.
func (p *exemptPanel) pick(code string) {
	p.who = code
	for c, b := range p.whoBtn {
		b.setSelected(c == code)
	}
	p.msg.clear()
	p.k.win.Canvas().Focus(p.evidence)
}

// addVisitor adds the chosen exempt visitor with the evidence typed, if
// the catalogue takes the line; nothing changes otherwise.
func (p *exemptPanel) addVisitor() {
	if p.chosen == "" || p.who == "" {
		p.msg.bad(T("exempt.choose"))
		return
	}
	l := terminal.LineRequest{Code: p.who, Qty: 1, Exemption: p.chosen, Evidence: strings.TrimSpace(p.evidence.Text)}
	if l.Evidence == "" {
		p.msg.bad(T("exempt.no_evidence"))
		return
	}
	if _, err := p.k.cat.Price(p.k.o.Now(), p.k.ident.Site, []terminal.LineRequest{l}); err != nil {
		p.msg.error(err)
		return
	}
	p.lines = append(p.lines, l)
	p.evidence.SetText("")
	p.showList()
	p.changed()
}

// remove takes the i-th exempt visitor off.
func (p *exemptPanel) remove(i int) {
	if i < len(p.lines) {
		p.lines = slices.Delete(p.lines, i, i+1)
	}
	p.showList()
	p.changed()
}

func (p *exemptPanel) showList() {
	if p.list == nil {
		return
	}
	p.list.RemoveAll()
	for i, l := range p.lines {
		name := l.Exemption
		if ex := p.k.cat.Exemption(l.Exemption); ex != nil {
			name = ex.Name.In(p.k.lang)
		}
		label := widget.NewLabel(p.whoName(l.Code, " · ") + " — " + name + " — " + l.Evidence)
		label.Wrapping = fyne.TextWrapWord
		p.list.Add(container.NewBorder(nil, nil, nil, newIconButton(theme.DeleteIcon(), func() { p.remove(i) }), label))
	}
	p.list.Refresh()
}

// reset forgets the exempt visitors, for the next vehicle.
func (p *exemptPanel) reset() {
	p.lines = nil
	if p.list != nil {
		p.evidence.SetText("")
		p.choose("")
		p.showList()
	}
}
