package ui

import (
	"image"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
)

// counterScreen is the service counter: find a gazetted service by name or
// code, put it in the cart, take the tender, print the receipt.
type counterScreen struct {
	k *Kiosk

	search   *entry
	results  *fyne.Container
	found    []terminal.Service
	listed   []*button // the buttons of the services listed
	cart     map[string]int
	order    []string
	cartBox  *fyne.Container
	total    *widget.Label
	tender   *tenderPanel
	complete *button
	msg      *message
	receipt  *widget.Label
	slip     *canvas.Image // the printed receipt, from the printer emulator
	last     *terminal.SaleResult
	box      fyne.CanvasObject
}

func newCounterScreen(k *Kiosk) *counterScreen {
	s := &counterScreen{k: k, cart: map[string]int{}, msg: newMessage()}
	s.search = newEntry(T("counter.search_placeholder"))
	s.search.OnChanged = func(string) { s.find() }
	s.search.submit(func() {
		if len(s.found) > 0 {
			s.add(s.found[0].Code)
		}
	})
	s.results = container.NewVBox()
	s.cartBox = container.NewVBox()
	s.total = bigText("")
	s.tender = newTenderPanel(k, s.completeSale, terminal.TenderCash, terminal.TenderMpesa, terminal.TenderCard)
	s.tender.edited = func() {
		if s.msg.isError() {
			s.msg.clear()
		}
	}
	s.complete = newPrimary(T("counter.complete"), s.completeSale)
	s.receipt = bold("")
	s.receipt.Importance = widget.SuccessImportance
	s.receipt.Wrapping = fyne.TextWrapWord

	s.slip = canvas.NewImageFromImage(nil)
	s.slip.FillMode = canvas.ImageFillContain
	s.slip.SetMinSize(fyne.NewSize(240, 320))
	s.slip.Hide()
	left := container.NewVBox(heading(T("counter.services")), s.search, s.results)
	middle := container.NewVBox(heading(T("counter.cart")), s.cartBox, widget.NewSeparator(), bold(T("entry.to_pay")), s.total, s.slip)
	right := container.NewVBox(s.tender.box, s.msg.Label, s.complete, s.receipt)
	s.box = container.NewPadded(container.NewBorder(nil, nil, nil, atLeastWide(460, panel(right)),
		container.NewGridWithColumns(2, panel(container.NewVScroll(left)), panel(container.NewVScroll(middle)))))
	s.find()
	s.refresh()
	return s
}

func (s *counterScreen) content() fyne.CanvasObject { return s.box }

func (s *counterScreen) shown() { s.k.win.Canvas().Focus(s.search) }

// services are those sold at this counter.
func (s *counterScreen) services() []terminal.Service {
	cat := s.k.cat
	if cat == nil {
		return nil
	}
	var out []terminal.Service
	for _, sv := range cat.Services {
		if len(sv.Sites) == 0 || slices.Contains(sv.Sites, s.k.ident.Site) {
			out = append(out, sv)
		}
	}
	return out
}

// find lists the services whose code or name holds what was typed.
func (s *counterScreen) find() {
	q := strings.ToLower(strings.TrimSpace(s.search.Text))
	s.found = s.found[:0]
	s.listed = s.listed[:0]
	s.results.RemoveAll()
	for _, sv := range s.services() {
		hay := strings.ToLower(sv.Code + " " + sv.Name.In(s.k.lang) + " " + sv.Name.In("en"))
		if q != "" && !strings.Contains(hay, q) {
			continue
		}
		s.found = append(s.found, sv)
		if len(s.found) > 8 {
			continue // the first eight; typing narrows
		}
		code := sv.Code
		b, t := tile(sv.Name.In(s.k.lang), sv.Code+" · "+money(sv.Price.Currency, sv.Price.Minor), func() { s.add(code) })
		s.listed = append(s.listed, b)
		s.results.Add(t)
	}
	if len(s.found) == 0 && q != "" {
		s.results.Add(widget.NewLabel(T("counter.none_found", "Text", s.search.Text)))
	}
}

func (s *counterScreen) add(code string) {
	s.receipt.SetText("")
	s.slip.Hide()
	if s.cart[code] == 0 {
		s.order = append(s.order, code)
	}
	s.cart[code]++
	s.refresh()
}

func (s *counterScreen) remove(code string) {
	if s.cart[code] > 0 {
		s.cart[code]--
	}
	if s.cart[code] == 0 {
		delete(s.cart, code)
		s.order = slices.DeleteFunc(s.order, func(c string) bool { return c == code })
	}
	s.refresh()
}

func (s *counterScreen) lines() []terminal.LineRequest {
	var ls []terminal.LineRequest
	for _, c := range s.order {
		ls = append(ls, terminal.LineRequest{Code: c, Qty: s.cart[c]})
	}
	return ls
}

// refresh redraws the cart and reprices it.
func (s *counterScreen) refresh() {
	k := s.k
	s.msg.clear()
	s.cartBox.RemoveAll()
	due := terminal.Totals{}
	if ls := s.lines(); len(ls) > 0 && k.cat != nil {
		p, err := k.cat.Price(k.o.Now(), k.ident.Site, ls)
		if err != nil {
			s.msg.error(err)
		} else {
			due = p.Totals
			for _, l := range p.Lines {
				code := l.Code
				name := k.lineName(l)
				text := widget.NewLabel(strconv.Itoa(l.Qty) + " × " + name + "\n" + money(l.Currency, l.Total))
				text.Wrapping = fyne.TextWrapWord
				minus := newIconButton(theme.ContentRemoveIcon(), func() { s.remove(code) })
				plus := newIconButton(theme.ContentAddIcon(), func() { s.add(code) })
				s.cartBox.Add(container.NewBorder(nil, nil, nil, container.NewHBox(minus, plus), text))
			}
		}
	}
	if len(s.order) == 0 {
		empty := widget.NewLabel(T("counter.empty"))
		empty.Wrapping = fyne.TextWrapWord
		s.cartBox.Add(empty)
	}
	s.total.SetText(totals(due, k.base()))
	s.tender.setDue(due)
}

func (s *counterScreen) completeSale() {
	k := s.k
	if k.op == nil || k.shift == nil {
		s.msg.bad(T("entry.no_shift"))
		return
	}
	if len(s.order) == 0 {
		s.msg.bad(T("counter.empty"))
		return
	}
	tenders, err := s.tender.requests()
	if err != nil {
		s.msg.error(err)
		return
	}
	k.paySale(terminal.SaleRequest{Operator: k.op.Name, Lines: s.lines(), Tenders: tenders}, s.sold, s.msg.error)
}

// sold shows a recorded service sale's receipt.
func (s *counterScreen) sold(res *terminal.SaleResult) {
	k := s.k
	started := time.Now()
	k.printed(res.PrintJob)
	s.last = res
	s.cart = map[string]int{}
	s.order = nil
	s.tender.reset()
	s.search.SetText("")
	s.refresh()
	sale := res.Sale
	change := terminal.Totals{}
	for _, t := range sale.Tenders {
		change.Add(t.Currency, t.Change)
	}
	text := T("counter.receipt", "N", sale.Number, "Total", totals(sale.Totals, k.base()))
	if len(change.Clean()) > 0 {
		text += " · " + T("tender.change", "Change", change.String())
	}
	if res.PrintJob != "" {
		text += "\n" + T("exit.receipt_printing")
	} else {
		text += "\n" + T("pass.no_printer")
	}
	s.receipt.SetText(text)
	if res.PrintJob != "" {
		k.watchPrint(res.PrintJob, func() {
			if s.last == res && s.receipt.Text == text {
				s.receipt.SetText(strings.Replace(text, T("exit.receipt_printing"), T("exit.receipt_printed"), 1))
			}
		})
	}
	k.win.Canvas().Focus(s.search)
	k.wantPreview(started, func(img image.Image) {
		if s.last == res {
			s.slip.Image = img
			s.slip.Show()
			s.slip.Refresh()
		}
	})
}
