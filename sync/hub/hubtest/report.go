package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/terminal"
)

// lane is an enrolled terminal writing its chain of events.
type lane struct {
	t        *testing.T
	s        hub.Store
	term     hub.Terminal
	seq      int64
	prev     string
	pending  []terminal.Event
	clock    time.Time
	receipts int64
}

func newLane(t *testing.T, s hub.Store, site, name string, start time.Time) *lane {
	return &lane{t: t, s: s, term: enroll(t, s, site, name), clock: start}
}

// emit appends an event of typ with payload p to the lane's chain.
func (l *lane) emit(typ string, p any) {
	l.t.Helper()
	raw, err := json.Marshal(p)
	must(l.t, err)
	l.seq++
	l.clock = l.clock.Add(time.Minute)
	e := terminal.Event{Seq: l.seq, ID: uuid.Must(uuid.NewV7()).String(), Terminal: l.term.ID, Type: typ, At: l.clock, Actor: "admin", Payload: raw, PrevHash: l.prev}
	e.Hash = e.ComputeHash()
	l.prev = e.Hash
	l.pending = append(l.pending, e)
}

// upload applies what the lane has not sent, in batches of n.
func (l *lane) upload(n int) {
	l.t.Helper()
	for len(l.pending) > 0 {
		k := min(n, len(l.pending))
		if _, err := l.s.Apply(context.Background(), l.term.ID, l.pending[:k], l.clock); err != nil {
			l.t.Fatalf("%s uploads: %v", l.term.Name, err)
		}
		l.pending = l.pending[k:]
	}
}

// sale emits a sale of amount KES by tenders ("cash", "mpesa:CODE",
// "defer") and returns its id.
func (l *lane) sale(amount int64, tender string) string {
	l.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	l.receipts++
	s := terminal.Sale{ID: id, Number: l.receipts, Kind: "sale", Terminal: l.term.ID, Site: l.term.Site, At: l.clock.Add(time.Minute), State: terminal.SalePaid,
		Totals: terminal.Totals{"KES": amount}}
	switch {
	case tender == "defer":
		s.State, s.Due, s.Vehicle = terminal.SaleDeferred, terminal.Totals{"KES": amount}, fmt.Sprintf("KDA %03dX", l.receipts)
		s.Tenders = []terminal.Tender{{Kind: terminal.TenderDefer, Currency: "KES", Amount: amount}}
	case len(tender) > 6 && tender[:6] == "mpesa:":
		s.Tenders = []terminal.Tender{{Kind: terminal.TenderMpesa, Currency: "KES", Amount: amount, Reference: tender[6:]}}
	case tender == "usd":
		s.Tenders = []terminal.Tender{{Kind: terminal.TenderCash, Currency: "USD", Amount: amount / 100}}
	default:
		s.Tenders = []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: amount + 500, Change: 500}}
	}
	l.emit(terminal.EventSaleCreated, s)
	return id
}

func (l *lane) void(id string) {
	l.emit(terminal.EventSaleVoided, terminal.SaleVoid{SaleID: id, Reason: "wrong vehicle"})
}

func (l *lane) refund(of string, amount int64) {
	l.receipts++
	r := terminal.Sale{ID: uuid.Must(uuid.NewV7()).String(), Number: l.receipts, Kind: "refund", RefundOf: of, Site: l.term.Site, At: l.clock, State: terminal.SalePaid,
		Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: -amount}}}
	l.emit(terminal.EventSaleRefunded, terminal.SaleRefunded{Refund: r, Reason: "overcharged"})
}

func (l *lane) settle(pass string, amount int64, tender string) {
	l.t.Helper()
	t := terminal.Tender{Kind: terminal.TenderCash, Currency: "KES", Amount: amount}
	if len(tender) > 6 && tender[:6] == "mpesa:" {
		t = terminal.Tender{Kind: terminal.TenderMpesa, Currency: "KES", Amount: amount, Reference: tender[6:]}
	}
	id := uuid.Must(uuid.NewV7()).String()
	doc, err := json.Marshal(terminal.Settlement{ID: id, PassID: pass, Terminal: l.term.ID, Site: l.term.Site, At: l.clock, Tenders: []terminal.Tender{t}})
	must(l.t, err)
	l.emit(terminal.EventPassSettled, terminal.PassSettled{SettlementID: id, PassID: pass, Settlement: doc})
}

func (l *lane) use(pass string) {
	l.emit(terminal.EventPassUsed, terminal.PassUsed{PassID: pass})
}

// ReportScenario fills s with what the report is made of: sales paid in
// two currencies and by M-PESA, deferred passes owed, settled (before and
// after their sale reached the hub) and settled twice, voids, refunds,
// passes let in at two lanes or after their void, a pass of one site used
// at another, a site operator added twice, a prepaid ticket let in twice,
// an M-PESA code taken twice, catalogues refused (one loaded since), and
// events the report skips. Uploads come in batches of several sizes, one
// lane's after another's, as terminals come back online.
func ReportScenario(t *testing.T, s hub.Store) {
	g1 := newLane(t, s, "NNP", "gate-1", t0)
	g2 := newLane(t, s, "NNP", "gate-2", t0.Add(17*time.Second))
	amb := newLane(t, s, "AMB", "gate-1", t0.Add(29*time.Second))

	paid := g1.sale(150000, "cash")
	g1.sale(4000, "usd")
	mp := g1.sale(120000, "mpesa:QAB1234567")
	owed := g1.sale(300000, "defer")
	settledLater := g1.sale(250000, "defer")
	settledEarly := g1.sale(220000, "defer") // settled at gate-2 before gate-1 uploads it
	twice := g1.sale(210000, "defer")
	voided := g1.sale(90000, "cash")
	voidedDeferred := g1.sale(80000, "defer")
	usedAfterVoid := g1.sale(70000, "cash")
	g1.emit(terminal.EventOperatorAdded, terminal.OperatorAdded{ID: uuid.Must(uuid.NewV7()).String(), Name: "wanjiru", Scope: "site"})
	g1.emit(terminal.EventCatalogueBad, terminal.CatalogueRefused{Seq: 2, Version: "2024-02", Reason: "unknown site AMB"})
	g1.emit(terminal.EventCatalogue, map[string]string{"version": "2024-03"})
	g1.emit(hub.EventTicketRedeemed, hub.TicketRedeemed{TicketNo: "ECT-0001", Site: "NNP"})
	g1.emit(terminal.EventCatalogueBad, json.RawMessage(`{"seq": "two"}`)) // does not decode: skipped
	g1.use(paid)
	g1.upload(3)

	g2.settle(settledEarly, 220000, "cash")
	g2.settle(twice, 210000, "cash")
	g2.upload(50)

	g1.upload(50) // nothing new: the early settlement's sale was in the upload above
	g1.void(voided)
	g1.void(voidedDeferred)
	g1.use(usedAfterVoid)
	g1.void(usedAfterVoid)
	g1.refund(paid, 20000)
	g1.settle(twice, 210000, "mpesa:QAB7654321")
	g1.upload(2)

	g2.clock = g1.clock
	g2.use(paid) // a second lane
	g2.settle(settledLater, 250000, "mpesa:QAB1234567")
	g2.use(usedAfterVoid) // after the void
	g2.emit(terminal.EventOperatorAdded, terminal.OperatorAdded{ID: uuid.Must(uuid.NewV7()).String(), Name: "wanjiru", Scope: "site"})
	g2.emit(hub.EventTicketRedeemed, hub.TicketRedeemed{TicketNo: "ECT-0001", Site: "NNP"})
	g2.emit(terminal.EventCatalogueBad, terminal.CatalogueRefused{Seq: 3, Version: "2024-04", Reason: "signature does not verify"})
	g2.upload(4)

	// AMB lets in a pass it has not heard of: NNP's, not received yet.
	foreign := g1.sale(60000, "cash")
	amb.use(foreign)
	amb.sale(50000, "mpesa:QAB7654321")
	amb.emit(terminal.EventOperatorAdded, terminal.OperatorAdded{ID: uuid.Must(uuid.NewV7()).String(), Name: "wanjiru", Scope: "site"})
	amb.emit(hub.EventTicketRedeemed, hub.TicketRedeemed{TicketNo: "ECT-0001", Site: "AMB"})
	amb.upload(1)
	g1.upload(10)
	_, _ = mp, owed
}

// ReportJSON is the report as `lango-hub report --json` prints it.
func ReportJSON(t *testing.T, report func(context.Context) (*hub.Report, error)) []byte {
	t.Helper()
	r, err := report(context.Background())
	must(t, err)
	b, err := json.MarshalIndent(r, "", "  ")
	must(t, err)
	return b
}

// reportFromState: the report answered from the state kept at ingest is,
// byte for byte, the one made by reading every event again, whatever
// order and batches the events came in.
func reportFromState(t *testing.T, s hub.Store) {
	ReportScenario(t, s)
	r := stateAsRescan(t, s)
	kinds := map[string]int{}
	for _, c := range r.Conflicts {
		kinds[c.Kind]++
	}
	for _, k := range []string{"pass_settled_twice", "used_twice", "used_after_void", "forbidden_reference", "operator_added_twice", "ticket_redeemed_twice", "mpesa_code_twice"} {
		if kinds[k] == 0 {
			t.Errorf("no %s conflict in %v", k, kinds)
		}
	}
	if len(r.Unsettled) != 1 || r.Unsettled[0].Due["KES"] != 300000 {
		t.Errorf("unsettled %+v; want the one pass of KES 3,000.00 owed", r.Unsettled)
	}
	if len(r.CatalogueRefused) != 1 || r.CatalogueRefused[0].Version != "2024-04" {
		t.Errorf("catalogue refusals %+v; want gate-2's only", r.CatalogueRefused)
	}
	want := map[string]int64{"NNP/cash/KES": 150000 + 70000 - 20000 + 220000 + 210000, "NNP/cash/USD": 40, "NNP/mpesa/KES": 120000 + 250000 + 210000, "AMB/mpesa/KES": 50000}
	got := map[string]int64{}
	for _, tk := range r.Takings {
		got[tk.Site+"/"+tk.Tender+"/"+tk.Currency] = tk.Amount
	}
	// NNP's cash: the paid sale, the sale used after its void is voided,
	// the foreign one is NNP's own cash.
	want["NNP/cash/KES"] += 60000 - 70000
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("takings %v; want %v", got, want)
	}
}

// stateAsRescan checks that s's report from the state kept at ingest is
// byte for byte the one made from every event, and returns it.
func stateAsRescan(t *testing.T, s hub.Store) hub.Report {
	t.Helper()
	// One clock for both: the unsettled passes' age is the report's.
	now := time.Now()
	h := hub.New(s, hub.Options{Now: func() time.Time { return now }})
	state := ReportJSON(t, h.Report)
	rescan := ReportJSON(t, h.RescanReport)
	if !bytes.Equal(state, rescan) {
		t.Fatalf("report from the state kept at ingest:\n%s\nfrom every event:\n%s", state, rescan)
	}
	var r hub.Report
	must(t, json.Unmarshal(state, &r))
	return r
}
