package hubtest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
)

func bill(ref, sale string, seq int64) hub.Forward {
	return hub.Forward{Ref: ref, Kind: hub.ForwardBill, SaleKey: "NNP/" + sale, Site: "NNP", Terminal: "gate-1", Seq: seq,
		Body: json.RawMessage(`{"bill_ref":"` + ref + `"}`), NextAt: t0}
}

func refs(fs []hub.Forward) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind+":"+f.Ref)
	}
	return out
}

func sameList(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// forwarding: the queue is idempotent, its cursor never goes back, a
// lease keeps a forward from a second owner until it ends, a reversal
// waits for its bill, and a refused bill refuses its reversal.
func forwarding(t *testing.T, s hub.Store) {
	ctx := context.Background()
	void := hub.ForwardVoid{SaleKey: "NNP/s1", Site: "NNP", Terminal: "gate-1", Seq: 3, Body: json.RawMessage(`{"reason":"wrong"}`), At: t0}
	b := hub.ForwardBatch{TerminalID: "t1", ThroughSeq: 3, Bills: []hub.Forward{bill("NNP-s1", "s1", 1), bill("NNP-s2", "s2", 2)}, Voids: []hub.ForwardVoid{void}, At: t0}
	must(t, s.EnqueueForwards(ctx, b))
	must(t, s.EnqueueForwards(ctx, b)) // a second process derived the same events
	must(t, s.EnqueueForwards(ctx, hub.ForwardBatch{TerminalID: "t1", ThroughSeq: 2, At: t0}))
	cur, err := s.ForwardCursors(ctx)
	must(t, err)
	if cur["t1"] != 3 {
		t.Errorf("cursor %d; want 3 (never back)", cur["t1"])
	}
	sum, err := s.ForwardSummary(ctx)
	must(t, err)
	if sum.Pending[hub.ForwardBill] != 2 || sum.Pending[hub.ForwardReversal] != 1 {
		t.Fatalf("pending %v; want 2 bills and 1 reversal, once each", sum.Pending)
	}

	// Not due yet: nothing. Due: the bills, not the reversal.
	got, err := s.ClaimForwards(ctx, "a", t0.Add(-time.Second), time.Minute, 10)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("claimed %v before they were due", refs(got))
	}
	got, err = s.ClaimForwards(ctx, "a", t0, time.Minute, 10)
	must(t, err)
	if !sameList(refs(got), "bill:NNP-s1", "bill:NNP-s2") {
		t.Fatalf("a claimed %v; want the two bills, not the reversal before its bill", refs(got))
	}
	other, err := s.ClaimForwards(ctx, "b", t0.Add(30*time.Second), time.Minute, 10)
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("b claimed %v under a's lease", refs(other))
	}
	// b may not push back a's forward while a's lease runs.
	f := got[1]
	f.Attempts, f.NextAt, f.Message = 1, t0.Add(time.Hour), "b says so"
	must(t, s.FinishForward(ctx, "b", f, t0.Add(30*time.Second)))
	// a's lease ran out: b takes NNP-s2.
	other, err = s.ClaimForwards(ctx, "b", t0.Add(61*time.Second), time.Minute, 10)
	must(t, err)
	if !sameList(refs(other), "bill:NNP-s1", "bill:NNP-s2") {
		t.Fatalf("b claimed %v after a's lease; want both bills", refs(other))
	}

	// s1 posted: its reversal is due. s2 refused.
	p := got[0]
	p.State, p.BillNumber, p.DoneAt, p.Attempts = hub.ForwardPosted, "BL-1", t0.Add(time.Minute), 1
	must(t, s.FinishForward(ctx, "a", p, t0.Add(62*time.Second)))
	r := got[1]
	r.State, r.Error, r.Message, r.DoneAt = hub.ForwardRefused, "invalid", "amount is wrong", t0.Add(time.Minute)
	must(t, s.FinishForward(ctx, "b", r, t0.Add(62*time.Second)))
	// A late retry of the posted one changes nothing.
	late := got[0]
	late.Attempts, late.NextAt, late.Message = 2, t0.Add(time.Hour), "timeout"
	must(t, s.FinishForward(ctx, "a", late, t0.Add(63*time.Second)))

	got, err = s.ClaimForwards(ctx, "a", t0.Add(2*time.Minute), time.Minute, 10)
	must(t, err)
	if !sameList(refs(got), "reversal:NNP-s1") {
		t.Fatalf("claimed %v; want the reversal of the posted bill", refs(got))
	}
	// A void of the refused s2 now: its reversal is refused with it.
	must(t, s.EnqueueForwards(ctx, hub.ForwardBatch{TerminalID: "t1", ThroughSeq: 4, At: t0,
		Voids: []hub.ForwardVoid{{SaleKey: "NNP/s2", Site: "NNP", Terminal: "gate-1", Seq: 4, Body: json.RawMessage(`{}`), At: t0}}}))
	sum, err = s.ForwardSummary(ctx)
	must(t, err)
	if sum.Posted[hub.ForwardBill] != 1 || sum.Refused[hub.ForwardBill] != 1 || sum.Refused[hub.ForwardReversal] != 1 || sum.Pending[hub.ForwardReversal] != 1 {
		t.Fatalf("summary %+v; want 1 bill posted, 1 bill and its reversal refused, 1 reversal pending", sum)
	}
	if len(sum.RefusedList) != 2 || sum.RefusedList[0].Message != "amount is wrong" || sum.RefusedList[0].Error != "invalid" {
		t.Fatalf("refused %+v; want the bill with the platform's message first", sum.RefusedList)
	}
	if sum.OldestPending.IsZero() {
		t.Errorf("no oldest pending time")
	}
	// By sale: s1's bill posted and its reversal pending; s2 refused.
	states, err := s.ForwardStates(ctx)
	must(t, err)
	if len(states) != 2 || states["NNP/s1"] != hub.ForwardPending || states["NNP/s2"] != hub.ForwardRefused {
		t.Errorf("forward states %v; want NNP/s1 pending, NNP/s2 refused", states)
	}
}

// forwardVoidFirst: a void that arrives before the bill (a settlement
// uploaded late by another terminal) still reverses it, after it; a bill
// taken after the void (an exit that had not heard of it) is money taken
// and is not reversed.
func forwardVoidFirst(t *testing.T, s hub.Store) {
	ctx := context.Background()
	must(t, s.EnqueueForwards(ctx, hub.ForwardBatch{TerminalID: "t1", ThroughSeq: 5, At: t0,
		Voids: []hub.ForwardVoid{{SaleKey: "NNP/s1", Site: "NNP", Terminal: "gate-1", Seq: 5, Body: json.RawMessage(`{"reason":"x"}`), At: t0.Add(time.Hour)}}}))
	before, after := bill("NNP-x1", "s1", 9), bill("NNP-x2", "s1", 10)
	before.At, after.At = t0.Add(30*time.Minute), t0.Add(2*time.Hour)
	must(t, s.EnqueueForwards(ctx, hub.ForwardBatch{TerminalID: "t2", ThroughSeq: 10, At: t0, Bills: []hub.Forward{before, after}}))
	got, err := s.ClaimForwards(ctx, "a", t0, time.Minute, 10)
	must(t, err)
	if !sameList(refs(got), "bill:NNP-x1", "bill:NNP-x2") {
		t.Fatalf("claimed %v; want the bills alone", refs(got))
	}
	for _, f := range got {
		f.State, f.DoneAt = hub.ForwardPosted, t0
		must(t, s.FinishForward(ctx, "a", f, t0))
	}
	got, err = s.ClaimForwards(ctx, "a", t0, time.Minute, 10)
	must(t, err)
	if !sameList(refs(got), "reversal:NNP-x1") || string(got[0].Body) != `{"reason":"x"}` || !got[0].At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("claimed %v; want the reversal of the bill before the void alone, with the void's body and time", refs(got))
	}
	cur, err := s.ForwardCursors(ctx)
	must(t, err)
	if cur["t1"] != 5 || cur["t2"] != 10 {
		t.Errorf("cursors %v", cur)
	}
}

func ticketOf(no, status string) hub.Ticket {
	return hub.Ticket{No: no, ValidFrom: t0, ValidTo: t0.Add(12 * time.Hour), Party: json.RawMessage(`[{"category":"citizen","age_band":"adult","count":2}]`),
		Vehicle: json.RawMessage(`null`), Status: status}
}

// tickets: pages replace tickets by number with new change numbers; a
// page above the bound stores nothing; a refusal keeps the list held.
func tickets(t *testing.T, s hub.Store) {
	ctx := context.Background()
	if _, ok, err := s.TicketList(ctx, "NNP", "2025-01-03"); err != nil || ok {
		t.Fatalf("a list never fetched: ok %v, %v", ok, err)
	}
	must(t, s.PutTickets(ctx, "NNP", "2025-01-03", "2", []hub.Ticket{ticketOf("KWS-1", "valid"), ticketOf("KWS-2", "valid")}, 3, t0))
	must(t, s.PutTickets(ctx, "TSV", "2025-01-03", "9", []hub.Ticket{ticketOf("KWS-9", "valid")}, 3, t0))
	got, err := s.Tickets(ctx, "NNP", 0, 10)
	must(t, err)
	if len(got) != 2 || got[0].No != "KWS-1" || got[0].Day != "2025-01-03" || !got[0].ValidTo.Equal(t0.Add(12*time.Hour)) {
		t.Fatalf("tickets %+v", got)
	}
	last := got[1].N
	// KWS-1 cancelled: it comes again, after the last change.
	must(t, s.PutTickets(ctx, "NNP", "2025-01-03", "3", []hub.Ticket{ticketOf("KWS-1", "cancelled")}, 3, t0.Add(time.Minute)))
	got, err = s.Tickets(ctx, "NNP", last, 10)
	must(t, err)
	if len(got) != 1 || got[0].No != "KWS-1" || got[0].Status != "cancelled" {
		t.Fatalf("changes after %d: %+v; want KWS-1 cancelled", last, got)
	}
	// Above the bound: nothing of the page is stored, the cursor stays.
	err = s.PutTickets(ctx, "NNP", "2025-01-03", "5", []hub.Ticket{ticketOf("KWS-3", "valid"), ticketOf("KWS-4", "valid")}, 3, t0)
	if !errors.Is(err, hub.ErrTooManyTickets) {
		t.Fatalf("a page above the bound: %v; want ErrTooManyTickets", err)
	}
	must(t, s.RefuseTicketList(ctx, "NNP", "2025-01-03", "too many", t0.Add(2*time.Minute)))
	l, ok, err := s.TicketList(ctx, "NNP", "2025-01-03")
	must(t, err)
	if !ok || l.Cursor != "3" || l.Tickets != 2 || l.Error != "too many" {
		t.Fatalf("list %+v; want cursor 3, the 2 tickets held, the refusal", l)
	}
	must(t, s.PutTickets(ctx, "NNP", "2025-01-03", "6", []hub.Ticket{ticketOf("KWS-3", "valid")}, 3, t0))
	ls, err := s.TicketLists(ctx)
	must(t, err)
	if len(ls) != 2 || ls[0].Site != "NNP" || ls[0].Error != "" || ls[0].Tickets != 3 || ls[1].Site != "TSV" {
		t.Fatalf("lists %+v; want NNP (refusal cleared, 3 tickets) and TSV", ls)
	}
}
