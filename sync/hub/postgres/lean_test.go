package postgres_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/sync/hub/postgres"
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

// enrollAt enrolls a terminal of site.
func enrollAt(t *testing.T, s hub.Store, site, name string) hub.Terminal {
	t.Helper()
	ctx := context.Background()
	tok := uuid.NewString()
	if err := s.AddEnrollment(ctx, hub.Enrollment{TokenHash: tok, Site: site, Name: name, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	term, err := s.RedeemEnrollment(ctx, tok, hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: site, Name: name, PublicKey: pub, Certificate: "c"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return term
}

// TestForeignUseRacingItsSale: a paid sale of NNP and a use of its pass
// at AMB applied at once, the use authorized before the sale committed
// (so it is let in), the sale's transaction taking the pass's lock
// first: the sale writes no fact, and the use, after the lock, must find
// the sale through its record, or the report misses the pass of another
// site (forbidden_reference) that the rescan finds.
func TestForeignUseRacingItsSale(t *testing.T) {
	ctx := context.Background()
	s, url := open(t)
	defer s.Close()
	nnp := &chain{t: t, term: enrollAt(t, s, "NNP", "gate-1")}
	amb := &chain{t: t, term: enrollAt(t, s, "AMB", "gate-1")}
	id := uuid.Must(uuid.NewV7()).String()
	sale := nnp.sale(id, 1000)
	use := amb.next(terminal.EventPassUsed, terminal.PassUsed{PassID: id})

	// Hold the pass's lock (postgres.ReportLock: the sale takes it shared,
	// the use exclusive) from another connection, so both transactions
	// queue on it in order.
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	lockClass, key := postgres.ReportLock(hub.ReportKey{Group: hub.FactPass, Key: id})
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, int32(lockClass), key); err != nil {
		t.Fatal(err)
	}
	waiting := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			var got int
			if err := holder.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d transactions wait on the pass's lock; want %d", got, n)
			}
		}
	}
	errs := make(chan error, 2)
	go func() { _, err := s.Apply(ctx, nnp.term.ID, []terminal.Event{sale}, t0); errs <- err }()
	waiting(1)
	go func() { _, err := s.Apply(ctx, amb.term.ID, []terminal.Event{use}, t0); errs <- err }()
	waiting(2)
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, int32(lockClass), key); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	h := hub.New(s, hub.Options{Now: reportNow})
	state, rescan := hubtest.ReportJSON(t, h.Report), hubtest.ReportJSON(t, h.RescanReport)
	if !bytes.Equal(state, rescan) {
		t.Fatalf("report from the state kept at ingest:\n%s\nfrom every event:\n%s", state, rescan)
	}
	if !bytes.Contains(state, []byte(`"forbidden_reference"`)) {
		t.Errorf("no forbidden_reference in\n%s", state)
	}
}

// TestSalesShareTheirLocks: an upload of new sales takes its groups'
// locks shared, so it applies while another transaction holds them shared
// (another hub process applying another day's sales: before, any upload
// of more than 32 sales took one exclusive lock standing for every group,
// and backlog uploads applied one after another); a use of one of those
// passes takes the lock exclusive and waits until it is let go.
func TestSalesShareTheirLocks(t *testing.T) {
	ctx := context.Background()
	s, url := open(t)
	defer s.Close()
	nnp := &chain{t: t, term: enrollAt(t, s, "NNP", "gate-1")}
	exit := &chain{t: t, term: enrollAt(t, s, "NNP", "exit-1")}
	var sales []terminal.Event
	for range 100 {
		sales = append(sales, nnp.sale(uuid.Must(uuid.NewV7()).String(), 1000))
	}

	// Another transaction holds every bucket shared, as an upload of
	// sales being applied by another process does.
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	class, _ := postgres.ReportLock(hub.ReportKey{})
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock_shared($1, b) FROM generate_series(0, 63) b`, class); err != nil {
		t.Fatal(err)
	}
	applied := make(chan error, 1)
	go func() { _, err := s.Apply(ctx, nnp.term.ID, sales, t0); applied <- err }()
	select {
	case err := <-applied:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a guard, not a measure: it waits on a lock it should share
		t.Fatal("an upload of 100 new sales waits on locks held shared")
	}

	var sold terminal.Sale
	if err := json.Unmarshal(sales[0].Payload, &sold); err != nil {
		t.Fatal(err)
	}
	use := exit.next(terminal.EventPassSettled, terminal.PassSettled{PassID: sold.ID})
	used := make(chan error, 1)
	go func() { _, err := s.Apply(ctx, exit.term.ID, []terminal.Event{use}, t0); used <- err }()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := holder.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-used:
			t.Fatalf("the use of a pass applied (%v) while its group's lock was held shared; want it to wait", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the use of a pass does not wait on its group's lock")
		}
	}
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	if err := <-used; err != nil {
		t.Fatal(err)
	}
	h := hub.New(s, hub.Options{Now: reportNow})
	if state, rescan := hubtest.ReportJSON(t, h.Report), hubtest.ReportJSON(t, h.RescanReport); !bytes.Equal(state, rescan) {
		t.Fatalf("report from the state kept at ingest:\n%s\nfrom every event:\n%s", state, rescan)
	}
}
