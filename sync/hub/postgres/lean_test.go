package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/terminal"
)

// chain is a terminal's events as Apply takes them.
type chain struct {
	t    *testing.T
	term hub.Terminal
	seq  int64
	prev string
}

func (c *chain) next(typ string, p any) terminal.Event {
	c.t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		c.t.Fatal(err)
	}
	c.seq++
	e := terminal.Event{Seq: c.seq, ID: uuid.Must(uuid.NewV7()).String(), Terminal: c.term.ID, Type: typ, At: t0.Add(time.Duration(c.seq) * time.Minute),
		Actor: "admin", Payload: raw, PrevHash: c.prev}
	e.Hash = e.ComputeHash()
	c.prev = e.Hash
	return e
}

func (c *chain) sale(id string, kes int64) terminal.Event {
	return c.next(terminal.EventSaleCreated, terminal.Sale{ID: id, Kind: "sale", Terminal: c.term.ID, Site: c.term.Site, At: t0, State: terminal.SalePaid,
		Totals: terminal.Totals{"KES": kes}, Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: kes}}})
}

// TestLoneSalesKeepNoFacts: Apply writes no report fact for a paid sale
// that nothing else names (before, one row per sale), and the report
// stays the one made by reading every event: a void later finds the
// sale's tenders through its record and event (in a later batch and in
// the same one), and so does a sale sent again under its id and then
// voided (both its events' takings go).
func TestLoneSalesKeepNoFacts(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	defer s.Close()
	c := &chain{t: t, term: enroll(t, s, "gate-1")}
	a, b, d, e := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	apply := func(evs ...terminal.Event) {
		t.Helper()
		if _, err := s.Apply(ctx, c.term.ID, evs, t0); err != nil {
			t.Fatal(err)
		}
	}
	facts := func() int {
		t.Helper()
		var n int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM report_facts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	apply(c.sale(a, 1000), c.sale(b, 2000), c.sale(d, 4000), c.sale(e, 8000))
	if n := facts(); n != 0 {
		t.Errorf("%d report facts after four paid sales nothing names; want 0", n)
	}
	apply(c.next(terminal.EventSaleVoided, terminal.SaleVoid{SaleID: a, Reason: "wrong vehicle"}))
	apply(c.sale(d, 4000))                                                                                                 // d sent again in the chain
	apply(c.sale(uuid.Must(uuid.NewV7()).String(), 16000), c.next(terminal.EventSaleVoided, terminal.SaleVoid{SaleID: e})) // e voided beside a new sale
	apply(c.next(terminal.EventSaleVoided, terminal.SaleVoid{SaleID: d}))

	h := hub.New(s, hub.Options{Now: reportNow})
	state, rescan := hubtest.ReportJSON(t, h.Report), hubtest.ReportJSON(t, h.RescanReport)
	if !bytes.Equal(state, rescan) {
		t.Fatalf("report from the state kept at ingest:\n%s\nfrom every event:\n%s", state, rescan)
	}
	r, err := h.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Takings) != 1 || r.Takings[0].Amount != 2000+16000 {
		t.Errorf("takings %+v; want KES 180.00 (b and the new sale; a, d twice and e voided)", r.Takings)
	}
}
