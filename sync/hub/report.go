package hub

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/terminal"
)

// Report is what `lango-hub report --json` prints: the terminals and how
// far the hub holds their events, takings by site, tender and currency,
// deferred passes not settled, and conflicts.
type Report struct {
	Terminals []ReportTerminal `json:"terminals"`
	Takings   []Taking         `json:"takings"`
	Unsettled []UnsettledPass  `json:"unsettled"`
	Conflicts []Conflict       `json:"conflicts"`
	// CatalogueRefused lists the terminals whose last catalogue from the
	// hub was refused (they sell on the one they have) and why.
	CatalogueRefused []RefusedCatalogue `json:"catalogue_refused"`
	// Mpesa reconciles the M-PESA codes of sales and settlements with what
	// M-PESA confirmed (when the hub keeps an M-PESA ledger).
	Mpesa *mpesa.Report `json:"mpesa,omitempty"`
	// Bank reconciles the bank tenders and cash deposits with the imported
	// bank statements (when the hub keeps a bank ledger).
	Bank *bank.Report `json:"bank,omitempty"`
	// Forwarded is what reached the national platform.
	Forwarded Forwarded `json:"forwarded"`
}

// Forwarded is the report's view of the queue to the national platform:
// bills and reversals posted, pending and refused (with the platform's
// message).
type Forwarded struct {
	Configured    bool             `json:"configured"`
	Platform      string           `json:"platform,omitempty"`
	Message       string           `json:"message,omitempty"`
	Posted        ForwardCounts    `json:"posted"`
	Pending       ForwardCounts    `json:"pending"`
	OldestPending *time.Time       `json:"oldest_pending,omitempty"`
	LastError     string           `json:"last_error,omitempty"`
	Refused       []RefusedForward `json:"refused"`
	// Tickets are the prepaid ticket lists brought down, with the reason
	// the last fetch of one was refused.
	Tickets []TicketList `json:"tickets"`
}

// ForwardCounts counts bills, reversals and ticket redemptions.
type ForwardCounts struct {
	Bills       int `json:"bills"`
	Reversals   int `json:"reversals"`
	Redemptions int `json:"redemptions"`
}

// RefusedForward is a bill or reversal the platform refused: it will not
// be posted again, and finance must look at it.
type RefusedForward struct {
	Kind     string    `json:"kind"` // bill, reversal
	BillRef  string    `json:"bill_ref"`
	Site     string    `json:"site"`
	Terminal string    `json:"terminal"`
	SaleKey  string    `json:"sale"`
	Seq      int64     `json:"seq"`
	Error    string    `json:"error"`
	Message  string    `json:"message"`
	At       time.Time `json:"at"`
}

func (h *Hub) forwarded(ctx context.Context) (Forwarded, error) {
	f := Forwarded{Configured: h.opts.Platform != "", Platform: h.opts.Platform, Refused: []RefusedForward{}}
	if !f.Configured {
		f.Message = "no national platform configured (LANGO_HUB_PLATFORM_URL, _AGENCY, _SECRET): nothing is forwarded"
	}
	s, err := h.store.ForwardSummary(ctx)
	if err != nil {
		return f, err
	}
	f.Posted = ForwardCounts{Bills: s.Posted[ForwardBill], Reversals: s.Posted[ForwardReversal], Redemptions: s.Posted[ForwardRedemption]}
	f.Pending = ForwardCounts{Bills: s.Pending[ForwardBill], Reversals: s.Pending[ForwardReversal], Redemptions: s.Pending[ForwardRedemption]}
	if !s.OldestPending.IsZero() {
		at := s.OldestPending
		f.OldestPending = &at
	}
	f.LastError = s.LastError
	if f.Tickets, err = h.store.TicketLists(ctx); err != nil {
		return f, err
	}
	if f.Tickets == nil {
		f.Tickets = []TicketList{}
	}
	for _, r := range s.RefusedList {
		f.Refused = append(f.Refused, RefusedForward{Kind: r.Kind, BillRef: r.Ref, Site: r.Site, Terminal: r.Terminal, SaleKey: r.SaleKey,
			Seq: r.Seq, Error: r.Error, Message: r.Message, At: r.DoneAt})
	}
	return f, nil
}

// ReportTerminal is an enrolled terminal in the report.
type ReportTerminal struct {
	Site       string     `json:"site"`
	Name       string     `json:"name"`
	TerminalID string     `json:"terminal_id"`
	Events     int64      `json:"events"`
	LastSeq    int64      `json:"last_seq"`
	LastSeen   *time.Time `json:"last_seen"`
	Revoked    bool       `json:"revoked"`
	// Relay: a site relay (lango-hub relay add), which sends no events
	// of its own.
	Relay bool `json:"relay,omitempty"`
}

// Taking is money taken at a site by one tender in one currency, net of
// change, in minor units: sales (not voided) and settlements, less refunds.
type Taking struct {
	Site     string `json:"site"`
	Tender   string `json:"tender"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// RefusedCatalogue is a catalogue publication a terminal could not use.
type RefusedCatalogue struct {
	Site     string    `json:"site"`
	Terminal string    `json:"terminal"`
	Seq      int64     `json:"seq"`
	Version  string    `json:"version"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// UnsettledPass is a deferred pass that no terminal has reported settled,
// with who owes it and its age at the hub's clock: the same fields as a
// terminal's `lango unsettled` (terminal.UnsettledPass).
type UnsettledPass = terminal.UnsettledPass

// settledTenders is what a pass.settled event's settlement document took.
func settledTenders(p *terminal.PassSettled) []terminal.Tender {
	var st terminal.Settlement
	if len(p.Settlement) == 0 || json.Unmarshal(p.Settlement, &st) != nil {
		return nil
	}
	return st.Tenders
}

// reportParts are what the report's conflicts, M-PESA reconciliation and
// lists are made of, however they were gathered: from the state kept at
// ingest (Report) or by reading every event again (RescanReport).
type reportParts struct {
	voided    map[siteID]time.Time
	settled   map[siteID][]ConflictUse // by pass
	used      map[siteID][]ConflictUse // pass.used, by pass
	redeemed  map[siteID][]ConflictUse // prepaid tickets let in, by ticket number
	operators map[siteID][]ConflictUse // site operators, by site and name
	saleSite  map[string]string        // sale id → its site
	mpesaUses map[string][]ConflictUse
	// mpesa is the M-PESA section: the codes not matched, the counts and
	// totals of all.
	mpesa mpesa.Report
	// bankTenders are the bank tenders and deposits, those of voided
	// sales left out.
	bankTenders []bank.Tender
}

// siteID keys voids, settlements and uses by site and id: an event of one
// site never voids or settles another's sale, whatever id it names
// (authz.go refuses those the hub can see at upload; a settlement of a
// pass not received yet is kept under its own site, and flagged when the
// pass turns out to be another site's).
type siteID [2]string

func newReportParts() *reportParts {
	return &reportParts{voided: map[siteID]time.Time{}, settled: map[siteID][]ConflictUse{}, used: map[siteID][]ConflictUse{},
		redeemed: map[siteID][]ConflictUse{}, operators: map[siteID][]ConflictUse{}, saleSite: map[string]string{}, mpesaUses: map[string][]ConflictUse{}}
}

func newReport() *Report {
	return &Report{Terminals: []ReportTerminal{}, Takings: []Taking{}, Unsettled: []UnsettledPass{}, Conflicts: []Conflict{}, CatalogueRefused: []RefusedCatalogue{}}
}

func (h *Hub) reportTerminals(ctx context.Context, r *Report) error {
	ts, err := h.store.Terminals(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		rt := ReportTerminal{Site: t.Site, Name: t.Name, TerminalID: t.ID, Events: t.Events, LastSeq: t.LastSeq, Revoked: t.Revoked(), Relay: t.Relay}
		if !t.LastSeen.IsZero() {
			seen := t.LastSeen
			rt.LastSeen = &seen
		}
		r.Terminals = append(r.Terminals, rt)
	}
	return nil
}

// Report answers from the state the store keeps at ingest (reportstate.go):
// its cost grows with what it shows (terminals, takings lines, unsettled
// passes, conflicts), not with the events the hub holds.
func (h *Hub) Report(ctx context.Context) (*Report, error) {
	r, now := newReport(), h.now()
	if err := h.reportTerminals(ctx, r); err != nil {
		return nil, err
	}
	st, err := h.store.ReportState(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.Takings = append(r.Takings, st.Takings...)
	for _, b := range st.Unsettled {
		var u UnsettledPass
		if err := json.Unmarshal(b, &u); err != nil {
			return nil, fmt.Errorf("report: an unsettled pass: %w", err)
		}
		u.AgeSeconds = max(0, int64(now.Sub(u.At)/time.Second)) // kept at ingest without its age
		r.Unsettled = append(r.Unsettled, u)
	}
	for _, b := range st.Refused {
		var c RefusedCatalogue
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("report: a catalogue refusal: %w", err)
		}
		r.CatalogueRefused = append(r.CatalogueRefused, c)
	}
	p := newReportParts()
	slices.SortFunc(st.Hot, func(a, b ReportFact) int {
		return cmp.Or(cmp.Compare(a.Terminal, b.Terminal), cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.N, b.N))
	})
	var bankUsed []bank.Tender
	bankVoided := map[siteID]bool{}
	for _, f := range st.Hot {
		k := siteID{f.Site, f.Key}
		var u ConflictUse
		switch f.Kind {
		case factBankUsed:
			var t bank.Tender
			if err := json.Unmarshal(f.Body, &t); err != nil {
				return nil, fmt.Errorf("report: a bank fact: %w", err)
			}
			bankUsed = append(bankUsed, t)
		case factBankVoid:
			bankVoided[k] = true
		case factSale:
			p.saleSite[f.Key] = f.Site
		case factVoid:
			var v voidBody
			if json.Unmarshal(f.Body, &v) == nil && v.At.After(p.voided[k]) {
				p.voided[k] = v.At
			} else if _, ok := p.voided[k]; !ok {
				p.voided[k] = v.At
			}
		case factSettled, factUsed, factRedeemed, factOperator:
			if err := json.Unmarshal(f.Body, &u); err != nil {
				return nil, fmt.Errorf("report: a %s fact: %w", f.Kind, err)
			}
			m := map[string]map[siteID][]ConflictUse{factSettled: p.settled, factUsed: p.used, factRedeemed: p.redeemed, factOperator: p.operators}[f.Kind]
			m[k] = append(m[k], u)
		case factMpesa:
			var mb mpesaBody
			if err := json.Unmarshal(f.Body, &mb); err != nil {
				return nil, fmt.Errorf("report: an M-PESA fact: %w", err)
			}
			p.mpesaUses[f.Key] = append(p.mpesaUses[f.Key], mb.Use)
		}
	}
	// Bank tenders of sales not voided at their site, in the order of
	// their events (bank.Reconcile orders them by time).
	for _, t := range bankUsed {
		if t.SaleID != "" && bankVoided[siteID{t.Site, t.SaleID}] {
			continue
		}
		p.bankTenders = append(p.bankTenders, t)
	}
	p.mpesa = mpesa.Report{Lines: []mpesa.Line{}, Counts: map[string]int{}, Totals: []mpesa.Total{}}
	for _, b := range st.MpesaLines {
		var ln mpesa.Line
		if err := json.Unmarshal(b, &ln); err != nil {
			return nil, fmt.Errorf("report: an M-PESA line: %w", err)
		}
		p.mpesa.Lines = append(p.mpesa.Lines, ln)
	}
	slices.SortFunc(p.mpesa.Lines, func(a, b mpesa.Line) int { return cmp.Compare(a.Code, b.Code) })
	for _, t := range st.MpesaTotals {
		p.mpesa.Counts[t.Status] += t.Codes
		p.mpesa.Totals = append(p.mpesa.Totals, t)
	}
	mpesa.SortTotals(p.mpesa.Totals)
	return h.finishReport(ctx, r, p)
}

// RescanReport is the report made by reading every money event again (two
// passes: voids and settlements first, then takings): what Report answers
// from the state kept at ingest, at a cost that grows with the history. It
// checks that state (the conformance suite, a migrated hub).
func (h *Hub) RescanReport(ctx context.Context) (*Report, error) {
	r, now := newReport(), h.now()
	if err := h.reportTerminals(ctx, r); err != nil {
		return nil, err
	}
	p := newReportParts()
	// Site operators by name: the same name added at two terminals (while
	// offline) is two operators; each terminal keeps the first it knew.
	// A terminal's catalogue refusal stands until it loads a catalogue
	// after it (each terminal's events come in seq order).
	refused := map[string]*RefusedCatalogue{} // by terminal id
	var order []string
	err := h.store.ScanEvents(ctx, []string{terminal.EventSaleVoided, terminal.EventPassSettled, terminal.EventPassUsed, terminal.EventOperatorAdded,
		terminal.EventCatalogue, terminal.EventCatalogueBad, EventTicketRedeemed}, func(e StoredEvent) error {
		switch e.Type {
		case EventTicketRedeemed:
			var p2 TicketRedeemed
			if json.Unmarshal(e.Payload, &p2) == nil && p2.TicketNo != "" {
				k := siteID{e.Site, p2.TicketNo}
				p.redeemed[k] = append(p.redeemed[k], ConflictUse{Site: e.Site, Terminal: e.Name, Seq: e.Seq, At: e.At})
			}
		case terminal.EventCatalogue:
			delete(refused, e.Terminal)
		case terminal.EventCatalogueBad:
			var c terminal.CatalogueRefused
			if json.Unmarshal(e.Payload, &c) == nil {
				if _, ok := refused[e.Terminal]; !ok {
					order = append(order, e.Terminal)
				}
				refused[e.Terminal] = &RefusedCatalogue{Site: e.Site, Terminal: e.Name, Seq: c.Seq, Version: c.Version, Reason: c.Reason, At: e.At}
			}
		case terminal.EventOperatorAdded:
			var o terminal.OperatorAdded
			if json.Unmarshal(e.Payload, &o) == nil && o.Scope == "site" && o.Name != "" {
				k := siteID{e.Site, o.Name}
				p.operators[k] = append(p.operators[k], ConflictUse{Site: e.Site, Terminal: e.Name, OperatorID: o.ID, Seq: e.Seq, At: e.At})
			}
		case terminal.EventSaleVoided:
			var v terminal.SaleVoid
			if json.Unmarshal(e.Payload, &v) == nil && v.SaleID != "" {
				p.voided[siteID{e.Site, v.SaleID}] = e.At
			}
		case terminal.EventPassSettled:
			var s terminal.PassSettled
			if json.Unmarshal(e.Payload, &s) == nil && s.PassID != "" {
				k := siteID{e.Site, s.PassID}
				p.settled[k] = append(p.settled[k], ConflictUse{Site: e.Site, Terminal: e.Name, SettlementID: s.SettlementID, SaleID: s.SaleID, Seq: e.Seq, At: e.At})
			}
		case terminal.EventPassUsed:
			var u terminal.PassUsed
			if json.Unmarshal(e.Payload, &u) == nil && u.PassID != "" {
				k := siteID{e.Site, u.PassID}
				p.used[k] = append(p.used[k], ConflictUse{Site: e.Site, Terminal: e.Name, SaleID: u.PassID, Seq: e.Seq, At: e.At})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range order {
		if rc, ok := refused[id]; ok {
			r.CatalogueRefused = append(r.CatalogueRefused, *rc)
			delete(refused, id)
		}
	}

	type takingKey struct{ site, tender, currency string }
	takings := map[takingKey]int64{}
	add := func(site string, ts []terminal.Tender) {
		for _, t := range ts {
			if t.Kind == terminal.TenderDefer {
				continue
			}
			takings[takingKey{site, string(t.Kind), string(t.Currency)}] += t.Net()
		}
	}
	var mpesaTenders []mpesa.Tender
	useMpesa := func(ts []terminal.Tender, u ConflictUse) {
		for _, t := range ts {
			if t.Kind == terminal.TenderMpesa && t.Amount > 0 && t.Reference != "" {
				p.mpesaUses[t.Reference] = append(p.mpesaUses[t.Reference], u)
				id := u.SaleID
				if id == "" {
					id = u.SettlementID
				}
				// The account reference a payer gives is the site's code.
				mpesaTenders = append(mpesaTenders, mpesa.Tender{Code: t.Reference, Amount: t.Net(), Account: u.Site, Paybill: t.Paybill, Site: u.Site, Terminal: u.Terminal, SaleID: id, At: u.At})
			}
		}
	}
	err = h.store.ScanEvents(ctx, []string{terminal.EventSaleCreated, terminal.EventSaleRefunded, terminal.EventPassSettled}, func(e StoredEvent) error {
		switch e.Type {
		case terminal.EventSaleCreated:
			var s terminal.Sale
			if json.Unmarshal(e.Payload, &s) != nil {
				return nil
			}
			useMpesa(s.Tenders, ConflictUse{Site: e.Site, Terminal: e.Name, SaleID: s.ID, Seq: e.Seq, At: e.At})
			p.saleSite[s.ID] = e.Site
			k := siteID{e.Site, s.ID}
			if _, ok := p.voided[k]; ok {
				return nil
			}
			add(e.Site, s.Tenders)
			if s.State == terminal.SaleDeferred && len(p.settled[k]) == 0 {
				r.Unsettled = append(r.Unsettled, terminal.UnsettledOf(&s, e.Site, e.Name, now))
			}
		case terminal.EventSaleRefunded:
			var rf terminal.SaleRefunded
			if json.Unmarshal(e.Payload, &rf) == nil {
				add(e.Site, rf.Refund.Tenders)
			}
		case terminal.EventPassSettled:
			var s terminal.PassSettled
			if json.Unmarshal(e.Payload, &s) == nil {
				ts := settledTenders(&s)
				add(e.Site, ts)
				useMpesa(ts, ConflictUse{Site: e.Site, Terminal: e.Name, SettlementID: s.SettlementID, Seq: e.Seq, At: e.At})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k, v := range takings {
		r.Takings = append(r.Takings, Taking{Site: k.site, Tender: k.tender, Currency: k.currency, Amount: v})
	}
	full, err := mpesa.Reconcile(ctx, h.store, mpesaTenders)
	if err != nil {
		return nil, fmt.Errorf("M-PESA reconciliation: %w", err)
	}
	p.mpesa = mpesa.Summarize(full)
	if h.opts.Bank != nil {
		if p.bankTenders, err = h.scanBankTenders(ctx); err != nil {
			return nil, err
		}
	}
	return h.finishReport(ctx, r, p)
}

// finishReport sorts the lists, finds the conflicts in p and adds the
// stored ones, the bank and M-PESA reconciliations and the forwards.
func (h *Hub) finishReport(ctx context.Context, r *Report, p *reportParts) (*Report, error) {
	slices.SortFunc(r.Takings, func(a, b Taking) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Tender, b.Tender), cmp.Compare(a.Currency, b.Currency))
	})
	slices.SortStableFunc(r.Unsettled, func(a, b UnsettledPass) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.SaleID, b.SaleID))
	})

	stored, err := h.store.Conflicts(ctx)
	if err != nil {
		return nil, err
	}
	r.Conflicts = append(r.Conflicts, stored...)
	// Uses in the order they happened, whatever order the store gives.
	byTime := func(uses []ConflictUse) {
		slices.SortStableFunc(uses, func(a, b ConflictUse) int {
			return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Terminal, b.Terminal), cmp.Compare(a.Seq, b.Seq))
		})
	}
	for k, uses := range p.settled {
		byTime(uses)
		if len(uses) > 1 {
			r.Conflicts = append(r.Conflicts, Conflict{Kind: "pass_settled_twice", Site: k[0], PassID: k[1], Uses: uses, At: lastUse(uses)})
		}
	}
	for k, uses := range p.used {
		byTime(uses)
		if lanes := distinctTerminals(uses); lanes > 1 {
			r.Conflicts = append(r.Conflicts, Conflict{Kind: "used_twice", Site: k[0], PassID: k[1], Uses: uses, At: lastUse(uses),
				Reason: fmt.Sprintf("the pass was let in at %d lanes", lanes)})
		}
	}
	// A pass used or settled after its sale was voided (a lane that had
	// not heard of the void yet), and uses or settlements that name a pass
	// which turned out to be another site's.
	for _, m := range []map[siteID][]ConflictUse{p.used, p.settled} {
		for k, uses := range m {
			if site, ok := p.saleSite[k[1]]; ok && site != k[0] {
				r.Conflicts = append(r.Conflicts, Conflict{Kind: "forbidden_reference", Site: k[0], PassID: k[1], Uses: uses, At: lastUse(uses),
					Reason: fmt.Sprintf("names a pass of site %s", site)})
				continue
			}
			at, ok := p.voided[k]
			if !ok {
				continue
			}
			var after []ConflictUse
			for _, u := range uses {
				if !u.At.Before(at) {
					after = append(after, u)
				}
			}
			if len(after) > 0 {
				r.Conflicts = append(r.Conflicts, Conflict{Kind: "used_after_void", Site: k[0], PassID: k[1], Uses: after, At: lastUse(after),
					Reason: fmt.Sprintf("the sale was voided at %s", at.UTC().Format(time.RFC3339))})
			}
		}
	}
	for k, uses := range p.redeemed {
		byTime(uses)
		if len(uses) > 1 {
			r.Conflicts = append(r.Conflicts, Conflict{Kind: "ticket_redeemed_twice", Site: k[0], Code: k[1], Uses: uses, At: lastUse(uses),
				Reason: fmt.Sprintf("prepaid ticket %s was let in %d times", k[1], len(uses))})
		}
	}
	for k, uses := range p.operators {
		byTime(uses)
		if len(uses) > 1 {
			r.Conflicts = append(r.Conflicts, Conflict{Kind: "operator_added_twice", Site: k[0], Operator: k[1], Uses: uses, At: lastUse(uses)})
		}
	}
	for code, uses := range p.mpesaUses {
		byTime(uses)
		if len(uses) > 1 {
			r.Conflicts = append(r.Conflicts, Conflict{Kind: "mpesa_code_twice", Site: uses[0].Site, Code: code, Uses: uses, At: lastUse(uses)})
		}
	}
	if h.opts.Bank != nil {
		rep, err := bank.Reconcile(ctx, h.opts.Bank, p.bankTenders, h.opts.BankZone)
		if err != nil {
			return nil, fmt.Errorf("bank reconciliation: %w", err)
		}
		r.Bank = &rep
	}
	r.Mpesa = &p.mpesa
	if r.Forwarded, err = h.forwarded(ctx); err != nil {
		return nil, fmt.Errorf("forwarded: %w", err)
	}
	slices.SortStableFunc(r.Conflicts, func(a, b Conflict) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.PassID+a.Code+a.Operator, b.PassID+b.Code+b.Operator))
	})
	return r, nil
}

func distinctTerminals(uses []ConflictUse) int {
	seen := map[string]bool{}
	for _, u := range uses {
		seen[u.Site+"/"+u.Terminal] = true
	}
	return len(seen)
}

func lastUse(uses []ConflictUse) time.Time {
	var t time.Time
	for _, u := range uses {
		if u.At.After(t) {
			t = u.At
		}
	}
	return t
}
