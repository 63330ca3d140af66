package backoff

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	r := 0.0
	b := Backoff{Min: time.Second, Max: 10 * time.Second, Rand: func() float64 { return r }}
	var got []time.Duration
	for range 6 {
		got = append(got, b.Next())
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delay %d = %v; want %v", i, got[i], want[i])
		}
	}
	r = 0.999
	if d := b.Next(); d < 9*time.Second || d >= 10*time.Second {
		t.Errorf("jittered delay %v; want within [9s, 10s)", d)
	}
	b.Reset()
	if d := b.Next(); d > time.Second {
		t.Errorf("after reset: %v", d)
	}
}
