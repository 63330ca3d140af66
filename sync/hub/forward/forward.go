// Package forward posts what reaches the hub to the national payment
// platform, exactly once: every sale, settlement, void and refund becomes
// a bill or a reversal (Derive) in the store's durable queue, which the
// Forwarder drains with leases (so several hub processes share it), in
// order per sale, with capped exponential backoff. A bill the platform
// refuses (409, 422) stops only that bill and is reported; a lost answer
// is retried with the same bill_ref, which the platform's idempotency
// makes one bill. See docs/PLATFORM.md.
package forward

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lango-pos/lango/internal/backoff"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/platform"
)

// Poster is what the forwarder needs of the platform (a *platform.Client).
type Poster interface {
	Agency() string
	PostBill(ctx context.Context, b platform.Bill) (platform.Answer, error)
	PostReversal(ctx context.Context, ref string, r platform.Reversal) (platform.Answer, error)
	Redeem(ctx context.Context, ticketNo string, r platform.Redemption) (platform.Answer, error)
}

// TicketSource is where the prepaid ticket lists come from (a
// *platform.Client).
type TicketSource interface {
	Tickets(ctx context.Context, site, day, after string) (platform.TicketPage, error)
}

// Config configures a Forwarder. Zero values take the defaults.
type Config struct {
	Store    hub.Store
	Platform Poster
	// Owner names this process in the store's leases; a random one if "".
	Owner  string
	Now    func() time.Time // time.Now
	Rand   func() float64   // jitter; math/rand/v2
	Logger *slog.Logger
	// Lease is how long a claimed forward is this process's (30 s); a
	// process that stops, even with SIGKILL, leaves its claims to the
	// others after it. A batch still being posted at half its lease
	// releases the rest, so the lease should be a few times the platform
	// client's timeout. (Two posts of one forward are harmless, the
	// platform's idempotency makes them one bill; the lease saves the
	// work.)
	Lease time.Duration
	Batch int           // forwards claimed at once (16)
	Idle  time.Duration // wait when nothing is due (2 s)
	// MinBackoff and MaxBackoff bound the wait after a failure (1 s, 5
	// minutes): the whole queue's after the platform fails, and each
	// forward's own NextAt.
	MinBackoff, MaxBackoff time.Duration

	// Tickets, if set, is where the sites' prepaid ticket lists are
	// fetched from, every TicketEvery (5 minutes), for today and tomorrow
	// in Zone (Africa/Nairobi); a list is bounded to MaxTickets (200,000).
	Tickets     TicketSource
	TicketEvery time.Duration
	Zone        *time.Location
	MaxTickets  int
}

// Forwarder drains the queue. Start runs it in the background; Once does
// one round, for tests and tools.
type Forwarder struct {
	cfg Config
	log *slog.Logger

	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	backoff backoff.Backoff
	pause   time.Time // nothing is posted before (after a failure, or Retry-After)
	lastErr string
}

// New returns a forwarder.
func New(cfg Config) *Forwarder {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = mrand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		rand.Read(b[:])
		cfg.Owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 16
	}
	if cfg.Idle <= 0 {
		cfg.Idle = 2 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Minute, cfg.MinBackoff)
	}
	if cfg.TicketEvery <= 0 {
		cfg.TicketEvery = 5 * time.Minute
	}
	if cfg.Zone == nil {
		if cfg.Zone, _ = time.LoadLocation("Africa/Nairobi"); cfg.Zone == nil {
			cfg.Zone = time.FixedZone("EAT", 3*3600)
		}
	}
	if cfg.MaxTickets <= 0 {
		cfg.MaxTickets = 200000
	}
	return &Forwarder{cfg: cfg, log: cfg.Logger, stop: make(chan struct{}),
		backoff: backoff.Backoff{Min: cfg.MinBackoff, Max: cfg.MaxBackoff, Rand: cfg.Rand}}
}

// Start runs the forwarder until Close or ctx is done.
func (f *Forwarder) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	f.wg.Add(2)
	go func() {
		defer f.wg.Done()
		select {
		case <-f.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	go func() {
		defer f.wg.Done()
		f.run(ctx)
	}()
}

// Close stops the forwarder and waits for it: a post in flight is cut, its
// forward stays pending under a lease that runs out.
func (f *Forwarder) Close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	f.wg.Wait()
}

func (f *Forwarder) run(ctx context.Context) {
	var fetched time.Time
	for {
		if f.cfg.Tickets != nil && f.cfg.Now().Sub(fetched) >= f.cfg.TicketEvery {
			fetched = f.cfg.Now()
			if err := f.FetchTickets(ctx); err != nil {
				// The platform is down: try again in a minute, not at
				// every round of the queue.
				f.log.Warn("fetching prepaid tickets from the platform", "err", err)
				fetched = fetched.Add(min(time.Minute, f.cfg.TicketEvery) - f.cfg.TicketEvery)
			}
		}
		res, err := f.Once(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Duration(0)
		switch {
		case err != nil:
			f.log.Warn("forwarding to the platform", "err", err)
			f.mu.Lock()
			wait = f.backoff.Next()
			f.mu.Unlock()
		case res.Failed > 0:
			f.mu.Lock()
			wait = max(f.cfg.MinBackoff/2, f.pause.Sub(f.cfg.Now()))
			f.mu.Unlock()
		case res.Claimed == 0:
			wait = f.cfg.Idle
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// Result is what a round did.
type Result struct {
	Derived int // new forwards derived (bills and voids)
	Claimed int
	Posted  int
	Refused int
	Failed  int // left pending for a retry
}

// Once derives the forwards of newly applied events, then claims and
// posts one batch of those due.
func (f *Forwarder) Once(ctx context.Context) (Result, error) {
	var res Result
	n, err := f.Derive(ctx)
	res.Derived = n
	if err != nil {
		return res, err
	}
	now := f.cfg.Now()
	claimed, err := f.cfg.Store.ClaimForwards(ctx, f.cfg.Owner, now, f.cfg.Lease, f.cfg.Batch)
	if err != nil {
		return res, fmt.Errorf("forward: %w", err)
	}
	res.Claimed = len(claimed)
	release := func(rest []hub.Forward, now time.Time) error {
		for _, r := range rest {
			if err := f.cfg.Store.FinishForward(ctx, f.cfg.Owner, r, now); err != nil {
				return fmt.Errorf("forward: release %s: %w", r.Ref, err)
			}
		}
		return nil
	}
	for i, fw := range claimed {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if f.cfg.Now().Sub(now) > f.cfg.Lease/2 {
			// Slow going: what is left goes back before the lease ends.
			return res, release(claimed[i:], f.cfg.Now())
		}
		err := f.post(ctx, fw)
		switch {
		case err == nil:
			res.Posted++
			f.mu.Lock()
			f.backoff.Reset() // the platform answers: the next failure waits the least again
			f.mu.Unlock()
		case platform.Permanent(err):
			res.Refused++
		default:
			res.Failed++
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			// The platform fails: the rest of the batch waits (released
			// now, so another process need not wait for the lease).
			return res, release(claimed[i+1:], f.cfg.Now())
		}
	}
	return res, nil
}

// post posts one forward and records the outcome.
func (f *Forwarder) post(ctx context.Context, fw hub.Forward) error {
	var a platform.Answer
	var err error
	switch fw.Kind {
	case hub.ForwardBill:
		var b platform.Bill
		if err = json.Unmarshal(fw.Body, &b); err == nil {
			a, err = f.cfg.Platform.PostBill(ctx, b)
		}
	case hub.ForwardReversal:
		var r platform.Reversal
		if err = json.Unmarshal(fw.Body, &r); err == nil {
			a, err = f.cfg.Platform.PostReversal(ctx, fw.Ref, r)
		}
	case hub.ForwardRedemption:
		var r platform.Redemption
		if err = json.Unmarshal(fw.Body, &r); err == nil {
			no, _, _ := strings.Cut(fw.Ref, " ")
			a, err = f.cfg.Platform.Redeem(ctx, no, r)
		}
	default:
		err = fmt.Errorf("unknown forward kind %q", fw.Kind)
	}
	now := f.cfg.Now()
	fw.Attempts++
	var pe *platform.Error
	switch {
	case err == nil:
		fw.State, fw.BillNumber, fw.Error, fw.Message, fw.DoneAt = hub.ForwardPosted, a.BillNumber, "", "", now
		f.log.Debug("posted to the platform", "kind", fw.Kind, "bill_ref", fw.Ref, "bill_number", a.BillNumber, "created", a.Created)
	case platform.Permanent(err) && errors.As(err, &pe):
		fw.State, fw.Error, fw.Message, fw.DoneAt = hub.ForwardRefused, pe.Code, pe.Message, now
		if fw.Message == "" {
			fw.Message = err.Error()
		}
		f.log.Warn("the platform refused a "+fw.Kind, "bill_ref", fw.Ref, "site", fw.Site, "terminal", fw.Terminal, "status", pe.Status, "error", pe.Code, "message", pe.Message)
	case ctx.Err() != nil:
		// Stopping: leave it to the lease.
		return err
	default:
		fw.Message = err.Error()
		fw.Error = "unavailable"
		if errors.As(err, &pe) {
			fw.Error = pe.Code
		}
		// The failure is the platform's or the network's, not the
		// bill's: it waits as the whole queue does (the backoff grows
		// while the platform fails and starts again at its least once
		// it answers).
		f.mu.Lock()
		wait := f.backoff.Next()
		f.mu.Unlock()
		wait = max(wait, platform.RetryAfter(err))
		fw.NextAt = now.Add(wait)
		// The whole queue waits as long: a platform that fails one
		// request is not sent the next at once.
		f.mu.Lock()
		if fw.NextAt.After(f.pause) {
			f.pause = fw.NextAt
		}
		f.mu.Unlock()
		f.mu.Lock()
		f.lastErr = err.Error()
		f.mu.Unlock()
	}
	if ferr := f.cfg.Store.FinishForward(ctx, f.cfg.Owner, fw, now); ferr != nil {
		return errors.Join(err, fmt.Errorf("forward: record %s: %w", fw.Ref, ferr))
	}
	return err
}

// derivePage is how many events of a terminal are read at once.
const derivePage = 500

// Derive turns the events applied since the last round into forwards,
// terminal by terminal, and returns how many bills and voids it found.
func (f *Forwarder) Derive(ctx context.Context) (int, error) {
	st := f.cfg.Store
	cursors, err := st.ForwardCursors(ctx)
	if err != nil {
		return 0, fmt.Errorf("forward: %w", err)
	}
	ts, err := st.Terminals(ctx)
	if err != nil {
		return 0, fmt.Errorf("forward: %w", err)
	}
	var quarantined map[[2]any]bool
	n := 0
	for _, t := range ts {
		for cur := cursors[t.ID]; cur < t.LastSeq; {
			if quarantined == nil {
				if quarantined, err = f.quarantined(ctx); err != nil {
					return n, err
				}
			}
			evs, err := st.TerminalEvents(ctx, t.ID, cur, derivePage)
			if err != nil {
				return n, fmt.Errorf("forward: %w", err)
			}
			if len(evs) == 0 {
				break
			}
			kept := evs[:0:0]
			for _, e := range evs {
				if !quarantined[[2]any{t.ID, e.Seq}] {
					kept = append(kept, e)
				}
			}
			b := Derive(f.cfg.Platform.Agency(), t, kept, f.cfg.Now())
			b.ThroughSeq = evs[len(evs)-1].Seq
			if err := st.EnqueueForwards(ctx, b); err != nil {
				return n, fmt.Errorf("forward: %w", err)
			}
			n += len(b.Bills) + len(b.Voids)
			cur = b.ThroughSeq
		}
	}
	return n, nil
}

// quarantined are the events the hub applied nowhere: they owe nothing.
func (f *Forwarder) quarantined(ctx context.Context) (map[[2]any]bool, error) {
	cs, err := f.cfg.Store.Conflicts(ctx)
	if err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	out := map[[2]any]bool{}
	for _, c := range cs {
		if c.Kind == hub.FlagQuarantine {
			out[[2]any{c.TerminalID, c.Seq}] = true
		}
	}
	return out, nil
}

// LastError is the last failure to reach the platform ("" if none).
func (f *Forwarder) LastError() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}
