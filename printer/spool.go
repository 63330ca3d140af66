package printer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lango-pos/lango/internal/backoff"
	"github.com/lango-pos/lango/terminal"
)

// Job is one queued print job: ESC/POS bytes laid out when the sale was
// committed.
type Job struct {
	ID       string
	Data     []byte
	Attempts int // failed attempts so far, for the log and the UI
	// From is where an interrupted attempt stopped (0: the start): the
	// paper already holds Data[:From], whole lines and images only, and
	// the spool prints the rest. A store sets it only for the very bytes
	// it was recorded against.
	From int
}

// Resumer is a printer that can go on with a job interrupted part way
// (*Serial is one): PrintFrom prints job[from:] in the state the printer
// was in at from, and stops on its own only at an escpos.StopPoint,
// returning an *Interrupted.
type Resumer interface {
	PrintFrom(ctx context.Context, job []byte, from int) error
}

// ResumeStore is a JobStore that keeps where an interrupted job stopped,
// so the next attempt (even after a restart) goes on from there instead
// of printing again what is on the paper.
type ResumeStore interface {
	// MarkInterrupted records that job stopped at offset at of job.Data.
	MarkInterrupted(ctx context.Context, job Job, at int) error
}

// ProgressPrinter is a Resumer that tells, as a job goes out, each offset
// up to which the paper will hold it whole (*Serial is one:
// PrintProgress).
type ProgressPrinter interface {
	PrintProgress(ctx context.Context, job []byte, from int, progress func(at int)) error
}

// ProgressStore is a ResumeStore that records a job's progress as it
// prints, durably and without counting an attempt, so that a process
// killed part way (kill -9, power) goes on at its next start from where
// the paper stopped, not from the beginning: the restarted spool offers
// the job From that point.
type ProgressStore interface {
	// MarkProgress records that the paper holds job.Data[:at] whole; at
	// may go back (to the attempt's start, when an attempt failed where
	// the paper's end is unknown).
	MarkProgress(ctx context.Context, job Job, at int) error
}

// JobStore is the durable print queue the spool works from; the terminal's
// store implements it.
type JobStore interface {
	// NextJob returns the oldest job neither printed nor given up.
	NextJob(ctx context.Context) (Job, bool, error)
	// MarkPrinted records that the printer confirmed job id.
	MarkPrinted(ctx context.Context, id string, at time.Time) error
	// MarkFailed records a failed attempt and its reason. The job stays
	// first in line, unless final: a job that can never print (its bytes
	// are damaged) leaves the queue.
	MarkFailed(ctx context.Context, id string, reason string, final bool) error
}

// State is the spool's view of the printer, for the UI.
type State struct {
	Status Status    `json:"status"`
	Err    error     `json:"-"` // the last failure; nil once a job printed
	At     time.Time `json:"at"`
}

// Code is a stable word for the UI: the status code, or "unreachable".
func (s State) Code() string { return s.Status.Code() }

// Message is a line for the attendant: "ready", or why jobs are waiting.
func (s State) Message() string {
	if s.Err != nil {
		return terminal.ErrorMessage(s.Err)
	}
	return s.Status.String()
}

// SpoolOptions tune a Spool; the zero value is fine.
type SpoolOptions struct {
	Logger *slog.Logger
	// Now and After are the clock (time.Now and time.After by default).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Jitter returns a number in [0, 1) (math/rand/v2 by default).
	Jitter func() float64
	// MinBackoff and MaxBackoff bound the wait between failed attempts,
	// doubling from the first to the second (1 s and 1 min by default).
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often an idle spool asks the printer for its status, so
	// the UI shows "paper out" before the next sale (30 s by default).
	Poll time.Duration
	// OnState is called, from the worker, whenever the state changes.
	OnState func(State)
}

// Spool prints the jobs of a JobStore in order. A job is marked printed
// only after the printer confirmed it; while the printer is out of paper,
// offline or missing, the spool retries with capped exponential backoff and
// jitter, and a new job or Notify makes it try again at once.
type Spool struct {
	store JobStore
	p     Printer
	opts  SpoolOptions
	log   *slog.Logger

	printMu  sync.Mutex // one printing pass at a time
	unmarked string     // printed, but MarkPrinted failed: never print again

	mu    sync.Mutex
	state State

	wake   chan struct{}
	stop   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// NewSpool returns a spool printing store's jobs on p.
func NewSpool(store JobStore, p Printer, opts SpoolOptions) *Spool {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(time.Minute, opts.MinBackoff)
	}
	if opts.Poll <= 0 {
		opts.Poll = 30 * time.Second
	}
	return &Spool{
		store: store, p: p, opts: opts, log: opts.Logger.With("component", "spool"),
		wake: make(chan struct{}, 1), stop: make(chan struct{}),
	}
}

// Start runs the worker until Close or until ctx is done.
func (s *Spool) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Add(1)
	go s.run(ctx)
}

// Close stops the worker, interrupting a job being sent, and waits for it.
func (s *Spool) Close() error {
	s.once.Do(func() {
		close(s.stop)
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.wg.Wait()
	return nil
}

// Notify tells the worker a job was queued, or that the attendant asks
// for a retry: it tries at once instead of waiting out its backoff.
func (s *Spool) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// State is the last known printer state.
func (s *Spool) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *Spool) setState(st Status, err error) {
	s.mu.Lock()
	prev := s.state
	s.state = State{Status: st, Err: err, At: s.opts.Now()}
	cur := s.state
	s.mu.Unlock()
	changed := prev.Status != cur.Status || (prev.Err == nil) != (cur.Err == nil) ||
		(prev.Err != nil && cur.Err != nil && prev.Err.Error() != cur.Err.Error())
	if changed && s.opts.OnState != nil {
		s.opts.OnState(cur)
	}
}

// PrintPending prints the waiting jobs in order and returns how many
// printed. It stops at the first job the printer does not take, leaving it
// queued, and returns that error (EDEVICE): `lango print --pending`.
func (s *Spool) PrintPending(ctx context.Context) (int, error) {
	s.printMu.Lock()
	defer s.printMu.Unlock()
	return s.printAll(ctx)
}

func (s *Spool) printAll(ctx context.Context) (int, error) {
	n := 0
	if s.unmarked != "" {
		if err := s.store.MarkPrinted(ctx, s.unmarked, s.opts.Now()); err != nil {
			return n, fmt.Errorf("spool: mark job %s printed: %w", s.unmarked, err)
		}
		s.unmarked = ""
	}
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		job, ok, err := s.store.NextJob(ctx)
		if err != nil {
			return n, fmt.Errorf("spool: next job: %w", err)
		}
		if !ok {
			return n, nil
		}
		perr := s.print(ctx, job)
		var ie *Interrupted
		if errors.As(perr, &ie) && ie.At > job.From {
			if rs, ok := s.store.(ResumeStore); ok {
				// The store's own context: the job's may be what ended.
				mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				err := rs.MarkInterrupted(mctx, job, ie.At)
				cancel()
				if err != nil {
					return n, fmt.Errorf("spool: mark job %s interrupted at %d: %w", job.ID, ie.At, errors.Join(err, perr))
				}
				s.log.Info("job interrupted between whole lines; it will go on from there", "job", job.ID, "at", ie.At, "of", len(job.Data))
			}
		}
		if perr == nil {
			if err := s.store.MarkPrinted(ctx, job.ID, s.opts.Now()); err != nil {
				// Printed on paper: it must never print again, even if the
				// store keeps offering it until the mark succeeds.
				s.unmarked = job.ID
				return n, fmt.Errorf("spool: mark job %s printed: %w", job.ID, err)
			}
			n++
			s.log.Info("job printed", "job", job.ID, "attempts", job.Attempts+1)
			s.setState(Status{Reachable: true}, nil)
			continue
		}
		if perr != nil && !errors.As(perr, &ie) {
			// Not stopped at a stop point (a write error, a stall, paper
			// out, no answer): what the printer held and did not print is
			// dropped at the next session start, so the progress recorded
			// while sending is not what the paper shows. Back to where
			// this attempt started.
			s.resetProgress(ctx, job)
		}
		if ctx.Err() != nil {
			return n, perr // stopping: not the printer's fault
		}
		final := terminal.ErrorKind(perr) == terminal.EINVALID
		if err := s.store.MarkFailed(ctx, job.ID, terminal.ErrorMessage(perr), final); err != nil {
			return n, fmt.Errorf("spool: mark job %s failed: %w", job.ID, errors.Join(err, perr))
		}
		if final {
			s.log.Error("job cannot print; dropped from the queue", "job", job.ID, "err", perr)
			continue
		}
		s.log.Warn("job not printed; will retry", "job", job.ID, "attempts", job.Attempts+1, "err", perr)
		st, _ := s.p.Status(ctx)
		s.setState(st, perr)
		return n, perr
	}
}

// print prints job, from where it stopped when the printer can go on,
// recording its progress as it goes when printer and store can.
func (s *Spool) print(ctx context.Context, job Job) error {
	pp, okp := s.p.(ProgressPrinter)
	ps, oks := s.store.(ProgressStore)
	if okp && oks {
		rec := s.recordProgress(ctx, ps, job)
		err := pp.PrintProgress(ctx, job.Data, job.From, rec.tell)
		rec.close()
		return err
	}
	if r, ok := s.p.(Resumer); ok {
		return r.PrintFrom(ctx, job.Data, job.From)
	}
	return s.p.Print(ctx, job.Data)
}

// progressRecorder commits a job's progress on a goroutine of its own, so
// that sending never waits for the disk (an fsync on a terminal's SD card
// can take longer than a line takes on the wire): the sender tells it the
// latest point, and a point not yet committed when a newer one comes is
// dropped for it.
type progressRecorder struct {
	ch   chan int // the latest point not yet taken
	done chan struct{}
}

func (s *Spool) recordProgress(ctx context.Context, ps ProgressStore, job Job) *progressRecorder {
	r := &progressRecorder{ch: make(chan int, 1), done: make(chan struct{})}
	// The store's own context: the job's may end while its last record is
	// written.
	mctx := context.WithoutCancel(ctx)
	go func() {
		defer close(r.done)
		for at := range r.ch {
			rctx, cancel := context.WithTimeout(mctx, 5*time.Second)
			err := ps.MarkProgress(rctx, job, at)
			cancel()
			if err != nil {
				// A record that fails only makes a restart after a crash
				// start further back; the job's outcome is the printer's.
				s.log.Warn("cannot record the print job's progress; a restart would print it again from further back", "job", job.ID, "at", at, "err", err)
			}
		}
	}()
	return r
}

// tell hands at to the recorder, replacing a point it has not taken yet.
func (r *progressRecorder) tell(at int) {
	for {
		select {
		case r.ch <- at:
			return
		default:
		}
		select {
		case <-r.ch: // superseded
		default:
		}
	}
}

// close waits until the last point told is committed.
func (r *progressRecorder) close() {
	close(r.ch)
	<-r.done
}

// resetProgress sets a job's recorded progress back to where its attempt
// started.
func (s *Spool) resetProgress(ctx context.Context, job Job) {
	_, okp := s.p.(ProgressPrinter)
	ps, oks := s.store.(ProgressStore)
	if !okp || !oks {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := ps.MarkProgress(rctx, job, job.From); err != nil {
		s.log.Warn("cannot set the print job's progress back", "job", job.ID, "at", job.From, "err", err)
	}
}

func (s *Spool) run(ctx context.Context) {
	defer s.wg.Done()
	b := backoff.Backoff{Min: s.opts.MinBackoff, Max: s.opts.MaxBackoff, Rand: s.opts.Jitter}
	for {
		s.printMu.Lock()
		_, err := s.printAll(ctx)
		s.printMu.Unlock()
		wait := s.opts.Poll
		if err != nil && ctx.Err() == nil {
			wait = b.Next()
			s.log.Debug("spool backing off", "wait", wait, "failures", b.Failures())
		} else {
			b.Reset()
		}
		select {
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-s.opts.After(wait):
			if b.Failures() == 0 {
				s.poll(ctx)
			}
		}
	}
}

// poll refreshes the state of an idle printer.
func (s *Spool) poll(ctx context.Context) {
	st, err := s.p.Status(ctx)
	if err == nil && !st.Ready() {
		err = notReady("", st)
	}
	if ctx.Err() != nil {
		return
	}
	s.setState(st, err)
}
