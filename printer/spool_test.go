package printer

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// fakePrinter prints into a slice and fails while its status says so.
type fakePrinter struct {
	mu      sync.Mutex
	status  Status
	printed [][]byte
	invalid string // jobs with this content are damaged
}

func (p *fakePrinter) set(st Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = st
}

func (p *fakePrinter) Status(context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.status.Reachable {
		return p.status, terminal.Errorf(terminal.EDEVICE, "no printer port")
	}
	return p.status, nil
}

func (p *fakePrinter) Print(ctx context.Context, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.invalid != "" && string(job) == p.invalid {
		return terminal.Errorf(terminal.EINVALID, "the print job is damaged")
	}
	if !p.status.Ready() {
		return notReady("", p.status)
	}
	p.printed = append(p.printed, job)
	return nil
}

func (p *fakePrinter) jobs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, j := range p.printed {
		out = append(out, string(j))
	}
	return out
}

// fakeClock hands out timer channels the test fires, and records the
// waits asked for.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	waits  []time.Duration
	timers []chan time.Time
	asked  chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 1, 3, 3, 0, 0, 0, time.UTC), asked: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waits = append(c.waits, d)
	c.timers = append(c.timers, ch)
	c.asked <- struct{}{}
	return ch
}

// next waits for the worker to ask for a timer and returns the wait.
func (c *fakeClock) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case <-c.asked:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker never waited")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waits[len(c.waits)-1]
}

// fire ends the last wait.
func (c *fakeClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.waits[len(c.waits)-1])
	c.timers[len(c.timers)-1] <- c.now
}

func TestSpoolPrintsInOrder(t *testing.T) {
	store := &memStore{}
	for _, id := range []string{"a", "b", "c"} {
		store.add(id, []byte(id))
	}
	p := &fakePrinter{status: Status{Reachable: true}}
	clk := newFakeClock()
	sp := NewSpool(store, p, SpoolOptions{Now: clk.Now, After: clk.After})
	n, err := sp.PrintPending(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("PrintPending = %d, %v; want 3, nil", n, err)
	}
	if got := p.jobs(); len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Errorf("printed %v; want a b c", got)
	}
	for _, j := range store.jobs {
		if !j.printed.Equal(clk.Now()) {
			t.Errorf("job %s printed at %v; want the clock's %v", j.ID, j.printed, clk.Now())
		}
	}
}

// TestSpoolBackoff: while the printer is out of paper the worker waits
// 1, 2, 4, 8 … s (jitter in the upper half), capped, and prints the job
// once paper is back; the UI sees paper_out then ready.
func TestSpoolBackoff(t *testing.T) {
	store := &memStore{}
	store.add("a", []byte("a"))
	p := &fakePrinter{status: Status{Reachable: true, PaperOut: true}}
	clk := newFakeClock()
	var mu sync.Mutex
	var states []string
	sp := NewSpool(store, p, SpoolOptions{
		Now: clk.Now, After: clk.After, Jitter: func() float64 { return 0.5 },
		MinBackoff: time.Second, MaxBackoff: 10 * time.Second,
		OnState: func(s State) { mu.Lock(); states = append(states, s.Code()); mu.Unlock() },
	})
	sp.Start(context.Background())
	defer sp.Close()
	// d/2 + 0.5·d/2 = 0.75·d for d = 1, 2, 4, 8, 10, 10 s.
	waits := []time.Duration{750, 1500, 3000, 6000, 7500, 7500}
	for i, want := range waits {
		if got := clk.next(t); got != want*time.Millisecond {
			t.Errorf("backoff %v; want %v", got, want*time.Millisecond)
		}
		if len(p.jobs()) != 0 || store.pending() != 1 {
			t.Fatalf("printed while out of paper")
		}
		if i < len(waits)-1 {
			clk.fire()
		}
	}
	p.set(Status{Reachable: true}) // paper loaded during the last wait
	clk.fire()
	if got := clk.next(t); got != 30*time.Second {
		t.Errorf("idle wait %v; want the 30 s poll", got)
	}
	if len(p.jobs()) != 1 || store.pending() != 0 {
		t.Errorf("printed %d, pending %d; want 1, 0", len(p.jobs()), store.pending())
	}
	if a := store.jobs[0].Attempts; a != len(waits) {
		t.Errorf("failed attempts %d; want %d", a, len(waits))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 2 || states[0] != "paper_out" || states[1] != "ready" {
		t.Errorf("states %v; want [paper_out ready]", states)
	}
}

func TestSpoolNotifyRetriesAtOnce(t *testing.T) {
	store := &memStore{}
	store.add("a", []byte("a"))
	p := &fakePrinter{status: Status{}} // unplugged
	clk := newFakeClock()
	sp := NewSpool(store, p, SpoolOptions{Now: clk.Now, After: clk.After, MinBackoff: time.Hour, MaxBackoff: time.Hour})
	sp.Start(context.Background())
	defer sp.Close()
	clk.next(t) // backing off for up to an hour
	if got := sp.State().Code(); got != "unreachable" {
		t.Errorf("state %s; want unreachable", got)
	}
	p.set(Status{Reachable: true})
	sp.Notify()
	clk.next(t) // idle again
	if len(p.jobs()) != 1 {
		t.Errorf("printed %d jobs after Notify; want 1", len(p.jobs()))
	}
}

// A damaged job leaves the queue (final) and does not block the next.
func TestSpoolSkipsDamagedJob(t *testing.T) {
	store := &memStore{}
	store.add("bad", []byte("bad"))
	store.add("good", []byte("good"))
	p := &fakePrinter{status: Status{Reachable: true}, invalid: "bad"}
	sp := NewSpool(store, p, SpoolOptions{})
	n, err := sp.PrintPending(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("PrintPending = %d, %v; want 1, nil", n, err)
	}
	if !store.jobs[0].given || len(store.jobs[0].reasons) != 1 {
		t.Errorf("damaged job not given up: %+v", store.jobs[0])
	}
}

// If the store cannot record a printed job, the job is not printed again.
func TestSpoolNeverReprints(t *testing.T) {
	store := &memStore{markErrs: 1}
	store.add("a", []byte("a"))
	p := &fakePrinter{status: Status{Reachable: true}}
	sp := NewSpool(store, p, SpoolOptions{})
	if _, err := sp.PrintPending(context.Background()); err == nil {
		t.Fatal("MarkPrinted failure not reported")
	}
	n, err := sp.PrintPending(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("second pass = %d, %v; want 0, nil", n, err)
	}
	if got := len(p.jobs()); got != 1 {
		t.Errorf("printed %d times; want once", got)
	}
	if store.pending() != 0 || store.jobs[0].markCalls != 2 {
		t.Errorf("pending %d, mark calls %d; want 0, 2", store.pending(), store.jobs[0].markCalls)
	}
}

func TestSpoolCloseStops(t *testing.T) {
	store := &memStore{}
	p := &fakePrinter{status: Status{Reachable: true}}
	sp := NewSpool(store, p, SpoolOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sp.Start(ctx)
	done := make(chan error)
	go func() { done <- sp.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not stop the worker")
	}
	if err := sp.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
