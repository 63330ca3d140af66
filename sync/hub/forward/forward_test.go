package forward_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/forward"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/sync/platform"
	"github.com/lango-pos/lango/sync/platform/platformtest"
	"github.com/lango-pos/lango/terminal"
)

var t0 = time.Date(2025, 1, 3, 3, 12, 0, 0, time.UTC)

func event(seq int64, p terminal.Payload) terminal.Event {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return terminal.Event{Seq: seq, ID: uuid.Must(uuid.NewV7()).String(), Type: p.EventType(), At: t0.Add(time.Duration(seq) * time.Minute), Payload: b}
}

func sale(id string, tenders ...terminal.Tender) terminal.SaleCreated {
	return terminal.SaleCreated{Sale: terminal.Sale{ID: id, Kind: "sale", Site: "NNP", Operator: "wanjiru", At: t0, State: terminal.SalePaid,
		Lines:   []terminal.Line{{Code: "EAC-ADULT", Name: "EAC citizen, Adult", Kind: "entry", Qty: 2}, {Code: "CAR", Name: "Private car", Kind: "vehicle", Qty: 1}},
		Tenders: tenders}}
}

// TestDerive: the bills and voids of each kind of event, with references
// from what was sold.
func TestDerive(t *testing.T) {
	s1, s2, s3, st := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	settlement, _ := json.Marshal(terminal.Settlement{ID: st, PassID: s3, Site: "NNP", Operator: "otieno", At: t0,
		Tenders: []terminal.Tender{{Kind: terminal.TenderMpesa, Currency: "KES", Amount: 150000, Reference: "SG722NMVXQ"}}})
	term := hub.Terminal{ID: uuid.NewString(), Site: "NNP", Name: "gate-1"}
	events := []terminal.Event{
		event(1, sale(s1, terminal.Tender{Kind: terminal.TenderCash, Currency: "KES", Amount: 500000, Change: 70000})),
		event(2, sale(s2, terminal.Tender{Kind: terminal.TenderCash, Currency: "USD", Amount: 2000}, terminal.Tender{Kind: terminal.TenderCard, Currency: "KES", Amount: 130050, Reference: "A1B2C3"})),
		event(3, terminal.SaleCreated{Sale: terminal.Sale{ID: s3, Kind: "sale", Site: "NNP", State: terminal.SaleDeferred, Tenders: []terminal.Tender{{Kind: terminal.TenderDefer, Currency: "KES", Amount: 150000}}}}),
		event(4, terminal.PassSettled{SettlementID: st, PassID: s3, Settlement: settlement}),
		event(5, terminal.SaleVoid{SaleID: s1, Reason: "wrong category"}),
		event(6, terminal.SaleRefunded{Refund: terminal.Sale{ID: uuid.NewString(), Kind: "refund", RefundOf: s2}, Reason: "double charge"}),
		event(7, terminal.PassUsed{PassID: s1}),
	}
	b := forward.Derive("KWS", term, events, t0)
	if b.ThroughSeq != 7 || b.TerminalID != term.ID {
		t.Errorf("through %d of %s; want 7 of %s", b.ThroughSeq, b.TerminalID, term.ID)
	}
	type want struct{ ref, key, amount, currency, tender, reference string }
	wants := []want{
		{"NNP-" + s1, "NNP/" + s1, "4300.00", "KES", "cash", ""},
		{"NNP-" + s2 + "-1", "NNP/" + s2, "20.00", "USD", "cash", ""},
		{"NNP-" + s2 + "-2", "NNP/" + s2, "1300.50", "KES", "card", "A1B2C3"},
		{"NNP-" + st, "NNP/" + s3, "1500.00", "KES", "mpesa", "SG722NMVXQ"},
	}
	if len(b.Bills) != len(wants) {
		t.Fatalf("%d bills; want %d (none for the deferred sale)", len(b.Bills), len(wants))
	}
	for i, w := range wants {
		f := b.Bills[i]
		var bl platform.Bill
		if err := json.Unmarshal(f.Body, &bl); err != nil {
			t.Fatal(err)
		}
		got := want{f.Ref, f.SaleKey, bl.Amount, bl.Currency, bl.PaidOffline.Tender, bl.PaidOffline.Reference}
		if got != w || bl.BillRef != f.Ref || !platform.ValidBillRef(f.Ref) {
			t.Errorf("bill %d: got %+v; want %+v", i, got, w)
		}
		if i == 0 && (bl.ServiceCode != "KWS-NNP-ENTRY" || bl.Description != "2 x EAC citizen, Adult; 1 x Private car" ||
			bl.PaidOffline.CollectedBy != "NNP/gate-1/wanjiru" || bl.PaidOffline.PaidAt != "2025-01-03T03:12:00Z") {
			t.Errorf("bill 0: %+v", bl)
		}
	}
	if len(b.Voids) != 2 || b.Voids[0].SaleKey != "NNP/"+s1 || b.Voids[1].SaleKey != "NNP/"+s2 {
		t.Fatalf("voids %+v; want the void of s1 and the refund of s2", b.Voids)
	}
	var r platform.Reversal
	if err := json.Unmarshal(b.Voids[1].Body, &r); err != nil || r.Reason != "refund: double charge" || r.ReversedAt != "2025-01-03T03:18:00Z" {
		t.Errorf("refund's reversal %+v %v", r, err)
	}
	// The same events again: the same forwards, byte for byte.
	again := forward.Derive("KWS", term, events, t0.Add(time.Hour))
	for i := range b.Bills {
		if string(again.Bills[i].Body) != string(b.Bills[i].Body) || again.Bills[i].Ref != b.Bills[i].Ref {
			t.Errorf("bill %d differs when derived again later", i)
		}
	}
}

func TestBillRefAndAmount(t *testing.T) {
	id := "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	for _, c := range []struct{ site, want string }{
		{"NNP", "NNP-" + id},
		{"HUDUMA_GPO", "HUDUMA-GPO-" + id},
		{"ABCDEFGHIJKLMNOPQRSTUVWX", "ABCDEFGHIJKLMNOPQRST-" + id},
	} {
		if got := forward.BillRef(c.site, id, 1, 1); got != c.want || !platform.ValidBillRef(got) {
			t.Errorf("BillRef(%s) = %s; want %s", c.site, got, c.want)
		}
	}
	if got := forward.BillRef("NNP", id, 12, 12); len(got) > 64 || got != "NNP-"+id+"-12" {
		t.Errorf("split: %s", got)
	}
	for _, c := range []struct {
		minor int64
		want  string
	}{{430000, "4300.00"}, {5, "0.05"}, {100, "1.00"}, {0, "0.00"}} {
		if got := forward.Amount("KES", c.minor); got != c.want {
			t.Errorf("Amount(%d) = %s; want %s", c.minor, got, c.want)
		}
	}
}

// BenchmarkForward is the forwarding rate against the stand-in on
// loopback: bills claimed, posted and recorded per second, one process.
func BenchmarkForward(b *testing.B) {
	ctx := context.Background()
	st, err := hubsqlite.Open(ctx, filepath.Join(b.TempDir(), "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	plat := platformtest.New("KWS", "s3cret", time.Now, 1, nil)
	srv := httptest.NewServer(plat.Handler())
	defer srv.Close()
	c, err := platform.NewClient(platform.Config{BaseURL: srv.URL, Agency: "KWS", Secret: "s3cret", HTTP: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	term := hub.Terminal{ID: uuid.NewString(), Site: "NNP", Name: "gate-1"}
	events := make([]terminal.Event, b.N)
	for i := range events {
		events[i] = event(int64(i+1), sale(uuid.NewString(), terminal.Tender{Kind: terminal.TenderCash, Currency: "KES", Amount: 430000}))
	}
	batch := forward.Derive("KWS", term, events, time.Now())
	if err := st.EnqueueForwards(ctx, batch); err != nil {
		b.Fatal(err)
	}
	f := forward.New(forward.Config{Store: st, Platform: c, Owner: "bench", Batch: 64})
	b.ResetTimer()
	posted := 0
	for posted < b.N {
		res, err := f.Once(ctx)
		if err != nil || res.Failed > 0 {
			b.Fatalf("%+v %v", res, err)
		}
		posted += res.Posted
	}
	b.StopTimer()
	if n := plat.Counts().Bills; n != b.N {
		b.Fatalf("%d bills; want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bills/s")
}
