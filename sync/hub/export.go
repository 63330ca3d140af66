package hub

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// ExportQuery selects the days of a finance export: From through To
// inclusive, as days in Loc (the sites' time zone).
type ExportQuery struct {
	From, To time.Time // any time of the first and the last day
	Loc      *time.Location
}

// Export is what `lango-hub export` writes: takings by day, site,
// terminal, shift and tender, and every tender of every sale, refund and
// settlement of those days with its reconciliation state.
type Export struct {
	From     string          `json:"from"` // YYYY-MM-DD
	To       string          `json:"to"`
	TimeZone string          `json:"timezone"`
	Takings  []ExportTaking  `json:"takings"`
	Sales    []ExportSaleRow `json:"sales"`
}

// ExportTaking is the money taken (net of change, refunds negative) on one
// day at one terminal in one shift with one tender in one currency; the
// report's takings summed over days, terminals and shifts.
type ExportTaking struct {
	Day      string `json:"day"`
	Site     string `json:"site"`
	Terminal string `json:"terminal"`
	ShiftID  string `json:"shift_id"`
	Tender   string `json:"tender"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
	Count    int    `json:"count"`
}

// ExportSaleRow is one tender of a sale, a refund or a settlement (a
// deferred sale has a row per currency due, tender "defer", amount 0),
// with the states a finance office reconciles:
//   - State: paid, deferred, settled, voided or refund (of the sale);
//   - BankState: matched, amount_mismatch, unknown_at_bank or pending (a
//     bank tender, when the hub keeps a bank ledger);
//   - MpesaState: matched, mismatched, unknown, duplicated or pending (an
//     M-PESA tender, when the hub keeps an M-PESA ledger);
//   - Forwarded: off (no national platform configured), else the state of
//     the sale's bills and reversals at the national platform taken
//     together: posted, pending, refused, or none (nothing to forward);
//   - Settlement: settled or unsettled (a deferred pass), else empty.
//
// Voided sales are listed (State voided) but counted in no taking.
type ExportSaleRow struct {
	Day        string    `json:"day"`
	At         time.Time `json:"at"`
	Site       string    `json:"site"`
	Terminal   string    `json:"terminal"`
	ShiftID    string    `json:"shift_id"`
	Kind       string    `json:"kind"`              // sale, refund, settlement
	SaleID     string    `json:"sale_id"`           // the settlement's id for a settlement
	Settles    string    `json:"settles,omitempty"` // a settlement: the pass (sale id) it settles
	Number     int64     `json:"number,omitempty"`
	State      string    `json:"state"`
	Tender     string    `json:"tender"`
	Currency   string    `json:"currency"`
	Amount     int64     `json:"amount"`
	Due        int64     `json:"due,omitempty"`
	Reference  string    `json:"reference,omitempty"`
	Bank       string    `json:"bank,omitempty"`
	BankState  string    `json:"bank_state,omitempty"`
	MpesaState string    `json:"mpesa_state,omitempty"`
	Forwarded  string    `json:"forwarded"`
	Settlement string    `json:"settlement,omitempty"`
	Operator   string    `json:"operator,omitempty"` // tour operator owing a deferred pass
}

// Export builds the finance export of the days q selects, from the same
// events and reconciliations as the report.
func (h *Hub) Export(ctx context.Context, q ExportQuery) (*Export, error) {
	loc := q.Loc
	if loc == nil {
		loc = time.UTC
	}
	dayOf := func(t time.Time) string { return t.In(loc).Format(time.DateOnly) }
	from, to := dayOf(q.From), dayOf(q.To)
	if to < from {
		return nil, terminal.Errorf(terminal.EINVALID, "the export ends (%s) before it starts (%s)", to, from)
	}
	rep, err := h.Report(ctx)
	if err != nil {
		return nil, err
	}
	x := &Export{From: from, To: to, TimeZone: loc.String(), Takings: []ExportTaking{}, Sales: []ExportSaleRow{}}

	// What the reconciliations say, by sale or settlement id.
	bankState := map[[3]string]string{} // id, bank, reference
	if rep.Bank != nil {
		for _, l := range rep.Bank.Lines {
			id := cmp.Or(l.SaleID, l.SettlementID)
			if id != "" {
				bankState[[3]string{id, l.Bank, l.Reference}] = l.Status
			}
		}
	}
	mpesaState := map[[2]string]string{} // id, code
	if rep.Mpesa != nil {
		for _, l := range rep.Mpesa.Lines {
			for _, s := range l.Sales {
				mpesaState[[2]string{s.SaleID, l.Code}] = l.Status
			}
		}
	}
	fwd, err := h.store.ForwardStates(ctx) // by SITE/SALE-ID
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	forwarded := func(site, id string) string {
		if !rep.Forwarded.Configured {
			return "off"
		}
		return cmp.Or(fwd[site+"/"+id], "none")
	}

	type siteID [2]string
	voided := map[siteID]bool{}
	settled := map[siteID]bool{}
	err = h.store.ScanEvents(ctx, []string{terminal.EventSaleVoided, terminal.EventPassSettled}, func(e StoredEvent) error {
		switch e.Type {
		case terminal.EventSaleVoided:
			var p terminal.SaleVoid
			if json.Unmarshal(e.Payload, &p) == nil && p.SaleID != "" {
				voided[siteID{e.Site, p.SaleID}] = true
			}
		case terminal.EventPassSettled:
			var p terminal.PassSettled
			if json.Unmarshal(e.Payload, &p) == nil && p.PassID != "" {
				settled[siteID{e.Site, p.PassID}] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}

	type takingKey struct{ day, site, terminal, shift, tender, currency string }
	takings := map[takingKey]*ExportTaking{}
	row := func(r ExportSaleRow, ts []terminal.Tender, counted bool) {
		r.Day = dayOf(r.At)
		if r.Day < from || r.Day > to {
			return
		}
		for _, t := range ts {
			tr := r
			tr.Tender, tr.Currency, tr.Amount, tr.Reference, tr.Bank = string(t.Kind), string(t.Currency), t.Net(), t.Reference, t.Bank
			switch t.Kind {
			case terminal.TenderBank:
				tr.BankState = bankState[[3]string{r.SaleID, t.Bank, t.Reference}]
			case terminal.TenderMpesa:
				tr.MpesaState = mpesaState[[2]string{r.SaleID, t.Reference}]
				if tr.MpesaState == "" && rep.Mpesa != nil && t.Reference != "" && t.Amount > 0 {
					tr.MpesaState = mpesa.Matched // the report lists every code not matched
				}
			}
			x.Sales = append(x.Sales, tr)
			if !counted || t.Kind == terminal.TenderDefer {
				continue
			}
			k := takingKey{r.Day, r.Site, r.Terminal, r.ShiftID, string(t.Kind), string(t.Currency)}
			tk := takings[k]
			if tk == nil {
				tk = &ExportTaking{Day: k.day, Site: k.site, Terminal: k.terminal, ShiftID: k.shift, Tender: k.tender, Currency: k.currency}
				takings[k] = tk
			}
			tk.Amount += t.Net()
			tk.Count++
		}
	}
	err = h.store.ScanEvents(ctx, []string{terminal.EventSaleCreated, terminal.EventSaleRefunded, terminal.EventPassSettled}, func(e StoredEvent) error {
		switch e.Type {
		case terminal.EventSaleCreated:
			var s terminal.Sale
			if json.Unmarshal(e.Payload, &s) != nil {
				return nil
			}
			k := siteID{e.Site, s.ID}
			r := ExportSaleRow{At: s.At, Site: e.Site, Terminal: e.Name, ShiftID: s.ShiftID, Kind: "sale", SaleID: s.ID, Number: s.Number,
				State: string(s.State), Forwarded: forwarded(e.Site, s.ID)}
			ts := s.Tenders
			if s.State == terminal.SaleDeferred {
				r.Settlement = "unsettled"
				if settled[k] {
					r.State, r.Settlement = string(terminal.SaleSettled), "settled"
				}
				if s.Owed != nil {
					r.Operator = s.Owed.Operator
				}
			}
			if voided[k] {
				r.State = string(terminal.SaleVoided)
			}
			if s.State == terminal.SaleDeferred {
				for _, c := range s.Due.Currencies() {
					dr := r
					dr.Due = s.Due[c]
					row(dr, []terminal.Tender{{Kind: terminal.TenderDefer, Currency: c}}, false)
				}
			}
			row(r, ts, !voided[k])
		case terminal.EventSaleRefunded:
			var p terminal.SaleRefunded
			if json.Unmarshal(e.Payload, &p) == nil {
				s := p.Refund
				row(ExportSaleRow{At: s.At, Site: e.Site, Terminal: e.Name, ShiftID: s.ShiftID, Kind: "refund", SaleID: s.ID, Number: s.Number,
					State: "refund", Forwarded: forwarded(e.Site, s.RefundOf)}, s.Tenders, true)
			}
		case terminal.EventPassSettled:
			var p terminal.PassSettled
			var st terminal.Settlement
			if json.Unmarshal(e.Payload, &p) != nil || json.Unmarshal(p.Settlement, &st) != nil {
				return nil
			}
			row(ExportSaleRow{At: st.At, Site: e.Site, Terminal: e.Name, ShiftID: st.ShiftID, Kind: "settlement", SaleID: p.SettlementID, Settles: p.PassID,
				State: string(terminal.SaleSettled), Forwarded: forwarded(e.Site, p.PassID), Settlement: "settled"}, st.Tenders, true)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	for _, t := range takings {
		x.Takings = append(x.Takings, *t)
	}
	slices.SortFunc(x.Takings, func(a, b ExportTaking) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Site, b.Site), cmp.Compare(a.Terminal, b.Terminal),
			cmp.Compare(a.ShiftID, b.ShiftID), cmp.Compare(a.Tender, b.Tender), cmp.Compare(a.Currency, b.Currency))
	})
	slices.SortStableFunc(x.Sales, func(a, b ExportSaleRow) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Site, b.Site), cmp.Compare(a.Terminal, b.Terminal), cmp.Compare(a.SaleID, b.SaleID))
	})
	return x, nil
}

// exportColumns is the CSV's header: one table, the takings rows first
// (record "taking"), then a row per tender of each sale, refund and
// settlement (record "sale"). Amounts are in major units ("5300.00"),
// unsigned but for refunds and change, without thousands separators.
var exportColumns = []string{"record", "day", "site", "terminal", "shift_id", "tender", "currency", "amount", "count",
	"at", "kind", "sale_id", "settles", "number", "state", "due", "reference", "bank", "bank_state", "mpesa_state", "forwarded", "settlement", "tour_operator"}

func major(c string, minor int64) string {
	return strings.ReplaceAll(terminal.FormatMinor(terminal.Currency(c), minor), ",", "")
}

// WriteExportCSV writes x as one CSV table a spreadsheet imports.
func WriteExportCSV(w io.Writer, x *Export) error {
	cw := csv.NewWriter(w)
	cw.Write(exportColumns)
	for _, t := range x.Takings {
		cw.Write([]string{"taking", t.Day, t.Site, t.Terminal, t.ShiftID, t.Tender, t.Currency, major(t.Currency, t.Amount), strconv.Itoa(t.Count),
			"", "", "", "", "", "", "", "", "", "", "", "", "", ""})
	}
	for _, s := range x.Sales {
		num, due := "", ""
		if s.Number != 0 {
			num = strconv.FormatInt(s.Number, 10)
		}
		if s.Due != 0 {
			due = major(s.Currency, s.Due)
		}
		cw.Write([]string{"sale", s.Day, s.Site, s.Terminal, s.ShiftID, s.Tender, s.Currency, major(s.Currency, s.Amount), "",
			s.At.UTC().Format(time.RFC3339), s.Kind, s.SaleID, s.Settles, num, s.State, due, s.Reference, s.Bank, s.BankState, s.MpesaState, s.Forwarded, s.Settlement, s.Operator})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write the export: %w", err)
	}
	return nil
}

// ForwardStateOf folds the states of a sale's bills and reversals into
// one: refused if any was refused, pending if any is still pending, else
// posted.
func ForwardStateOf(prev, next string) string {
	rank := map[string]int{"": 0, ForwardPosted: 1, ForwardPending: 2, ForwardRefused: 3}
	if rank[next] > rank[prev] {
		return next
	}
	return prev
}
