package printing

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lango-pos/lango/printer"
)

// Station is the terminal's printer as the kiosk runs it: the device the
// printer setting names, and the spool that prints the store's jobs on it.
// Reconfigure moves the spool to another printer without a restart (a
// spare printer plugged in at 6 am); jobs wait in the store meanwhile, and
// one cut off in the middle prints again, whole, on the new printer.
type Station struct {
	db   Jobs
	ctx  context.Context
	opts StationOptions

	swap  sync.Mutex // one Reconfigure at a time
	mu    sync.Mutex // guards the fields below
	spec  string
	dev   printer.Device
	spool *printer.Spool
}

// StationOptions tune a Station; the zero value is fine.
type StationOptions struct {
	Logger *slog.Logger
	// OnState receives every printer state the spool learns, and the one
	// each printer answers when it is opened.
	OnState func(printer.State)
	// Spool is the base of each spool's options (tests shorten backoffs);
	// its Logger and OnState are the station's.
	Spool printer.SpoolOptions
}

// OpenStation opens the printer of db's printer setting and starts its
// spool, until Close or until ctx is done.
func OpenStation(ctx context.Context, db Jobs, opts StationOptions) (*Station, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	spec, err := db.Setting(ctx, "printer")
	if err != nil {
		return nil, err
	}
	s := &Station{db: db, ctx: ctx, opts: opts}
	if err := s.Reconfigure(spec); err != nil {
		return nil, err
	}
	return s, nil
}

// Reconfigure opens the printer spec names and moves the spool to it; the
// old spool is stopped and its printer closed. A spec that does not open
// leaves the old printer printing and says why.
func (s *Station) Reconfigure(spec string) error {
	s.swap.Lock()
	defer s.swap.Unlock()
	dev, err := printer.Open(spec, printer.Options{Logger: s.opts.Logger})
	if err != nil {
		return err
	}
	// Ask the printer once before the spool owns it, so that the status
	// bar tells the truth from the start, not after the first job.
	sctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
	st, serr := dev.Status(sctx)
	cancel()
	if s.opts.OnState != nil {
		s.opts.OnState(printer.State{Status: st, Err: serr, At: time.Now()})
	}
	so := s.opts.Spool
	so.Logger, so.OnState = s.opts.Logger, s.opts.OnState
	spool := printer.NewSpool(&Queue{DB: s.db, Profile: dev.Profile()}, dev, so)

	s.mu.Lock()
	old, oldDev := s.spool, s.dev
	s.spec, s.dev, s.spool = spec, dev, spool
	s.mu.Unlock()
	if old != nil {
		old.Close()
		oldDev.Close()
		s.opts.Logger.Info("printer changed", "printer", spec)
	}
	spool.Start(s.ctx)
	return nil
}

// Spec is the printer setting the station prints with.
func (s *Station) Spec() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spec
}

// Notify tells the spool a job was queued.
func (s *Station) Notify() {
	s.mu.Lock()
	sp := s.spool
	s.mu.Unlock()
	sp.Notify()
}

// Close stops the spool and closes the printer.
func (s *Station) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spool.Close()
	return s.dev.Close()
}
