package hub

import (
	"cmp"
	"encoding/json"
	"hash/fnv"
	"slices"
	"time"

	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/terminal"
)

// The report's state is kept at ingest, in the transaction that applies
// the events, so that the report costs what it shows and not what the hub
// has ever stored. The rules are here, once; a store keeps the rows
// (ReportDelta) and hands them back (ReportState).
//
// What the state holds:
//   - takings by terminal, site, tender and currency, with the number of
//     tenders behind each (a row with none is not a taking: a sale and its
//     void cancel out and leave no line);
//   - the deferred passes still unsettled, as the report prints them;
//   - the catalogue refusal that stands for each terminal;
//   - facts: the few fields of each sale, void, settlement, use, ticket
//     redemption, site operator and M-PESA code that conflicts are made of,
//     grouped by what they name (a pass, a ticket, an operator name, an
//     M-PESA code). A group becomes hot when what it holds could be a
//     conflict (two uses, a use and a void, a use of another site's pass);
//     the report reads the facts of hot groups only and finds the
//     conflicts in them with the rules it always had. A bank tender's
//     group (bank.used and the void of its sale) is hot from its tender
//     on: the bank section lists every bank tender;
//   - each M-PESA code's reconciliation line (MpesaCode), kept as its
//     tenders (FactMpesa facts) and the M-PESA ledger change, and the
//     totals of the codes by terminal, status and paybill: the report
//     lists the codes that are not matched and sums the rest.
//
// A new field of the report that comes from events plugs in here: derive
// it in reportEvent (or the unsettled body in unsettledBody), read it back
// in Report, and raise ReportStateVersion so that every store rebuilds its
// state from the events it holds when it next opens.

// ReportStateVersion is the version of the rules below. A store whose
// state was built by another version rebuilds it (RebuildReport).
const ReportStateVersion = 3

// Groups of report facts: what the facts name.
const (
	FactPass     = "pass"     // a sale or pass id: sale, void, settled, used
	FactTicket   = "ticket"   // a prepaid ticket number: redeemed
	FactOperator = "operator" // a site operator's name: operator
	FactMpesa    = "mpesa"    // an M-PESA receipt code: mpesa
	FactBank     = "bank"     // a sale id (or, for a deposit or a settlement, the bank.used event's id): bank_used, bank_void
)

// Kinds of report facts.
const (
	factSale     = "sale"
	factVoid     = "void"
	factSettled  = "settled"
	factUsed     = "used"
	factRedeemed = "redeemed"
	factOperator = "operator"
	factMpesa    = "mpesa"
	factBankUsed = "bank_used"
	factBankVoid = "bank_void"
)

// ReportTypes are the event types the report's state is made of.
var ReportTypes = []string{terminal.EventSaleCreated, terminal.EventSaleVoided, terminal.EventSaleRefunded, terminal.EventPassSettled,
	terminal.EventPassUsed, terminal.EventOperatorAdded, terminal.EventCatalogue, terminal.EventCatalogueBad, EventTicketRedeemed, terminal.EventBankUsed}

// ReportKey names a group of facts.
type ReportKey struct{ Group, Key string }

// Lock is a number for the group, for a store that serializes the
// transactions touching one group (an advisory lock).
func (k ReportKey) Lock() int64 {
	h := fnv.New64a()
	h.Write([]byte(k.Group))
	h.Write([]byte{0})
	h.Write([]byte(k.Key))
	return int64(h.Sum64())
}

// ReportFact is one fact of the report's state: an event (Terminal, Seq;
// N counts the facts of one kind and key in one event) naming Key. Body
// is opaque to the store.
type ReportFact struct {
	Group, Key, Kind, Site, Terminal string
	Seq                              int64
	N                                int
	Body                             []byte
}

// TakingDelta changes the takings row of a terminal: Amount in minor
// units, Tenders the number of tenders behind it.
type TakingDelta struct {
	Terminal, Site, Tender, Currency string
	Amount                           int64
	Tenders                          int
}

// UnsettledRow is a deferred pass owed, as the report prints it (Body is
// an UnsettledPass).
type UnsettledRow struct {
	Site, SaleID, Terminal string
	Seq                    int64
	Body                   []byte
}

// RefusedRow is the catalogue refusal that stands for a terminal; a nil
// Body clears it.
type RefusedRow struct {
	Terminal string
	Body     []byte
}

// ReportDelta is what a batch of events changes in the report's state.
// A store applies it in the events' transaction: Settled rows are
// deleted, the others inserted (Takings added to what is held; Hot and
// Facts already held are kept as they are; a Refused row replaces the
// terminal's).
type ReportDelta struct {
	Facts     []ReportFact
	Takings   []TakingDelta
	Unsettled []UnsettledRow
	Settled   [][2]string // site, sale id: the unsettled rows that go
	Hot       []ReportKey
	Refused   []RefusedRow
	// Mpesa are the M-PESA codes that gained facts: the store keeps their
	// lines again (MpesaChanges), after inserting Facts.
	Mpesa []string
	// MpesaFacts are every fact of each code of Mpesa, those held (the
	// store gave them to Changes: all of each group it names) and the
	// batch's: what the store holds of them once Facts are in, so that
	// it need not read them back.
	MpesaFacts map[string][]ReportFact
}

// ReportState is what a store holds of the report's state: the takings
// summed over terminals (rows with tenders behind them only), the
// unsettled passes and standing catalogue refusals (Body of their rows,
// refusals in the order of the terminals' enrollment), every fact of the
// hot groups, and, when asked, the M-PESA codes not matched (Body of
// their MpesaCode rows, any order) and the codes' totals summed over
// terminals (rows with codes behind them only).
type ReportState struct {
	Takings     []Taking
	Unsettled   [][]byte
	Refused     [][]byte
	Hot         []ReportFact
	MpesaLines  [][]byte
	MpesaTotals []mpesa.Total
}

// reportItem is one event's part of the state, decoded.
type reportItem struct {
	e       *StoredEvent
	facts   []ReportFact
	tenders []terminal.Tender // money it takes, whatever else happens
	sale    *terminal.Sale
	// saleTakings: the sale fact's body as decoded (what it took), so
	// that Changes need not decode the body it has just encoded.
	saleTakings []TakingDelta
	refused     []byte // catalogue.bad: the refusal; catalogue: clears (empty, non-nil)
	clears      bool
}

// ReportBatch is a batch of applied events on their way into the state:
// NewReportBatch decodes them, Lookups says which groups the store must
// read (every fact of each, with a lock first where several processes
// apply at once), Changes makes the delta.
type ReportBatch struct {
	items []reportItem
	// Lean: Changes keeps no fact for a paid sale while nothing else
	// names it (the common case: a drain of new sales then writes no
	// facts). The store that sets it gives Changes, besides the held
	// facts, the sale events of the ids SaleLookups names (through their
	// records); a lone sale's fact is written once another fact joins its
	// group, so every group with two facts or more holds them all, as
	// without Lean.
	Lean bool
	// notSales are the groups the batch names with a fact that is not a
	// sale's (OnlySales), once asked.
	notSales map[ReportKey]bool
}

// saleBody is a sale fact's body: what the sale took, for its void.
type saleBody struct {
	Tenders []TakingDelta `json:"t,omitempty"`
}

type voidBody struct {
	At time.Time `json:"at"`
}

type mpesaBody struct {
	Use    ConflictUse  `json:"use"`
	Tender mpesa.Tender `json:"tender"`
}

// NewReportBatch decodes the events that make the report's state (those
// of ReportTypes); events that do not decode add nothing, as the report
// always skipped them.
func NewReportBatch(events []StoredEvent) *ReportBatch {
	b := &ReportBatch{}
	for i := range events {
		e := &events[i]
		it := reportItem{e: e}
		fact := func(group, key, kind string, n int, body any) {
			raw, _ := json.Marshal(body)
			it.facts = append(it.facts, ReportFact{Group: group, Key: key, Kind: kind, Site: e.Site, Terminal: e.Terminal, Seq: e.Seq, N: n, Body: raw})
		}
		mpesaUses := func(ts []terminal.Tender, u ConflictUse) {
			for _, t := range ts {
				if t.Kind == terminal.TenderMpesa && t.Amount > 0 && t.Reference != "" {
					id := u.SaleID
					if id == "" {
						id = u.SettlementID
					}
					fact(FactMpesa, t.Reference, factMpesa, len(it.facts), mpesaBody{Use: u,
						Tender: mpesa.Tender{Code: t.Reference, Amount: t.Net(), Account: u.Site, Paybill: t.Paybill, Site: u.Site, Terminal: u.Terminal, SaleID: id, At: u.At}})
				}
			}
		}
		switch e.Type {
		case terminal.EventSaleCreated:
			s := decodeSale(e.Payload)
			if s == nil {
				continue
			}
			mpesaUses(s.Tenders, ConflictUse{Site: e.Site, Terminal: e.Name, SaleID: s.ID, Seq: e.Seq, At: e.At})
			var body saleBody
			for _, t := range s.Tenders {
				if t.Kind != terminal.TenderDefer {
					body.Tenders = append(body.Tenders, TakingDelta{Tender: string(t.Kind), Currency: string(t.Currency), Amount: t.Net(), Tenders: 1})
				}
			}
			fact(FactPass, s.ID, factSale, 0, body)
			it.sale, it.saleTakings = s, body.Tenders
		case terminal.EventSaleVoided:
			var p terminal.SaleVoid
			if json.Unmarshal(e.Payload, &p) != nil || p.SaleID == "" {
				continue
			}
			fact(FactPass, p.SaleID, factVoid, 0, voidBody{At: e.At})
			fact(FactBank, p.SaleID, factBankVoid, 0, voidBody{At: e.At})
		case terminal.EventSaleRefunded:
			var p terminal.SaleRefunded
			if json.Unmarshal(e.Payload, &p) != nil {
				continue
			}
			it.tenders = p.Refund.Tenders
		case terminal.EventPassSettled:
			var p terminal.PassSettled
			if json.Unmarshal(e.Payload, &p) != nil {
				continue
			}
			if p.PassID != "" {
				fact(FactPass, p.PassID, factSettled, 0, ConflictUse{Site: e.Site, Terminal: e.Name, SettlementID: p.SettlementID, SaleID: p.SaleID, Seq: e.Seq, At: e.At})
			}
			it.tenders = settledTenders(&p)
			mpesaUses(it.tenders, ConflictUse{Site: e.Site, Terminal: e.Name, SettlementID: p.SettlementID, Seq: e.Seq, At: e.At})
		case terminal.EventPassUsed:
			var p terminal.PassUsed
			if json.Unmarshal(e.Payload, &p) != nil || p.PassID == "" {
				continue
			}
			fact(FactPass, p.PassID, factUsed, 0, ConflictUse{Site: e.Site, Terminal: e.Name, SaleID: p.PassID, Seq: e.Seq, At: e.At})
		case EventTicketRedeemed:
			var p TicketRedeemed
			if json.Unmarshal(e.Payload, &p) != nil || p.TicketNo == "" {
				continue
			}
			fact(FactTicket, p.TicketNo, factRedeemed, 0, ConflictUse{Site: e.Site, Terminal: e.Name, Seq: e.Seq, At: e.At})
		case terminal.EventOperatorAdded:
			var p terminal.OperatorAdded
			if json.Unmarshal(e.Payload, &p) != nil || p.Scope != "site" || p.Name == "" {
				continue
			}
			fact(FactOperator, p.Name, factOperator, 0, ConflictUse{Site: e.Site, Terminal: e.Name, OperatorID: p.ID, Seq: e.Seq, At: e.At})
		case terminal.EventBankUsed:
			var p terminal.BankUsed
			if json.Unmarshal(e.Payload, &p) != nil || p.Bank == "" || p.Reference == "" || p.Amount <= 0 {
				continue
			}
			kind := "tender"
			if p.DepositID != "" {
				kind = "deposit"
			}
			key := p.SaleID
			if key == "" {
				key = "event:" + e.ID
			}
			fact(FactBank, key, factBankUsed, 0, bank.Tender{Kind: kind, Bank: p.Bank, Reference: p.Reference, Currency: p.Currency, Amount: p.Amount,
				Site: e.Site, Terminal: e.Name, SaleID: p.SaleID, SettlementID: p.SettlementID, ShiftID: p.ShiftID, At: e.At})
		case terminal.EventCatalogue:
			it.clears = true
		case terminal.EventCatalogueBad:
			var p terminal.CatalogueRefused
			if json.Unmarshal(e.Payload, &p) != nil {
				continue
			}
			it.refused, _ = json.Marshal(RefusedCatalogue{Site: e.Site, Terminal: e.Name, Seq: p.Seq, Version: p.Version, Reason: p.Reason, At: e.At})
		default:
			continue
		}
		b.items = append(b.items, it)
	}
	return b
}

// Lookups returns the groups whose facts Changes must see, sorted (the
// order in which a store takes their locks).
func (b *ReportBatch) Lookups() []ReportKey {
	var keys []ReportKey
	for _, it := range b.items {
		for _, f := range it.facts {
			keys = append(keys, ReportKey{f.Group, f.Key})
		}
	}
	slices.SortFunc(keys, func(a, b ReportKey) int { return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Key, b.Key)) })
	return slices.Compact(keys)
}

// OnlySales reports whether every fact the batch names k with is a sale's
// (a new sale, which no other fact of the batch names): two batches of
// such facts alone need not see each other's, and a store may let them
// apply at once (PostgreSQL's shared locks, reportlocks.go).
func (b *ReportBatch) OnlySales(k ReportKey) bool {
	if b.notSales == nil {
		b.notSales = map[ReportKey]bool{}
		for _, it := range b.items {
			for _, f := range it.facts {
				if f.Kind != factSale {
					b.notSales[ReportKey{f.Group, f.Key}] = true
				}
			}
		}
	}
	return !b.notSales[k]
}

// SaleLookups returns, for a Lean batch, the sale ids whose sale events
// Changes must be given, if the store holds them: those the batch's
// voids, settlements and uses name (the void takes back the sale's
// tenders; a use must see a sale of another site), and extra (sales the
// batch sends again under an id already held).
func (b *ReportBatch) SaleLookups(extra ...string) []string {
	ids := slices.Clone(extra)
	for _, it := range b.items {
		for _, f := range it.facts {
			if f.Group == FactPass && f.Kind != factSale {
				ids = append(ids, f.Key)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// unsettledBody is a deferred sale's line in the report's unsettled list.
func unsettledBody(e *StoredEvent, s *terminal.Sale) []byte {
	raw, _ := json.Marshal(terminal.UnsettledOf(s, e.Site, e.Name, s.At)) // its age is the report's to add
	return raw
}

// Changes returns what the batch changes, given held: every fact the
// store holds of the groups Lookups named; and, for a Lean batch, sales:
// the sale events of SaleLookups' ids the store holds.
func (b *ReportBatch) Changes(held []ReportFact, sales ...StoredEvent) ReportDelta {
	var d ReportDelta
	groups := map[ReportKey][]ReportFact{}
	for _, f := range held {
		k := ReportKey{f.Group, f.Key}
		groups[k] = append(groups[k], f)
	}
	// lone: the sale facts not written (yet): a Lean batch's paid sales
	// alone in their groups, and the sales the store gave, which it may
	// hold no fact of. Each is written when another fact joins its group.
	lone := map[ReportKey][]ReportFact{}
	if len(sales) > 0 {
		own := map[[2]any]bool{}
		for _, it := range b.items {
			own[[2]any{it.e.Terminal, it.e.Seq}] = true
		}
		for _, it := range NewReportBatch(sales).items {
			for _, f := range it.facts {
				k := ReportKey{f.Group, f.Key}
				if f.Kind != factSale || own[[2]any{f.Terminal, f.Seq}] || slices.ContainsFunc(groups[k], func(h ReportFact) bool {
					return h.Kind == factSale && h.Terminal == f.Terminal && h.Seq == f.Seq && h.N == f.N
				}) {
					continue // one of this batch's, or held as a fact already
				}
				groups[k] = append(groups[k], f)
				lone[k] = append(lone[k], f)
			}
		}
	}
	hot := map[ReportKey]bool{}
	type takingKey struct{ terminal, site, tender, currency string }
	takings := map[takingKey]*TakingDelta{}
	var takingOrder []takingKey
	take := func(terminalID, site string, t TakingDelta, sign int) {
		k := takingKey{terminalID, site, t.Tender, t.Currency}
		td, ok := takings[k]
		if !ok {
			td = &TakingDelta{Terminal: terminalID, Site: site, Tender: t.Tender, Currency: t.Currency}
			takings[k] = td
			takingOrder = append(takingOrder, k)
		}
		td.Amount += int64(sign) * t.Amount
		td.Tenders += sign * t.Tenders
	}
	type unsettledKey struct {
		site, sale, terminal string
		seq                  int64
	}
	pending := map[unsettledKey][]byte{}
	var pendingOrder []unsettledKey
	settle := func(site, id string) {
		for k := range pending {
			if k.site == site && k.sale == id {
				delete(pending, k)
			}
		}
		d.Settled = append(d.Settled, [2]string{site, id})
	}
	has := func(fs []ReportFact, kind, site string) bool {
		return slices.ContainsFunc(fs, func(f ReportFact) bool { return f.Kind == kind && f.Site == site })
	}
	refused := map[string][]byte{}
	var refusedOrder []string
	mpesaCodes := map[string]bool{}

	for _, it := range b.items {
		e := it.e
		for _, t := range it.tenders {
			if t.Kind != terminal.TenderDefer {
				take(e.Terminal, e.Site, TakingDelta{Tender: string(t.Kind), Currency: string(t.Currency), Amount: t.Net(), Tenders: 1}, 1)
			}
		}
		if it.clears || it.refused != nil {
			if _, ok := refused[e.Terminal]; !ok {
				refusedOrder = append(refusedOrder, e.Terminal)
			}
			refused[e.Terminal] = it.refused
		}
		for _, f := range it.facts {
			k := ReportKey{f.Group, f.Key}
			before := groups[k]
			write := true
			switch f.Kind {
			case factSale:
				write = !b.Lean || len(before) > 0 || it.sale.State == terminal.SaleDeferred
				if !has(before, factVoid, f.Site) {
					for _, t := range it.saleTakings {
						take(e.Terminal, f.Site, t, 1)
					}
					if it.sale.State == terminal.SaleDeferred && !has(before, factSettled, f.Site) {
						uk := unsettledKey{f.Site, f.Key, f.Terminal, f.Seq}
						pending[uk] = unsettledBody(e, it.sale)
						pendingOrder = append(pendingOrder, uk)
					}
				}
			case factVoid:
				if !has(before, factVoid, f.Site) {
					for _, s := range before {
						if s.Kind != factSale || s.Site != f.Site {
							continue
						}
						var body saleBody
						json.Unmarshal(s.Body, &body)
						for _, t := range body.Tenders {
							take(e.Terminal, f.Site, t, -1)
						}
					}
				}
				settle(f.Site, f.Key)
			case factSettled:
				settle(f.Site, f.Key)
			}
			groups[k] = append(before, f)
			if !write {
				lone[k] = append(lone[k], f)
			} else {
				d.Facts = append(d.Facts, lone[k]...)
				delete(lone, k)
				d.Facts = append(d.Facts, f)
			}
			if k.Group == FactMpesa && !mpesaCodes[k.Key] {
				mpesaCodes[k.Key] = true
				d.Mpesa = append(d.Mpesa, k.Key)
			}
			if !hot[k] && isHot(k.Group, groups[k]) {
				hot[k] = true
				d.Hot = append(d.Hot, k)
			}
		}
	}
	for _, k := range takingOrder {
		if td := takings[k]; td.Amount != 0 || td.Tenders != 0 {
			d.Takings = append(d.Takings, *td)
		}
	}
	for _, k := range pendingOrder {
		if body, ok := pending[k]; ok {
			d.Unsettled = append(d.Unsettled, UnsettledRow{Site: k.site, SaleID: k.sale, Terminal: k.terminal, Seq: k.seq, Body: body})
			delete(pending, k)
		}
	}
	for _, id := range refusedOrder {
		d.Refused = append(d.Refused, RefusedRow{Terminal: id, Body: refused[id]})
	}
	if len(d.Mpesa) > 0 {
		d.MpesaFacts = make(map[string][]ReportFact, len(d.Mpesa))
		for _, code := range d.Mpesa {
			d.MpesaFacts[code] = groups[ReportKey{FactMpesa, code}]
		}
	}
	return d
}

// isHot reports whether the facts of a group could make a conflict: two
// of one site for tickets and operators, two anywhere for an M-PESA code;
// for a pass, two uses (settled or used), a use and a void, or a use and a
// sale of another site.
func isHot(group string, fs []ReportFact) bool {
	switch group {
	case FactTicket, FactOperator:
		for i := range fs {
			for j := i + 1; j < len(fs); j++ {
				if fs[i].Site == fs[j].Site {
					return true
				}
			}
		}
		return false
	case FactMpesa:
		return len(fs) > 1
	case FactBank:
		return slices.ContainsFunc(fs, func(f ReportFact) bool { return f.Kind == factBankUsed })
	}
	uses, voids := 0, 0
	var useSites, saleSites []string
	for _, f := range fs {
		switch f.Kind {
		case factSettled, factUsed:
			uses++
			useSites = append(useSites, f.Site)
		case factVoid:
			voids++
		case factSale:
			saleSites = append(saleSites, f.Site)
		}
	}
	if uses > 1 || uses > 0 && voids > 0 {
		return true
	}
	for _, u := range useSites {
		for _, s := range saleSites {
			if u != s {
				return true
			}
		}
	}
	return false
}
