package terminal

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SaleState is where a sale stands.
type SaleState string

const (
	SalePaid     SaleState = "paid"     // fully tendered
	SaleDeferred SaleState = "deferred" // pass issued, pay at exit
	SaleSettled  SaleState = "settled"  // a deferred sale paid at exit
	SaleVoided   SaleState = "voided"   // cancelled by a supervisor
)

// TenderKind is how a customer pays.
type TenderKind string

const (
	TenderCash  TenderKind = "cash"
	TenderMpesa TenderKind = "mpesa"
	TenderCard  TenderKind = "card"
	TenderDefer TenderKind = "defer"
	// TenderBank is a bank transfer or deposit slip: the bank's code (one
	// of the catalogue's accepted banks) and the bank's reference, taken
	// once per site.
	TenderBank TenderKind = "bank"
)

// TenderRequest is a tender as keyed. Amount nil means "the rest": cash pays
// what is left in each currency as priced; M-PESA and card pay what is left in
// the base currency, converting other currencies at the catalogue rate.
type TenderRequest struct {
	Kind      TenderKind
	Amount    *Money
	Reference string // M-PESA receipt code, card approval code, bank reference
	CardLast4 string
	Bank      string // bank tenders: the bank's code from the catalogue
}

// AwaitsPDQ reports whether t is a card tender with no approval code yet:
// one an integrated PDQ is to charge. Only the card desk records such a
// tender, once the PDQ has approved it.
func (t TenderRequest) AwaitsPDQ() bool { return t.Kind == TenderCard && t.Reference == "" }

// CheckApproved refuses tenders of which one still awaits the PDQ: what
// is recorded as paid by card carries the approval that paid it.
func CheckApproved(ts []TenderRequest) error {
	for _, t := range ts {
		if t.AwaitsPDQ() {
			return Errorf(EINVALID, "a card tender needs the approval code from the PDQ slip (card:CODE), or an integrated PDQ")
		}
	}
	return nil
}

// Tender is a tender as recorded.
type Tender struct {
	Kind      TenderKind `json:"kind"`
	Currency  Currency   `json:"currency"`
	Amount    int64      `json:"amount"` // minor units received (refunds: negative)
	Change    int64      `json:"change,omitempty"`
	Reference string     `json:"reference,omitempty"`
	CardLast4 string     `json:"card_last4,omitempty"`
	Bank      string     `json:"bank,omitempty"`
	// Paybill is the M-PESA paybill an mpesa tender was for: the site's,
	// or its spare on a day a supervisor switched to it (setting
	// mpesa_paybill_use). Absent on tenders recorded before it existed
	// and where no mpesa_paybill is set.
	Paybill string `json:"paybill,omitempty"`
}

// Net is what the tender leaves in the till: amount less change.
func (t Tender) Net() int64 { return t.Amount - t.Change }

// Conversion records a currency conversion made for a sale: the amount due in
// From became Converted in To at Rate from Source.
type Conversion struct {
	From      Currency `json:"from"`
	To        Currency `json:"to"`
	Amount    int64    `json:"amount"`
	Converted int64    `json:"converted"`
	Rate      string   `json:"rate"`
	Source    string   `json:"source"`
}

var (
	mpesaRE    = regexp.MustCompile(`^[A-Z0-9]{10}$`)
	approvalRE = regexp.MustCompile(`^[A-Z0-9]{2,12}$`)
	last4RE    = regexp.MustCompile(`^[0-9]{4}$`)
	bankRE     = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,7}$`)
	bankRefRE  = regexp.MustCompile(`^[A-Z0-9][A-Z0-9/-]{3,29}$`)
)

// NormalizeBankCode upper-cases and checks a bank's code: 2–8 letters and
// digits starting with a letter (KCB, EQTY, COOP).
func NormalizeBankCode(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if !bankRE.MatchString(c) {
		return "", Errorf(EINVALID, "bank code %q is not valid: 2–8 letters and digits, e.g. KCB", s)
	}
	return c, nil
}

// NormalizeBankReference upper-cases and checks a transfer's or deposit
// slip's reference: 4–30 letters, digits, '/' or '-', starting with a
// letter or digit; spaces are dropped (slips print them in groups).
func NormalizeBankReference(s string) (string, error) {
	c := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if !bankRefRE.MatchString(c) {
		return "", Errorf(EINVALID, "bank reference %q is not valid: 4–30 letters, digits, '/' or '-', as on the slip or transfer", s)
	}
	return c, nil
}

// NormalizeMpesaCode upper-cases and checks an M-PESA receipt code: 10
// characters, A–Z and 0–9.
func NormalizeMpesaCode(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if !mpesaRE.MatchString(c) {
		return "", Errorf(EINVALID, "M-PESA code %q is not valid: it has 10 letters and digits, e.g. SG722NMVXQ", s)
	}
	return c, nil
}

// NormalizeCardSlip upper-cases and checks what an attendant keys from a
// standalone PDQ's slip: the approval code (2–12 letters and digits) and,
// optionally, the card's last four digits.
func NormalizeCardSlip(approval, last4 string) (string, string, error) {
	code := strings.ToUpper(strings.TrimSpace(approval))
	if !approvalRE.MatchString(code) {
		return "", "", Errorf(EINVALID, "card approval code %q is not valid: 2–12 letters and digits from the PDQ slip", approval)
	}
	last4 = strings.TrimSpace(last4)
	if last4 != "" && !last4RE.MatchString(last4) {
		return "", "", Errorf(EINVALID, "card last four digits %q are not 4 digits", last4)
	}
	return code, last4, nil
}

// ParseTender parses a tender as written on the command line: cash,
// cash:CUR=AMOUNT, mpesa:CODE, card:APPROVAL, card (integrated PDQ),
// bank:BANK:REFERENCE[=AMOUNT], defer.
func ParseTender(s string) (TenderRequest, error) {
	kind, arg, _ := strings.Cut(strings.TrimSpace(s), ":")
	switch TenderKind(strings.ToLower(kind)) {
	case TenderCash:
		if arg == "" {
			return TenderRequest{Kind: TenderCash}, nil
		}
		m, err := ParseMoneyArg(arg)
		if err != nil {
			return TenderRequest{}, err
		}
		return TenderRequest{Kind: TenderCash, Amount: &m}, nil
	case TenderMpesa:
		code, amt, hasAmt := strings.Cut(arg, "=")
		c, err := NormalizeMpesaCode(code)
		if err != nil {
			return TenderRequest{}, err
		}
		tr := TenderRequest{Kind: TenderMpesa, Reference: c}
		if hasAmt {
			v, err := ParseMajor("KES", amt)
			if err != nil {
				return TenderRequest{}, err
			}
			tr.Amount = &Money{"KES", v}
		}
		return tr, nil
	case TenderCard:
		if arg == "" {
			return TenderRequest{Kind: TenderCard}, nil
		}
		code, last4, _ := strings.Cut(arg, "/")
		code, last4, err := NormalizeCardSlip(code, last4)
		if err != nil {
			return TenderRequest{}, err
		}
		return TenderRequest{Kind: TenderCard, Reference: code, CardLast4: last4}, nil
	case TenderBank:
		bank, rest, ok := strings.Cut(arg, ":")
		if !ok {
			return TenderRequest{}, Errorf(EINVALID, "a bank tender is bank:BANK:REFERENCE[=AMOUNT], e.g. bank:KCB:FT24003ABC12")
		}
		ref, amt, hasAmt := strings.Cut(rest, "=")
		b, err := NormalizeBankCode(bank)
		if err != nil {
			return TenderRequest{}, err
		}
		r, err := NormalizeBankReference(ref)
		if err != nil {
			return TenderRequest{}, err
		}
		tr := TenderRequest{Kind: TenderBank, Bank: b, Reference: r}
		if hasAmt {
			m, err := parseTenderAmount(amt)
			if err != nil {
				return TenderRequest{}, err
			}
			tr.Amount = &m
		}
		return tr, nil
	case TenderDefer:
		if arg != "" {
			return TenderRequest{}, Errorf(EINVALID, "defer takes no amount: the pass carries what is due")
		}
		return TenderRequest{Kind: TenderDefer}, nil
	}
	return TenderRequest{}, Errorf(EINVALID, "unknown tender %q: use cash, cash:KES=AMOUNT, mpesa:CODE, card:APPROVAL, card, bank:BANK:REFERENCE or defer", s)
}

// parseTenderAmount reads a bank tender's amount: AMOUNT in KES, or
// CUR=AMOUNT.
func parseTenderAmount(s string) (Money, error) {
	if strings.Contains(s, "=") {
		return ParseMoneyArg(s)
	}
	v, err := ParseMajor("KES", s)
	if err != nil {
		return Money{}, err
	}
	return Money{"KES", v}, nil
}

// ParseMoneyArg parses CUR=AMOUNT with the amount in major units: KES=5000.
func ParseMoneyArg(s string) (Money, error) {
	cur, amt, ok := strings.Cut(s, "=")
	if !ok {
		return Money{}, Errorf(EINVALID, "%q is not CURRENCY=AMOUNT, e.g. KES=5000", s)
	}
	c := Currency(strings.ToUpper(strings.TrimSpace(cur)))
	v, err := ParseMajor(c, amt)
	if err != nil {
		return Money{}, err
	}
	return Money{c, v}, nil
}

// Tendering is the outcome of applying tenders to an amount due.
type Tendering struct {
	State       SaleState
	Tenders     []Tender
	Conversions []Conversion
	Due         Totals // still due (deferred sales)
	Change      Totals
}

// ApplyTenders applies tenders to what is due, in order. It is pure: it
// changes nothing and refuses (EINVALID) when tenders fall short of the total,
// overpay with something other than cash, pay a currency not due, or mix
// defer with other tenders.
func ApplyTenders(cat *Catalogue, due Totals, reqs []TenderRequest) (Tendering, error) {
	due = due.Clone().Clean()
	if len(reqs) == 0 {
		if len(due) == 0 {
			return Tendering{State: SalePaid}, nil
		}
		return Tendering{}, Errorf(EINVALID, "no tender: %s is due: choose cash, M-PESA, card or defer", due)
	}
	if len(reqs) > 8 {
		return Tendering{}, Errorf(EINVALID, "too many tenders (%d); at most 8", len(reqs))
	}
	if len(due) == 0 && freeCash(reqs) {
		// Free entry (under-fives, exemptions, a free day): the attendant
		// who keys cash, or cash of zero, out of habit is paid in full with
		// nothing taken. No tender is recorded: no money changed hands.
		return Tendering{State: SalePaid}, nil
	}
	for _, r := range reqs {
		if r.Kind == TenderDefer {
			if len(reqs) > 1 {
				return Tendering{}, Errorf(EINVALID, "defer cannot be combined with other tenders").WithID("defer_mixed", nil)
			}
			if len(due) == 0 {
				return Tendering{}, Errorf(EINVALID, "nothing is due, so nothing can be deferred")
			}
			return Tendering{State: SaleDeferred, Due: due}, nil
		}
	}
	base := cat.BaseCurrency
	// Currencies that no tender names are converted to the base currency:
	// that is how a USD fee is paid in KES, at the catalogue rate.
	named := map[Currency]bool{}
	for _, r := range reqs {
		if r.Amount != nil {
			named[r.Amount.Currency] = true
		} else if r.Kind == TenderCash {
			for c := range due {
				named[c] = true
			}
		}
	}
	out := Tendering{State: SalePaid, Change: Totals{}}
	remaining := due.Clone()
	for _, c := range due.Currencies() {
		if c == base || named[c] {
			continue
		}
		kes, rate, err := cat.Convert(c, remaining[c])
		if err != nil {
			return Tendering{}, err
		}
		out.Conversions = append(out.Conversions, Conversion{From: c, To: base, Amount: remaining[c], Converted: kes, Rate: rate.Rate, Source: rate.Source})
		remaining[base] += kes
		delete(remaining, c)
	}
	seenRef := map[string]bool{}
	for _, r := range reqs {
		if r.Kind == TenderBank {
			if err := cat.CheckBank(r.Bank); err != nil {
				return Tendering{}, err
			}
		}
		if r.Reference != "" {
			if seenRef[string(r.Kind)+r.Bank+":"+r.Reference] {
				return Tendering{}, Errorf(EINVALID, "%s reference %s is given twice", r.Kind, r.Reference).WithID("reference_twice", map[string]any{"Ref": r.Reference})
			}
			seenRef[string(r.Kind)+r.Bank+":"+r.Reference] = true
		}
		if r.Kind == TenderMpesa && r.Amount != nil && r.Amount.Currency != "KES" {
			return Tendering{}, Errorf(EINVALID, "M-PESA pays in KES only").WithID("mpesa_kes_only", nil)
		}
		if r.Amount == nil {
			cs := []Currency{base}
			if r.Kind == TenderCash {
				cs = remaining.Currencies()
			}
			paid := false
			for _, c := range cs {
				if remaining[c] <= 0 {
					continue
				}
				out.Tenders = append(out.Tenders, Tender{Kind: r.Kind, Currency: c, Amount: remaining[c], Reference: r.Reference, CardLast4: r.CardLast4, Bank: r.Bank})
				remaining[c] = 0
				paid = true
			}
			if !paid {
				return Tendering{}, Errorf(EINVALID, "%s tender: nothing is left to pay", r.Kind).WithID("nothing_left", nil)
			}
			continue
		}
		m := *r.Amount
		if m.Minor <= 0 {
			return Tendering{}, Errorf(EINVALID, "%s amount must be more than zero", r.Kind)
		}
		left, ok := remaining[m.Currency]
		if !ok {
			return Tendering{}, Errorf(EINVALID, "no %s is due (due: %s)", m.Currency, due).WithID("currency_not_due", map[string]any{"Currency": string(m.Currency), "Due": due.String()})
		}
		if left == 0 {
			return Tendering{}, Errorf(EINVALID, "%s tender of %s: nothing is left to pay in %s", r.Kind, m, m.Currency).WithID("nothing_left", nil)
		}
		t := Tender{Kind: r.Kind, Currency: m.Currency, Amount: m.Minor, Reference: r.Reference, CardLast4: r.CardLast4, Bank: r.Bank}
		if m.Minor > left {
			if r.Kind != TenderCash {
				return Tendering{}, Errorf(EINVALID, "%s amount %s is more than the %s due", r.Kind, m, Money{m.Currency, left}).WithID("more_than_due", map[string]any{"Amount": m.String(), "Due": Money{m.Currency, left}.String()})
			}
			t.Change = m.Minor - left
			out.Change[m.Currency] += t.Change
		}
		remaining[m.Currency] = max(left-m.Minor, 0)
		out.Tenders = append(out.Tenders, t)
	}
	if short := remaining.Clean(); len(short) > 0 {
		return Tendering{}, Errorf(EINVALID, "tender short of the total: %s still due", short).WithID("tender_short", map[string]any{"Due": short.String()})
	}
	out.Change.Clean()
	return out, nil
}

// freeCash reports whether every tender is cash of no stated amount or of
// zero: what an attendant keys for a sale that comes to nothing.
func freeCash(reqs []TenderRequest) bool {
	for _, r := range reqs {
		if r.Kind != TenderCash || (r.Amount != nil && r.Amount.Minor != 0) {
			return false
		}
	}
	return true
}

// Sale is a recorded sale (or refund: Kind "refund", negative amounts).
type Sale struct {
	ID               string       `json:"id"`
	Number           int64        `json:"number"` // receipt number, per terminal
	Kind             string       `json:"kind"`   // sale, refund
	Terminal         string       `json:"terminal"`
	Site             string       `json:"site"`
	ShiftID          string       `json:"shift_id"`
	Operator         string       `json:"operator"`
	At               time.Time    `json:"at"`
	State            SaleState    `json:"state"`
	Vehicle          string       `json:"vehicle,omitempty"`
	CatalogueVersion string       `json:"catalogue_version"`
	Season           string       `json:"season,omitempty"`
	Lines            []Line       `json:"lines"`
	Totals           Totals       `json:"totals"`
	Tenders          []Tender     `json:"tenders"`
	Conversions      []Conversion `json:"conversions,omitempty"`
	Due              Totals       `json:"due,omitempty"`
	RefundOf         string       `json:"refund_of,omitempty"`
	Void             *Void        `json:"void,omitempty"`
	Pass             string       `json:"pass,omitempty"`
	Override         *Override    `json:"override,omitempty"`
	// Owed is who owes a deferred sale (tour operator, driver's phone),
	// when the attendant recorded it. Absent in sales before it existed.
	Owed *Owed `json:"owed,omitempty"`
}

// Void records who voided a sale and why.
type Void struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// NormalizePlate upper-cases a vehicle registration plate ("kcb 123a" →
// "KCB 123A") and checks it: 2–12 letters, digits, spaces or dashes, with
// at least one letter or digit (the pass carries the plate without its
// spaces and dashes: see CompactPlate).
func NormalizePlate(s string) (string, error) {
	p := strings.Join(strings.Fields(strings.ToUpper(s)), " ")
	if p == "" {
		return "", nil
	}
	if !isPlateText(p) {
		return "", Errorf(EINVALID, "vehicle plate %q is not valid: 2–12 letters, digits, spaces or dashes", s)
	}
	if CompactPlate(p) == "" {
		return "", Errorf(EINVALID, "the plate %q has no letters or digits: type the registration as on the number plate, e.g. KCB 456Z", s)
	}
	if err := CheckPassPlate(CompactPlate(p)); err != nil {
		return "", Errorf(EINVALID, "vehicle plate %q is not valid: %v", s, err)
	}
	return p, nil
}

// isPlateText reports whether p is 2–12 of A–Z, 0–9, space or dash: a plate
// as NormalizePlate leaves it. It is on every sale's path, so it is a loop,
// not a regular expression (a tenth of the time).
func isPlateText(p string) bool {
	if len(p) < 2 || len(p) > 12 {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == ' ', c == '-':
		default:
			return false
		}
	}
	return true
}

// ValidateReason checks a void or refund reason.
func ValidateReason(s string) (string, error) {
	r := strings.TrimSpace(s)
	if r == "" {
		return "", Errorf(EINVALID, "a reason is required")
	}
	if len(r) > 200 || !printable(r) {
		return "", Errorf(EINVALID, "the reason must be at most 200 printable characters")
	}
	return r, nil
}

// SaleRequest is everything needed to make a sale.
type SaleRequest struct {
	Operator string
	Lines    []LineRequest
	Vehicle  string
	Tenders  []TenderRequest
	// Quoted, if set, is the totals the customer was asked to pay (what a
	// card was charged for): Sell refuses with ECONFLICT when its own
	// pricing comes to anything else, e.g. after sync switched catalogue.
	Quoted Totals `json:",omitempty"`
	// Override, if set, is a supervisor's approval of what the kiosk
	// refuses on its own (more visitors than the vehicle's seats): the
	// sale records it.
	Override *Override `json:",omitempty"`
	// OwedBy names the tour operator who owes a deferred sale (its code
	// or licence in the catalogue), Phone the driver's number: both
	// optional, both only on a deferred sale.
	OwedBy string `json:",omitempty"`
	Phone  string `json:",omitempty"`
}

// Override records that a supervisor approved a sale past one of the
// kiosk's guards, and which: "seats: 8 visitors in CAR (up to 6)".
type Override struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// CheckQuoted refuses priced totals that are not the request's quote (no
// quote: nothing to check).
func (r SaleRequest) CheckQuoted(priced Totals) error {
	if len(r.Quoted) == 0 {
		return nil
	}
	q, p := r.Quoted.Clone().Clean(), priced.Clone().Clean()
	same := len(q) == len(p)
	for c, n := range q {
		if p[c] != n {
			same = false
		}
	}
	if !same {
		return Errorf(ECONFLICT, "the prices changed since the customer was quoted %s: it is now %s: quote the customer again", q, p)
	}
	return nil
}

// Validate checks the parts of a request that need no catalogue or store.
func (r SaleRequest) Validate() error {
	if len(r.Lines) == 0 {
		return Errorf(EINVALID, "the sale has no items")
	}
	if _, err := NormalizePlate(r.Vehicle); err != nil {
		return err
	}
	if _, err := NormalizePhone(r.Phone); err != nil {
		return err
	}
	if o := r.Override; o != nil {
		if _, err := ValidateName(o.By); err != nil {
			return Errorf(EINVALID, "an override names the supervisor who approved it")
		}
		if _, err := ValidateReason(o.Reason); err != nil {
			return Errorf(EINVALID, "an override says why, in at most 200 printable characters")
		}
	}
	// No tender is checked against the total by ApplyTenders: a sale that
	// comes to nothing (free entry) needs none.
	return CheckItemQuantities(r.Lines)
}

// CheckItemQuantities refuses a sale whose lines of one item add up to more
// than MaxQty (the lines are summed on the pass, one line per kind of
// visitor). Pricing checks each line, and a service's own max_qty.
func CheckItemQuantities(reqs []LineRequest) error {
	sum := map[string]int{}
	lines := map[string]int{}
	var order []string
	for _, r := range reqs {
		code := strings.ToUpper(strings.TrimSpace(r.Code))
		if r.Qty <= 0 || r.Qty > MaxQty {
			continue // priceLine says what is wrong with the line
		}
		if _, ok := sum[code]; !ok {
			order = append(order, code)
		}
		sum[code] += r.Qty
		lines[code]++
	}
	for _, code := range order {
		if sum[code] > MaxQty {
			return Errorf(EINVALID, "%s: %d in this sale (on %d lines); at most %d of one item in one sale", code, sum[code], lines[code], MaxQty)
		}
	}
	return nil
}

// PartyCounts sums the people on a sale by category and band, for the pass.
func (s *Sale) PartyCounts() []PartyCount {
	idx := map[[2]string]int{}
	var out []PartyCount
	for _, l := range s.Lines {
		if l.Kind != "entry" {
			continue
		}
		k := [2]string{l.Category, l.Band}
		if i, ok := idx[k]; ok {
			out[i].Count += l.Qty
			continue
		}
		idx[k] = len(out)
		out = append(out, PartyCount{Category: l.Category, Band: l.Band, Count: l.Qty})
	}
	slices.SortFunc(out, func(a, b PartyCount) int { return strings.Compare(a.Category+a.Band, b.Category+b.Band) })
	return out
}

// PartyCount is a number of people of a category and age band.
type PartyCount struct {
	Category string `json:"category"`
	Band     string `json:"band"`
	Count    int    `json:"count"`
}

// String is a short description used in messages.
func (s *Sale) String() string {
	return fmt.Sprintf("sale %d (%s, %s)", s.Number, s.State, s.Totals)
}
