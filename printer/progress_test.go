package printer

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// progressStore is a memStore that records progress (a ProgressStore).
type progressStore struct {
	memStore
	pmu   sync.Mutex
	marks []int
}

func (s *progressStore) MarkProgress(ctx context.Context, job Job, at int) error {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	s.marks = append(s.marks, at)
	return nil
}

// progressPrinter tells the points it is given, then fails with err (nil:
// prints).
type progressPrinter struct {
	fakePrinter
	points []int
	err    error
	from   int
}

func (p *progressPrinter) PrintProgress(ctx context.Context, job []byte, from int, progress func(int)) error {
	p.from = from
	for _, at := range p.points {
		progress(at)
	}
	return p.err
}

// TestSpoolRecordsProgress: the spool hands the printer's progress to the
// store as it comes (the latest point at least: one superseded before its
// commit may be dropped); a job that fails where the paper's end is unknown
// (not an interruption at a stop point) has its progress set back to
// where the attempt started, since the printer drops what it held
// unprinted at the next session; the next attempt starts from the
// store's point.
func TestSpoolRecordsProgress(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		from  int
		err   error
		marks []int
	}{
		{"printed", 0, nil, []int{10, 25}},
		{"the line failed", 0, terminal.Errorf(terminal.EDEVICE, "cannot write to the printer"), []int{10, 25, 0}},
		{"the line failed on a resumed job", 7, terminal.Errorf(terminal.EDEVICE, "the printer did not confirm the job"), []int{10, 25, 7}},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := &progressStore{}
			store.add("j", []byte("0123456789012345678901234567890"))
			store.find("j").From = c.from
			p := &progressPrinter{fakePrinter: fakePrinter{status: Status{Reachable: true}}, points: []int{10, 25}, err: c.err}
			sp := NewSpool(store, p, SpoolOptions{})
			n, err := sp.PrintPending(ctx)
			if (err == nil) != (c.err == nil) {
				t.Fatalf("print pending: %d, %v", n, err)
			}
			if p.from != c.from {
				t.Errorf("the printer was asked to start at %d; want %d", p.from, c.from)
			}
			// A point superseded before it was committed may be dropped:
			// what was recorded is an increasing run of the points told
			// ending with the last, then the reset.
			got := store.marks
			tail := c.marks[len(c.marks)-1:]
			if c.err == nil {
				tail = nil
			}
			if len(got) < 1+len(tail) || !slices.Equal(got[len(got)-len(tail):], tail) || got[len(got)-len(tail)-1] != 25 ||
				!slices.IsSorted(got[:len(got)-len(tail)]) {
				t.Errorf("progress recorded %v; want %v, or it without points superseded", got, c.marks)
			}
		})
	}
}
