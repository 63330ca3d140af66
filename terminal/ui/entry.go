package ui

import (
	"fmt"
	"image"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// counter is a big − n + for the number of visitors of one category and
// age band.
type counter struct {
	code  string
	n     int
	minus *button
	plus  *button
	label *canvas.Text
	box   fyne.CanvasObject
}

// newCounter calls changed after every tap, and capped instead when + is
// tapped at terminal.MaxQty.
func newCounter(code string, changed, capped func()) *counter {
	c := &counter{code: code}
	// The count is drawn without a label's padding, in a cell as wide as
	// the widest count (terminal.MaxQty): a three-digit count neither
	// widens the screen nor moves the buttons.
	c.label = canvas.NewText("0", colInk)
	c.label.TextSize = theme.Size(theme.SizeNameHeadingText)
	c.label.TextStyle.Bold = true
	c.label.Alignment = fyne.TextAlignCenter
	widest := fyne.MeasureText(strconv.Itoa(terminal.MaxQty), c.label.TextSize, c.label.TextStyle)
	cell := container.New(fixedWidth{widest.Width + theme.Padding()}, c.label)
	c.minus = newIconButton(theme.ContentRemoveIcon(), func() {
		if c.n > 0 {
			c.set(c.n - 1)
		}
		changed()
	})
	c.plus = newIconButton(theme.ContentAddIcon(), func() {
		if c.n >= terminal.MaxQty {
			capped()
			return
		}
		c.set(c.n + 1)
		changed()
	})
	c.box = container.NewBorder(nil, nil, c.minus, c.plus, cell)
	return c
}

func (c *counter) set(n int) {
	c.n = n
	c.label.Text = strconv.Itoa(n)
	c.label.Color = colInk
	if n > 0 {
		c.label.Color = colPrimary
	}
	c.label.Refresh()
}

// entryScreen is the entry gate: visitors by category and age band, the
// vehicle, the running total, the tender; Complete commits the sale and
// shows the pass, which the spool prints.
type entryScreen struct {
	k *Kiosk

	counters []*counter // in catalogue order: categories × bands
	exempt   *exemptPanel
	plate    *entry
	vehicle  string // the chosen vehicle band's code
	vbtn     map[string]*button
	total    *widget.Label
	summary  *widget.Label
	tender   *tenderPanel
	complete *button
	msg      *message

	// the pass of the last sale
	passView  *fyne.Container
	passTitle *widget.Label
	passState *widget.Label
	passPrint *widget.Label
	passInfo  *widget.Label
	qr        *canvas.Image
	next      *button
	last      *terminal.SaleResult

	saleView fyne.CanvasObject
	box      fyne.CanvasObject
}

func newEntryScreen(k *Kiosk) *entryScreen {
	s := &entryScreen{k: k, vbtn: map[string]*button{}, msg: newMessage()}
	cat := k.cat

	// visitors: a row per category, a column per age band
	grid := container.New(layout.NewFormLayout())
	if cat != nil {
		site, _ := cat.Site(k.ident.Site)
		head := container.NewGridWithColumns(len(cat.AgeBands))
		for _, b := range cat.AgeBands {
			l := bold(breakSlashes(b.Name.In(k.lang)))
			l.Alignment = fyne.TextAlignCenter
			l.Wrapping = fyne.TextWrapWord
			head.Add(l)
		}
		grid.Add(heading(T("entry.visitors")))
		grid.Add(head)
		for _, c := range cat.Categories {
			name := bold(c.Name.In(k.lang))
			name.Wrapping = fyne.TextWrapWord
			row := container.NewGridWithColumns(len(cat.AgeBands))
			for _, b := range cat.AgeBands {
				code := c.Code + "-" + b.Code
				if _, err := cat.Price(k.o.Now(), site.Code, []terminal.LineRequest{{Code: code, Qty: 1}}); err != nil {
					row.Add(widget.NewLabel("—"))
					continue
				}
				ct := newCounter(code, s.changed, s.capped)
				s.counters = append(s.counters, ct)
				row.Add(ct.box)
			}
			grid.Add(atLeastWide(170, name))
			grid.Add(row)
		}
	}

	// vehicle
	s.plate = newEntry(T("entry.plate_placeholder"))
	s.plate.submit(func() {
		if s.passView.Visible() {
			s.clearSale() // Enter on the last pass: Next vehicle
			return
		}
		s.completeSale()
	})
	s.plate.OnChanged = func(string) {
		if s.passView.Visible() {
			s.changed() // the next vehicle's plate: its sale begins
			return
		}
		s.msg.clear()
	}
	bands := container.NewGridWithColumns(5)
	if cat != nil {
		for _, v := range cat.Vehicles {
			code := v.Code
			label := v.Name.In(k.lang)
			if a, b, ok := strings.Cut(label, ", "); ok {
				label = a + "\n" + b
			}
			b := newButton(label, func() { s.chooseVehicle(code) })
			s.vbtn[code] = b
			bands.Add(b)
		}
	}
	grid.Add(heading(T("entry.vehicle")))
	grid.Add(s.plate)
	s.exempt = newExemptPanel(k, s.counters, s.changed)
	left := container.NewVBox(grid, bands, s.exempt.box)

	// total and tender
	s.total = bigText("")
	s.summary = widget.NewLabel("")
	s.summary.Truncation = fyne.TextTruncateEllipsis // one line: a long vehicle name does not widen the panel
	s.summary.Alignment = fyne.TextAlignTrailing
	s.tender = newTenderPanel(k, s.completeSale, terminal.TenderCash, terminal.TenderMpesa, terminal.TenderCard, terminal.TenderDefer)
	s.tender.edited = func() {
		if s.msg.isError() {
			s.msg.clear()
		}
	}
	s.complete = newPrimary(T("entry.complete"), s.completeSale)
	// Complete sits at the bottom of the panel, under a row kept for the
	// message: neither a tender's fields, its preview nor an error moves
	// it under the attendant's finger. What is above scrolls, should part
	// payments and a long message need more than the screen.
	s.saleView = container.NewBorder(nil, container.NewVBox(reserve(1, s.msg.Label), s.complete), nil, nil,
		container.NewVScroll(container.NewVBox(container.NewBorder(nil, nil, heading(T("entry.to_pay")), nil, s.summary), s.total, widget.NewSeparator(), s.tender.box)))

	// pass
	s.passTitle = heading("")
	s.passState = bold("")
	s.passState.Wrapping = fyne.TextWrapWord
	s.passPrint = widget.NewLabel("")
	s.passPrint.Wrapping = fyne.TextWrapWord
	s.passInfo = widget.NewLabel("")
	s.passInfo.Wrapping = fyne.TextWrapWord
	s.qr = canvas.NewImageFromImage(nil)
	s.qr.FillMode = canvas.ImageFillContain
	s.qr.ScaleMode = canvas.ImageScalePixels
	s.next = newPrimary(T("entry.next"), s.clearSale)
	s.qr.SetMinSize(fyne.NewSize(240, 400))
	s.passView = container.NewVBox(s.passTitle, s.passState,
		container.NewBorder(nil, nil, s.qr, nil, container.NewVBox(s.passPrint, s.passInfo)), s.next)
	s.passView.Hide()

	s.tender.choose(terminal.TenderCash) // most pay cash: no tap for it
	right := atLeastWide(470, container.NewStack(s.saleView, s.passView))
	s.box = container.NewPadded(container.NewBorder(nil, nil, nil, panel(right), panel(container.NewVScroll(left))))
	s.changed()
	return s
}

func (s *entryScreen) content() fyne.CanvasObject { return s.box }

func (s *entryScreen) shown() {
	s.changed()
	s.k.win.Canvas().Focus(s.plate)
}

func (s *entryScreen) chooseVehicle(code string) {
	if s.vehicle == code {
		code = "" // a second tap takes it off
	}
	s.vehicle = code
	for c, b := range s.vbtn {
		b.setSelected(c == code)
	}
	s.changed()
}

// people is the number of visitors keyed, exempt ones included.
func (s *entryScreen) people() int {
	n := len(s.exempt.lines)
	for _, c := range s.counters {
		n += c.n
	}
	return n
}

// lines are the sale's lines as keyed.
func (s *entryScreen) lines() []terminal.LineRequest {
	var ls []terminal.LineRequest
	for _, c := range s.counters {
		if c.n > 0 {
			ls = append(ls, terminal.LineRequest{Code: c.code, Qty: c.n})
		}
	}
	ls = append(ls, s.exempt.lines...)
	if s.vehicle != "" {
		ls = append(ls, terminal.LineRequest{Code: s.vehicle, Qty: 1})
	}
	return ls
}

// changed reprices after any change: a pure preview, nothing is stored.
func (s *entryScreen) changed() {
	if s.passView.Visible() {
		s.passView.Hide()
		s.saleView.Show()
	}
	s.msg.clear()
	k := s.k
	base := k.base()
	lines := s.lines()
	due := terminal.Totals{}
	if len(lines) > 0 && k.cat != nil {
		p, err := k.cat.Price(k.o.Now(), k.ident.Site, lines)
		if err != nil {
			s.msg.error(err)
		} else {
			due = p.Totals
		}
	}
	if v, over := s.overSeats(); over && s.msg.Text == "" {
		s.msg.say(widget.WarningImportance, T("entry.over_seats", "N", s.people(), "Vehicle", v.Name.In(k.lang), "Max", v.MaxSeats))
	}
	s.total.SetText(totals(due, base))
	summary := TN("entry.people", s.people(), "N", s.people())
	if s.vehicle != "" {
		summary += " · " + s.vehicleName(s.vehicle)
	}
	s.summary.SetText(summary)
	s.tender.setDue(due)
}

// capped says that one sale holds at most terminal.MaxQty of a kind.
func (s *entryScreen) capped() {
	s.msg.bad(T("entry.cap", "Max", terminal.MaxQty))
}

// overSeats returns the chosen vehicle's band when more visitors are keyed
// than it has seats.
func (s *entryScreen) overSeats() (terminal.VehicleBand, bool) {
	if s.vehicle == "" || s.k.cat == nil {
		return terminal.VehicleBand{}, false
	}
	for _, v := range s.k.cat.Vehicles {
		if v.Code == s.vehicle {
			return v, s.people() > v.MaxSeats
		}
	}
	return terminal.VehicleBand{}, false
}

func (s *entryScreen) vehicleName(code string) string {
	if s.k.cat != nil {
		for _, v := range s.k.cat.Vehicles {
			if v.Code == code {
				return v.Name.In(s.k.lang)
			}
		}
	}
	return code
}

// completeSale validates what was keyed, commits the sale with its pass
// and print job, then shows the pass and pokes the spool.
func (s *entryScreen) completeSale() {
	k := s.k
	if k.op == nil || k.shift == nil {
		s.msg.bad(T("entry.no_shift"))
		return
	}
	if s.people() == 0 {
		s.msg.bad(T("entry.no_people"))
		return
	}
	plate, err := terminal.NormalizePlate(s.plate.Text)
	if err != nil {
		s.msg.bad(T("plate.invalid", "Text", s.plate.Text))
		return
	}
	tenders, err := s.tender.requests()
	if err != nil {
		s.msg.error(err)
		return
	}
	req := terminal.SaleRequest{Operator: k.op.Name, Lines: s.lines(), Vehicle: plate, Tenders: tenders}
	if v, over := s.overSeats(); over {
		// More visitors than seats: a typing slip, or a supervisor's call.
		n := s.people()
		k.gate.open(T("entry.seats_why", "N", n, "Vehicle", v.Name.In(k.lang), "Max", v.MaxSeats), func(sup *terminal.Operator) {
			req.Override = &terminal.Override{By: sup.Name,
				Reason: fmt.Sprintf("seats: %d visitors in %s (up to %d)", n, v.Code, v.MaxSeats)}
			k.paySale(req, s.sold, s.msg.error)
		})
		return
	}
	k.paySale(req, s.sold, s.msg.error)
}

// sold shows a recorded sale's pass and pokes the spool.
func (s *entryScreen) sold(res *terminal.SaleResult) {
	k := s.k
	started := time.Now()
	k.printed(res.PrintJob)
	s.last = res
	s.reset()
	s.showPass(res)
	k.watchPrint(res.PrintJob, func() {
		if s.last == res && s.passView.Visible() {
			s.passPrint.SetText(T("pass.printed"))
		}
	})
	k.wantPreview(started, func(img image.Image) {
		if s.last == res && s.passView.Visible() {
			s.qr.Image = img
			s.qr.Refresh()
			s.passPrint.SetText(T("pass.printed"))
		}
	})
}

// empty reports whether nothing is keyed and no pass is on screen.
func (s *entryScreen) empty() bool {
	for _, c := range s.counters {
		if c.n != 0 {
			return false
		}
	}
	return s.vehicle == "" && s.plate.Text == "" && len(s.exempt.lines) == 0 && !s.passView.Visible()
}

// reset clears the keyed sale.
func (s *entryScreen) reset() {
	for _, c := range s.counters {
		c.set(0)
	}
	s.plate.SetText("")
	s.chooseVehicle("")
	s.vehicle = ""
	s.exempt.reset()
	s.tender.reset()
	s.tender.choose(terminal.TenderCash)
}

// clearSale goes back to an empty sale, for the next vehicle.
func (s *entryScreen) clearSale() {
	s.reset()
	s.changed()
	s.k.win.Canvas().Focus(s.plate)
}

// showPass shows the committed sale's pass: it is in the store already.
func (s *entryScreen) showPass(res *terminal.SaleResult) {
	sale := res.Sale
	k := s.k
	s.passTitle.SetText(T("pass.issued", "N", sale.Number))
	if sale.State == terminal.SaleDeferred {
		s.passState.Importance = widget.WarningImportance
		s.passState.SetText(T("pass.deferred", "Due", totals(sale.Due, k.base())))
	} else {
		st := T("pass.paid", "Total", totals(sale.Totals, k.base()))
		change := terminal.Totals{}
		for _, t := range sale.Tenders {
			change.Add(t.Currency, t.Change)
		}
		if len(change.Clean()) > 0 {
			st += " · " + T("tender.change", "Change", change.String())
		}
		s.passState.Importance = widget.SuccessImportance
		s.passState.SetText(st)
	}
	switch {
	case res.PrintJob != "":
		s.passPrint.SetText(T("pass.printing", "Job", res.PrintJob))
	default:
		s.passPrint.SetText(T("pass.no_printer"))
	}
	var info []string
	for _, pc := range sale.PartyCounts() {
		info = append(info, partyLine(k, pc.Count, pc.Category, pc.Band))
	}
	if sale.Vehicle != "" {
		info = append(info, T("pass.plate", "Plate", sale.Vehicle))
	}
	s.passInfo.SetText(strings.Join(info, "\n"))
	s.qr.Image = nil
	if sale.Pass != "" {
		if img, err := pass.QRImage(sale.Pass, 4); err == nil {
			s.qr.Image = img
		}
	}
	s.qr.Refresh()
	s.saleView.Hide()
	s.passView.Show()
	// The plate keeps the focus: the next vehicle's plate is typed at once
	// (and starts its sale); Next vehicle is a tap for one without a plate.
	k.win.Canvas().Focus(s.plate)
}

// partyLine is "2 × EAC citizen, Adult" in the kiosk's language.
func partyLine(k *Kiosk, n int, cat, band string) string {
	if k.cat == nil {
		return strconv.Itoa(n) + " × " + cat + "-" + band
	}
	return strconv.Itoa(n) + " × " + k.cat.CategoryName(cat, k.lang) + ", " + k.cat.BandName(band, k.lang)
}

// breakSlashes lets a long word such as "Mtoto/mwanafunzi" wrap after its
// slash, in a narrow column.
func breakSlashes(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if len([]rune(w)) > 14 {
			words[i] = strings.ReplaceAll(w, "/", "/ ")
		}
	}
	return strings.Join(words, " ")
}
