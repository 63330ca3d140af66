package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// TestLargestBatchApplies: the largest upload the hub accepts (wire.MaxBatch
// events in wire.MaxBody bytes) naming as many distinct groups of report
// facts as it can (every event a sale paid by as many M-PESA codes as fit)
// applies on a server with the default max_locks_per_transaction (64, the
// throwaway cluster's), two such uploads at once: Apply's locks on the
// groups are bounded, not one a group (about 90,000 here, more than the
// server's lock table holds).
func TestLargestBatchApplies(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	defer s.Close()
	var max string
	if err := s.Pool().QueryRow(ctx, `SHOW max_locks_per_transaction`).Scan(&max); err != nil || max != "64" {
		t.Fatalf("max_locks_per_transaction %q, %v; want the default 64", max, err)
	}
	batch := func(term hub.Terminal, prefix string) ([]terminal.Event, int) {
		var events []terminal.Event
		prev, size, groups := "", 0, 0
		for seq := int64(1); seq <= wire.MaxBatch; seq++ {
			sale := terminal.Sale{ID: uuid.Must(uuid.NewV7()).String(), Number: seq, Kind: "sale", Terminal: term.ID, Site: "NNP", At: t0, State: terminal.SalePaid}
			for k := range 15 {
				sale.Tenders = append(sale.Tenders, terminal.Tender{Kind: terminal.TenderMpesa, Currency: "KES", Amount: 100, Reference: fmt.Sprintf("%s%05d%02d", prefix, seq, k)})
			}
			raw, err := json.Marshal(sale)
			if err != nil {
				t.Fatal(err)
			}
			e := terminal.Event{Seq: seq, ID: uuid.Must(uuid.NewV7()).String(), Terminal: term.ID, Type: terminal.EventSaleCreated, At: t0, Actor: "admin", Payload: raw, PrevHash: prev}
			e.Hash = e.ComputeHash()
			prev = e.Hash
			events = append(events, e)
			groups += 1 + len(sale.Tenders)
		}
		body, err := json.Marshal(wire.UploadRequest{Events: wireEvents(events)})
		if err != nil {
			t.Fatal(err)
		}
		if size = len(body); size > wire.MaxBody {
			t.Fatalf("the upload is %d bytes; the hub takes at most %d", size, wire.MaxBody)
		}
		t.Logf("an upload of %d events, %d bytes, naming %d groups", len(events), size, groups)
		return events, groups
	}
	a, b := enroll(t, s, "gate-1"), enroll(t, s, "gate-2")
	ea, ga := batch(a, "A")
	eb, _ := batch(b, "B")
	errs := make(chan error, 2)
	for _, c := range []struct {
		term   hub.Terminal
		events []terminal.Event
	}{{a, ea}, {b, eb}} {
		go func() {
			_, err := s.Apply(ctx, c.term.ID, c.events, time.Now())
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	st, err := s.ReportState(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	codes := 0
	for _, tt := range st.MpesaTotals {
		codes += tt.Codes
	}
	if want := 2 * (ga - wire.MaxBatch); codes != want {
		t.Errorf("%d M-PESA codes kept; want %d", codes, want)
	}
}

func wireEvents(es []terminal.Event) []wire.Event {
	out := make([]wire.Event, len(es))
	for i, e := range es {
		out[i] = wire.Event(e)
	}
	return out
}
