package zvt

import (
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	started := time.Date(2026, 1, 9, 10, 0, 0, 0, time.UTC)
	p := Pending{Reference: "S-1", Amount: kes(350000), Started: started, LastTrace: 41}
	last := func(mod func(*Result)) Result {
		r := Result{Approved: true, Amount: kes(350000), Trace: 42, Receipt: 7, Approval: "123456", Time: started.Add(40 * time.Second)}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	skew, window := 10*time.Minute, 5*time.Minute
	tests := []struct {
		name  string
		p     Pending
		last  Result
		found bool
		want  Outcome
	}{
		{"nothing on the PDQ", p, Result{}, false, OutcomeNotCharged},
		{"approved, matching", p, last(nil), true, OutcomeCharged},
		{"declined, matching", p, last(func(r *Result) { r.Approved, r.ResultCode = false, 0x05 }), true, OutcomeNotCharged},
		{"last trace unchanged", p, last(func(r *Result) { r.Trace = 41 }), true, OutcomeNotCharged},
		{"other amount since", p, last(func(r *Result) { r.Amount = kes(1000) }), true, OutcomeUnknown},
		{"other currency", p, last(func(r *Result) { r.Amount.Currency = "USD" }), true, OutcomeUnknown},
		{"PDQ clock 9 min behind", p, last(func(r *Result) { r.Time = started.Add(-9 * time.Minute) }), true, OutcomeCharged},
		{"far too late", p, last(func(r *Result) { r.Time = started.Add(time.Hour) }), true, OutcomeUnknown},
		{"no PDQ time, trace moved", p, last(func(r *Result) { r.Time = time.Time{} }), true, OutcomeCharged},
		{"no PDQ time, no last trace", Pending{Amount: kes(350000), Started: started}, last(func(r *Result) { r.Time = time.Time{} }), true, OutcomeUnknown},
		{"older, last trace unknown", Pending{Amount: kes(350000), Started: started}, last(func(r *Result) { r.Time = started.Add(-2 * time.Hour) }), true, OutcomeNotCharged},
		{"older, but trace moved", p, last(func(r *Result) { r.Time = started.Add(-2 * time.Hour) }), true, OutcomeUnknown},
		{"last is a reversal", p, last(func(r *Result) { r.ReversalOf = 40 }), true, OutcomeUnknown},
		{"PDQ sent no currency", p, last(func(r *Result) { r.Amount.Currency = "" }), true, OutcomeCharged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Match(tt.p, tt.last, tt.found, skew, window)
			if got.Outcome != tt.want || got.Reason == "" {
				t.Fatalf("Match = %q (%s); want %q", got.Outcome, got.Reason, tt.want)
			}
			if tt.found && got.Last == nil {
				t.Fatal("Last missing")
			}
		})
	}
}
