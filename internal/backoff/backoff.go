// Package backoff is capped exponential backoff with equal jitter, for the
// retry loops of the print spool and the sync worker.
package backoff

import "time"

// Backoff gives the waits after consecutive failures: the n-th (from 0) is
// drawn from [d/2, d) where d = Min·2ⁿ capped at Max. Rand returns a number
// in [0, 1).
type Backoff struct {
	Min, Max time.Duration
	Rand     func() float64
	n        int
}

// Next is the wait after one more failure.
func (b *Backoff) Next() time.Duration {
	d := b.Min
	for i := 0; i < b.n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	b.n++
	return d/2 + time.Duration(b.Rand()*float64(d/2))
}

// Reset starts again after a success.
func (b *Backoff) Reset() { b.n = 0 }

// Failures is how many failures since the last Reset.
func (b *Backoff) Failures() int { return b.n }
