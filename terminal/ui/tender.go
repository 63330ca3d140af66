package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
)

// tenderPanel chooses how the customer pays: cash (exact, or an amount
// given and the change shown), an M-PESA code, a card approval code from
// the PDQ slip, or defer to the exit. A customer who pays in parts (some
// cash, the rest by M-PESA) has each part but the last added with its
// amount ("Part payment"); the last pays the rest. The entry gate, the
// exit lane and the counter share it.
type tenderPanel struct {
	k     *Kiosk
	kinds []terminal.TenderKind
	kind  terminal.TenderKind // "" until chosen
	btn   map[terminal.TenderKind]*button

	bank      *widget.Select // the catalogue's banks, "CODE · Name"
	bankCodes map[string]string
	bankRef   *entry

	cashGiven *entry
	cur       terminal.Currency
	curBtn    map[terminal.Currency]*button
	mpesa     *entry
	mpesaAmt  *entry
	card      *entry
	last4     *entry

	parts    []terminal.TenderRequest // part payments added, in order
	partBtn  *button                  // beside the cash or M-PESA fields
	partList *fyne.Container

	// edited, if set, is called when the attendant changes the tender (a
	// field or the choice): the screen clears its error.
	edited func()

	fields  *fyne.Container
	preview *widget.Label
	due     terminal.Totals
	box     fyne.CanvasObject
}

func newTenderPanel(k *Kiosk, submit func(), kinds ...terminal.TenderKind) *tenderPanel {
	if k.cat != nil && len(k.cat.Banks) > 0 {
		// A transfer or a deposit slip, from a bank the site accepts: after
		// Card, before Pay at exit.
		i := len(kinds)
		if j := slices.Index(kinds, terminal.TenderDefer); j >= 0 {
			i = j
		}
		kinds = slices.Insert(slices.Clone(kinds), i, terminal.TenderBank)
	}
	p := &tenderPanel{k: k, kinds: kinds, btn: map[terminal.TenderKind]*button{}, curBtn: map[terminal.Currency]*button{}, bankCodes: map[string]string{}}
	cols := len(kinds)
	switch {
	case cols == 4:
		cols = 2 // two rows: the names are long in Swahili
	case cols > 4:
		cols = 3
	}
	row := container.NewGridWithColumns(cols)
	for _, kind := range kinds {
		b := newButton(T("tender."+string(kind)), func() { p.choose(kind) })
		p.btn[kind] = b
		row.Add(b)
	}
	p.cashGiven = newEntry(T("tender.cash_exact"))
	p.cashGiven.submit(submit)
	p.cashGiven.OnChanged = func(string) { p.update() }
	p.mpesa = newEntry(T("tender.mpesa_placeholder"))
	p.mpesa.submit(submit)
	p.mpesa.OnChanged = func(string) { p.update() }
	p.mpesaAmt = newEntry(T("tender.mpesa_amount"))
	p.mpesaAmt.submit(submit)
	p.mpesaAmt.OnChanged = func(string) { p.update() }
	p.card = newEntry(T("tender.card_placeholder"))
	p.card.submit(submit)
	p.card.OnChanged = func(string) { p.update() }
	p.last4 = newEntry(T("tender.last4_placeholder"))
	p.last4.submit(submit)
	var banks []string
	if k.cat != nil {
		for _, b := range k.cat.Banks {
			label := b.Code + " · " + b.Name
			p.bankCodes[label] = b.Code
			banks = append(banks, label)
		}
	}
	p.bankRef = newEntry(T("tender.bank_placeholder"))
	p.bankRef.submit(submit)
	p.bankRef.OnChanged = func(string) { p.update() }
	p.bank = widget.NewSelect(banks, func(string) {
		p.update()
		if p.edited != nil {
			p.edited()
		}
		if c := p.k.win.Canvas(); c != nil && p.kind == terminal.TenderBank {
			c.Focus(p.bankRef) // the reference is keyed next
		}
	})
	p.bank.PlaceHolder = T("tender.bank_choose")
	for _, e := range []*entry{p.cashGiven, p.mpesa, p.mpesaAmt, p.card, p.last4, p.bankRef} {
		e.k = k // shown on demand, so the kiosk's adopt does not see them
		prev := e.OnChanged
		e.OnChanged = func(text string) {
			if p.edited != nil {
				p.edited()
			}
			if prev != nil {
				prev(text)
			}
		}
	}
	p.cur = k.base()
	p.fields = container.NewVBox()
	p.preview = widget.NewLabel("")
	p.preview.Wrapping = fyne.TextWrapWord
	p.preview.TextStyle.Bold = true
	p.partBtn = newButton(T("tender.add_part"), p.addPart)
	// a button that looks like one, not bare text beside the field
	p.partList = container.NewVBox()
	// The fields and the preview keep their rows whatever is chosen, and
	// the parts are listed below them: the tender's buttons stay put.
	p.box = container.NewVBox(row, container.New(minHeight{MinTouch}, p.fields), reserve(2, p.preview), p.partList)
	return p
}

// warn says in the preview why a part payment is not taken.
func (p *tenderPanel) warn(text string) {
	p.preview.Importance = widget.WarningImportance
	p.preview.SetText(oneLine(text))
}

// addPart takes the tender keyed as a part payment: it needs an amount,
// and must leave something to pay; the fields clear for the next part.
func (p *tenderPanel) addPart() {
	reqs, err := p.requests()
	if err != nil {
		p.warn(errText(err))
		return
	}
	cur := reqs[len(reqs)-1]
	if cur.Amount == nil || cur.Kind == terminal.TenderDefer {
		p.warn(T("tender.part_amount"))
		return
	}
	if td, err := terminal.ApplyTenders(p.k.cat, p.due.Clone().Clean(), reqs); err == nil && td.State != terminal.SaleDeferred {
		p.warn(T("tender.part_pays_all"))
		return
	} else if err != nil && !isShort(p.k.cat, p.due, reqs) {
		p.warn(errText(err))
		return
	}
	p.parts = append(p.parts, cur)
	p.showParts()
	p.clearFields()
	p.choose("")
}

// isShort reports whether reqs leave part of due unpaid, and nothing else
// is wrong with them: paying the rest in cash would then be accepted.
func isShort(cat *terminal.Catalogue, due terminal.Totals, reqs []terminal.TenderRequest) bool {
	_, err := terminal.ApplyTenders(cat, due.Clone().Clean(), append(append([]terminal.TenderRequest(nil), reqs...), terminal.TenderRequest{Kind: terminal.TenderCash}))
	return err == nil
}

func (p *tenderPanel) showParts() {
	p.partList.RemoveAll()
	for i, t := range p.parts {
		what := T("tender." + string(t.Kind))
		if t.Reference != "" {
			what += " " + t.Reference
		}
		what += " · " + t.Amount.String()
		p.partList.Add(container.NewBorder(nil, nil, nil, newIconButton(theme.DeleteIcon(), func() { p.removePart(i) }), widget.NewLabel(what)))
	}
	p.partList.Refresh()
}

// removePart takes the i-th part payment off.
func (p *tenderPanel) removePart(i int) {
	if i < len(p.parts) {
		p.parts = slices.Delete(p.parts, i, i+1)
	}
	p.showParts()
	p.update()
}

func (p *tenderPanel) clearFields() {
	for _, e := range []*entry{p.cashGiven, p.mpesa, p.mpesaAmt, p.card, p.last4, p.bankRef} {
		e.SetText("")
	}
	p.bank.ClearSelected()
	p.cur = p.k.base()
}

// currencies are those the customer may hand over as cash: the base and
// every currency the catalogue has a rate for.
func (p *tenderPanel) currencies() []terminal.Currency { return p.k.cashCurrencies() }

func (p *tenderPanel) choose(kind terminal.TenderKind) {
	if p.edited != nil {
		p.edited()
	}
	p.kind = kind
	for k, b := range p.btn {
		b.setSelected(k == kind)
	}
	p.fields.RemoveAll()
	switch kind {
	case terminal.TenderCash:
		curs := container.NewHBox()
		for _, c := range p.currencies() {
			b := newButton(string(c), func() { p.setCurrency(c) })
			p.curBtn[c] = b
			b.setSelected(c == p.cur)
			curs.Add(b)
		}
		curs.Add(p.partBtn)
		p.fields.Add(container.NewBorder(nil, nil, nil, curs, p.cashGiven))
	case terminal.TenderMpesa:
		p.fields.Add(container.NewBorder(nil, nil, nil, p.partBtn, container.NewGridWithColumns(2, p.mpesa, p.mpesaAmt)))
	case terminal.TenderCard:
		if p.k.o.Card != nil {
			p.fields.Add(widget.NewLabel(T("tender.card_pdq")))
		} else {
			p.fields.Add(container.NewGridWithColumns(2, p.card, p.last4))
		}
	case terminal.TenderBank:
		p.fields.Add(container.NewGridWithColumns(2, p.bank, p.bankRef))
	case terminal.TenderDefer:
		p.fields.Add(widget.NewLabel(T("tender.defer_note")))
	}
	p.box.Refresh()
	p.update()
	if c := p.k.win.Canvas(); c != nil {
		switch kind {
		case terminal.TenderCash:
			c.Focus(p.cashGiven)
		case terminal.TenderMpesa:
			c.Focus(p.mpesa)
		case terminal.TenderCard:
			if p.k.o.Card == nil {
				c.Focus(p.card)
			}
		case terminal.TenderBank:
			if p.bank.Selected != "" {
				c.Focus(p.bankRef)
			}
		}
	}
}

func (p *tenderPanel) setCurrency(c terminal.Currency) {
	p.cur = c
	for cc, b := range p.curBtn {
		b.setSelected(cc == c)
	}
	p.update()
}

// setDue sets what is to be paid and refreshes the preview.
func (p *tenderPanel) setDue(due terminal.Totals) {
	p.due = due
	p.update()
}

// reset forgets the choice and the fields, for the next customer.
func (p *tenderPanel) reset() {
	p.kind = ""
	for _, b := range p.btn {
		b.setSelected(false)
	}
	p.clearFields()
	p.parts = nil
	p.showParts()
	p.fields.RemoveAll()
	p.due = nil
	p.preview.SetText("")
}

// requests turns the choice into tender requests, or explains in the
// attendant's language what is wrong with what was keyed.
func (p *tenderPanel) requests() ([]terminal.TenderRequest, error) {
	cur, err := p.current()
	if err != nil {
		return nil, err
	}
	return append(append([]terminal.TenderRequest(nil), p.parts...), cur), nil
}

// current is the tender being keyed.
func (p *tenderPanel) current() (terminal.TenderRequest, error) {
	one := func(ts []terminal.TenderRequest, err error) (terminal.TenderRequest, error) {
		if err != nil {
			return terminal.TenderRequest{}, err
		}
		return ts[0], nil
	}
	return one(p.keyed())
}

func (p *tenderPanel) keyed() ([]terminal.TenderRequest, error) {
	switch p.kind {
	case terminal.TenderCash:
		if p.cashGiven.Text == "" {
			return []terminal.TenderRequest{{Kind: terminal.TenderCash}}, nil
		}
		v, err := terminal.ParseMajor(p.cur, p.cashGiven.Text)
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "%s", T("amount.invalid", "Text", p.cashGiven.Text))
		}
		m := terminal.Money{Currency: p.cur, Minor: v}
		return []terminal.TenderRequest{{Kind: terminal.TenderCash, Amount: &m}}, nil
	case terminal.TenderMpesa:
		code, err := terminal.NormalizeMpesaCode(p.mpesa.Text)
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "%s", T("tender.mpesa_invalid", "Text", p.mpesa.Text))
		}
		tr := terminal.TenderRequest{Kind: terminal.TenderMpesa, Reference: code}
		if p.mpesaAmt.Text != "" {
			v, err := terminal.ParseMajor(p.k.base(), p.mpesaAmt.Text)
			if err != nil {
				return nil, terminal.Errorf(terminal.EINVALID, "%s", T("amount.invalid", "Text", p.mpesaAmt.Text))
			}
			tr.Amount = &terminal.Money{Currency: p.k.base(), Minor: v}
		}
		return []terminal.TenderRequest{tr}, nil
	case terminal.TenderCard:
		if p.k.o.Card != nil { // the PDQ charges it
			return []terminal.TenderRequest{{Kind: terminal.TenderCard}}, nil
		}
		spec := "card:" + p.card.Text
		if p.last4.Text != "" {
			spec += "/" + p.last4.Text
		}
		if p.card.Text == "" {
			return nil, terminal.Errorf(terminal.EINVALID, "%s", T("tender.card_missing"))
		}
		tr, err := terminal.ParseTender(spec)
		if err != nil {
			return nil, err
		}
		return []terminal.TenderRequest{tr}, nil
	case terminal.TenderBank:
		code := p.bankCodes[p.bank.Selected]
		if code == "" {
			return nil, terminal.Errorf(terminal.EINVALID, "%s", T("tender.bank_missing"))
		}
		tr, err := terminal.ParseTender("bank:" + code + ":" + p.bankRef.Text)
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "%s", T("tender.bank_invalid", "Text", p.bankRef.Text))
		}
		return []terminal.TenderRequest{tr}, nil
	case terminal.TenderDefer:
		return []terminal.TenderRequest{{Kind: terminal.TenderDefer}}, nil
	}
	if len(p.parts) > 0 {
		return nil, terminal.Errorf(terminal.EINVALID, "%s", T("tender.choose_rest"))
	}
	return nil, terminal.Errorf(terminal.EINVALID, "%s", T("tender.choose"))
}

// update shows what the tender will do: the change, a conversion, or why it
// does not pay the total. It is a pure preview; nothing is stored.
func (p *tenderPanel) update() {
	due := p.due.Clone().Clean()
	if len(due) == 0 || p.k.cat == nil {
		p.preview.SetText("")
		return
	}
	if p.kind == "" {
		p.preview.SetText("")
		if len(p.parts) > 0 {
			// What cash would pay after the parts is what is left.
			if td, err := terminal.ApplyTenders(p.k.cat, due, append(append([]terminal.TenderRequest(nil), p.parts...), terminal.TenderRequest{Kind: terminal.TenderCash})); err == nil {
				rest := terminal.Totals{}
				for _, t := range td.Tenders[len(p.parts):] {
					rest.Add(t.Currency, t.Net())
				}
				p.preview.Importance = widget.WarningImportance
				p.preview.SetText(T("tender.rest_due", "Due", totals(rest, p.k.base())))
			}
		}
		return
	}
	reqs, err := p.requests()
	if err != nil {
		if p.kind == terminal.TenderCash || p.kind == terminal.TenderMpesa || p.kind == terminal.TenderBank {
			// still typing: say nothing until it parses
			p.preview.SetText("")
			return
		}
		p.preview.Importance = widget.WarningImportance
		p.preview.SetText(oneLine(errText(err)))
		return
	}
	td, err := terminal.ApplyTenders(p.k.cat, due, reqs)
	if err != nil {
		p.preview.Importance = widget.WarningImportance
		p.preview.SetText(oneLine(errText(err)))
		return
	}
	p.preview.Importance = widget.SuccessImportance
	var lines []string
	for _, cv := range td.Conversions {
		lines = append(lines, T("tender.conversion", "From", money(cv.From, cv.Amount), "To", money(cv.To, cv.Converted), "Rate", cv.Rate))
	}
	switch {
	case td.State == terminal.SaleDeferred:
		lines = append(lines, T("tender.defer_due", "Due", totals(td.Due, p.k.base())))
	case len(td.Change.Clean()) > 0:
		lines = append(lines, T("tender.change", "Change", td.Change.String()))
	default:
		var paid terminal.Totals = terminal.Totals{}
		for _, t := range td.Tenders {
			paid.Add(t.Currency, t.Net())
		}
		lines = append(lines, T("tender.pays", "Amount", totals(paid, p.k.base())))
	}
	text := ""
	for i, l := range lines {
		if i > 0 {
			text += " · "
		}
		text += l
	}
	p.preview.SetText(text)
}
