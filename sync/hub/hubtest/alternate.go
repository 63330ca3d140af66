package hubtest

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Rounds is how many rounds AlternateRuns makes: LANGO_BENCH_ROUNDS, or 3.
func Rounds() int {
	if n, err := strconv.Atoi(os.Getenv("LANGO_BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// AlternateRuns runs empty and full rounds times each, swapping which goes
// first every round, and returns the median time of each. A benchmark
// comparing Apply into an empty hub with Apply into a full one ran each
// once, the empty one first: on the shared two cores the same code's rate
// moved by 2× from one minute to the next (BENCHMARKS.md), which one
// ordered pair cannot tell from a cost that grows with the table.
func AlternateRuns(b *testing.B, rounds int, empty, full func() time.Duration) (time.Duration, time.Duration) {
	var es, fs []time.Duration
	for r := range rounds {
		if r%2 == 0 {
			es = append(es, empty())
			fs = append(fs, full())
		} else {
			fs = append(fs, full())
			es = append(es, empty())
		}
		b.Logf("round %d: into the empty hub %v, into the full one %v", r+1, es[r].Round(time.Millisecond), fs[r].Round(time.Millisecond))
	}
	return medianDuration(es), medianDuration(fs)
}

func medianDuration(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
