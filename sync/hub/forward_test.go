package hub_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/forward"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/sync/platform"
	"github.com/lango-pos/lango/sync/platform/platformtest"
	"github.com/lango-pos/lango/terminal"
)

// platformEnv is the stand-in national platform on loopback.
type platformEnv struct {
	s   *platformtest.Server
	srv *httptest.Server
}

func newPlatform(t *testing.T) *platformEnv {
	t.Helper()
	s := platformtest.New("KWS", "s3cret", time.Now, 7, nil)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return &platformEnv{s: s, srv: srv}
}

func (p *platformEnv) client(t *testing.T, timeout time.Duration) *platform.Client {
	t.Helper()
	c, err := platform.NewClient(platform.Config{BaseURL: p.srv.URL, Agency: "KWS", Secret: "s3cret", HTTP: &http.Client{Timeout: timeout}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// forwarderOn is one hub process's forwarder over store.
func forwarderOn(t *testing.T, st hub.Store, p *platformEnv, owner string) *forward.Forwarder {
	t.Helper()
	return forward.New(forward.Config{Store: st, Platform: p.client(t, 300*time.Millisecond), Owner: owner, Logger: quietLogger(),
		Lease: 2 * time.Second, Batch: 8, Idle: 5 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
}

// drained waits until nothing is pending (a condition, not a time: the
// deadline is only there so a bug fails instead of hanging).
func drained(t *testing.T, st hub.Store) hub.ForwardSummary {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		s, err := st.ForwardSummary(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Pending[hub.ForwardBill]+s.Pending[hub.ForwardReversal] == 0 && s.Posted[hub.ForwardBill] > 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("still pending after 90 s: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestForwardExactlyOnce: a day of sales at two lanes reaches the hub
// while the platform is down; the platform comes back misbehaving (5xx,
// 429, timeouts, answers lost after commit) and two hub processes drain
// the queue, one of them stopped mid-forward and started again. Every
// sale and settlement is one bill at the platform, whose count equals the
// hub's; a void made after posting is a reversal, once.
func TestForwardExactlyOnce(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	gate, exit := newTerm(t, h, "gate-1", 0), newTerm(t, h, "gate-2", 0)
	var sales []*terminal.Sale
	var deferred []*terminal.Sale
	for i := range 30 {
		for _, te := range []*termEnv{gate, exit} {
			switch i % 3 {
			case 0:
				sales = append(sales, te.sell("cash"))
			case 1:
				sales = append(sales, te.sell("mpesa"))
			default:
				deferred = append(deferred, te.sell("defer"))
			}
		}
	}
	syncAll(t, gate, exit)
	// Deferred passes settled at the other lane: a settlement is the bill.
	var settlements []string
	for i, d := range deferred {
		te := exit
		if d.Terminal == exit.id {
			te = gate
		}
		if i%2 == 1 {
			continue // still owed: no bill
		}
		st, err := te.db.Settle(ctx, te.admin, d.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}})
		if err != nil {
			t.Fatal(err)
		}
		settlements = append(settlements, st.Settlement.ID)
	}
	syncAll(t, gate, exit)

	p := newPlatform(t)
	p.s.SetFaults(platformtest.Faults{FailRate: 0.15, TimeoutRate: 0.05, LoseRate: 0.2, LimitRate: 0.02, RetryAfter: 1})
	second, err := hubsqlite.Open(ctx, h.path) // another hub process on the same database
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	a := forwarderOn(t, h.Store(), p, "hub-a")
	b := forwarderOn(t, second, p, "hub-b")
	a.Start(ctx)
	b.Start(ctx)
	// hub-a stops mid-forward, once some bills are in; hub-a' takes over.
	for start := time.Now(); p.s.Counts().Bills < 10; time.Sleep(time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Fatalf("no 10 bills after a minute: %+v", p.s.Counts())
		}
	}
	a.Close()
	a2 := forwarderOn(t, h.Store(), p, "hub-a2")
	a2.Start(ctx)
	defer a2.Close()
	defer b.Close()
	drained(t, h.Store())

	want := map[string]bool{}
	for _, s := range sales {
		want[forward.BillRef("NNP", s.ID, 1, 1)] = true
	}
	for _, id := range settlements {
		want[forward.BillRef("NNP", id, 1, 1)] = true
	}
	got := p.s.Refs()
	if len(got) != len(want) {
		t.Fatalf("the platform holds %d bills; the hub has %d paid sales and settlements", len(got), len(want))
	}
	for _, ref := range got {
		if !want[ref] {
			t.Errorf("the platform holds %s, which is no sale or settlement of the hub", ref)
		}
	}
	counts := p.s.Counts()
	if counts.Bills != len(want) || counts.Conflicts != 0 || counts.Invalid != 0 {
		t.Fatalf("platform counts %+v; want %d bills, no conflict or invalid", counts, len(want))
	}
	if counts.Faults == 0 || counts.Repeats == 0 {
		t.Errorf("platform counts %+v: the faults (and retries of lost answers) did not happen", counts)
	}

	// A void after posting is a reversal, once.
	voided := sales[0]
	te := gate
	if voided.Terminal != gate.id {
		te = exit
	}
	if _, err := te.db.Void(ctx, te.admin, voided.ID, "wrong category"); err != nil {
		t.Fatal(err)
	}
	te.mustSync()
	deadline := time.Now().Add(60 * time.Second)
	for p.s.Counts().Reversals == 0 || drainedNow(t, h.Store()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no reversal after 60 s: %+v", p.s.Counts())
		}
		time.Sleep(5 * time.Millisecond)
	}
	var reversed []string
	for _, bl := range p.s.Bills() {
		if bl.Status == "reversed" {
			reversed = append(reversed, bl.Ref)
		}
	}
	if !slices.Equal(reversed, []string{forward.BillRef("NNP", voided.ID, 1, 1)}) {
		t.Fatalf("reversed %v; want the voided sale's bill alone", reversed)
	}
	if n := p.s.Counts().Bills; n != len(want) {
		t.Fatalf("%d bills after the void; want %d still", n, len(want))
	}
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Forwarded.Posted.Bills != len(want) || r.Forwarded.Posted.Reversals != 1 || r.Forwarded.Pending.Bills != 0 || len(r.Forwarded.Refused) != 0 {
		t.Fatalf("report forwarded %+v; want %d bills and 1 reversal posted, nothing pending or refused", r.Forwarded, len(want))
	}
}

func drainedNow(t *testing.T, st hub.Store) int {
	t.Helper()
	s, err := st.ForwardSummary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Pending[hub.ForwardBill] + s.Pending[hub.ForwardReversal]
}

// TestForwardRefusedStopsOnlyItsBill: a bill the platform refuses (its
// reference taken with other fields: 409) is reported with the platform's
// message and never retried; every other bill is posted, and its void is
// refused with it.
func TestForwardRefusedStopsOnlyItsBill(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	gate := newTerm(t, h, "gate-1", 0)
	var sales []*terminal.Sale
	for range 5 {
		sales = append(sales, gate.sell("cash"))
	}
	p := newPlatform(t)
	// Someone else recorded the first sale's reference with other fields.
	taken := forward.BillRef("NNP", sales[0].ID, 1, 1)
	if _, err := p.client(t, 5*time.Second).PostBill(ctx, platform.Bill{BillRef: taken, ServiceCode: "X", Amount: "1.00", Currency: "KES",
		PaidOffline: platform.PaidOffline{Tender: "cash", PaidAt: time.Now().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gate.db.Void(ctx, gate.admin, sales[0].ID, "wrong category"); err != nil {
		t.Fatal(err)
	}
	gate.mustSync()
	f := forwarderOn(t, h.Store(), p, "hub")
	for range 10 {
		if _, err := f.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.s.Counts().Bills; n != 5 {
		t.Fatalf("%d bills at the platform; want the other 4 and the one already there", n)
	}
	if n := p.s.Counts().Conflicts; n != 1 {
		t.Fatalf("%d conflicts answered; want 1: a refused bill is not retried", n)
	}
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fw := r.Forwarded
	if fw.Posted.Bills != 4 || fw.Pending.Bills != 0 || fw.Pending.Reversals != 0 || len(fw.Refused) != 2 {
		t.Fatalf("forwarded %+v; want 4 bills posted, the bill and its reversal refused", fw)
	}
	if fw.Refused[0].BillRef != taken || fw.Refused[0].Error != "bill_ref_conflict" || fw.Refused[0].Message == "" || fw.Refused[1].Kind != hub.ForwardReversal {
		t.Fatalf("refused %+v; want the bill with the platform's error and message, then its reversal", fw.Refused)
	}
	if fw.Configured || fw.Message == "" {
		t.Errorf("forwarded says configured %v, %q; the hub's options name no platform", fw.Configured, fw.Message)
	}
}
