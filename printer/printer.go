// Package printer prints Lango's gate passes, receipts and reports on ESC/POS
// thermal printers.
//
//   - Layout turns a document (PassSlip, Receipt, Settlement, ZReport,
//     TestPage) into an ESC/POS job for a printer Profile: 58 or 80 mm,
//     native QR or raster, English or Swahili.
//   - Open opens a printer SPEC (emulator:DIR, serial:PATH?baud=N&profile=NAME
//     or none) as a Printer, which prints a job and returns only once the
//     printer has confirmed it.
//   - Spool prints queued jobs from a durable JobStore in order, retrying
//     with backoff while the printer is out of paper, offline or missing.
//   - NewEmulator and ServePTY run the virtual printer of package emulator
//     on a pseudo-terminal, for `lango printer emulate`.
package printer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// Status is what the printer reports: reachable, offline, cover open,
// paper near end, paper out. Status.Code gives a stable word for the UI.
type Status = escpos.Status

// Printer prints jobs. Print returns nil only when the printer confirmed
// the job; any other outcome is an error of kind EDEVICE (EINVALID for a
// job that is not whole ESC/POS).
type Printer interface {
	Status(ctx context.Context) (Status, error)
	Print(ctx context.Context, job []byte) error
}

// Device is an opened printer setting.
type Device interface {
	Printer
	// Profile is the model the jobs must be laid out for.
	Profile() Profile
	Close() error
}

// Options tune Open; the zero value is fine.
type Options struct {
	Logger *slog.Logger
	// StatusTimeout bounds the wait for each status reply (default 1 s).
	StatusTimeout time.Duration
	// DoneTimeout bounds the wait for the printer to confirm a job once it
	// is sent (default 10 s: long receipts take a few seconds to print).
	DoneTimeout time.Duration
	// StallTimeout bounds how long a printer may hold the host with XOFF
	// (default 30 s).
	StallTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StatusTimeout <= 0 {
		o.StatusTimeout = time.Second
	}
	if o.DoneTimeout <= 0 {
		o.DoneTimeout = 10 * time.Second
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 30 * time.Second
	}
	return o
}

// Open opens a printer SPEC. It does not touch the device: a printer that
// is off or unplugged makes Status and Print fail, not Open, so a terminal
// starts without its printer and prints once it is back.
func Open(spec string, opts Options) (Device, error) {
	s, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return s.Open(opts)
}

// Open opens the printer s names.
func (s Spec) Open(opts Options) (Device, error) {
	opts = opts.withDefaults()
	switch s.Kind {
	case KindSerial:
		return NewSerial(s, opts), nil
	case KindEmulator:
		return NewEmulatorPrinter(s.Path, s.Profile, opts.Logger)
	case KindNone:
		return None{profile: s.Profile}, nil
	}
	return nil, terminal.Errorf(terminal.EINVALID, "unknown printer kind %q", s.Kind)
}

// deviceError is an EDEVICE error with a message for the attendant and
// the cause for the log.
func deviceError(cause error, format string, args ...any) *terminal.Error {
	return &terminal.Error{Kind: terminal.EDEVICE, Message: fmt.Sprintf(format, args...), Err: cause}
}

// notReady explains a status that stops printing.
func notReady(where string, st Status) *terminal.Error {
	var what string
	switch st.Code() {
	case "paper_out":
		what = "is out of paper"
	case "cover_open":
		what = "has its cover open"
	case "error":
		what = "reports a fault (cutter jammed or head too hot): switch it off and on"
	case "offline":
		what = "is offline"
	case "unreachable":
		what = "does not answer"
	default:
		what = "is not ready (" + st.String() + ")"
	}
	if where != "" {
		where = " " + where
	}
	return terminal.Errorf(terminal.EDEVICE, "the printer%s %s", where, what)
}

// None is the printer of the setting `none`: there is no printer, and
// every job waits in the spool.
type None struct{ profile Profile }

func noPrinter() error {
	return terminal.Errorf(terminal.EDEVICE, "no printer is configured (printer setting is none); jobs stay queued")
}

// Status reports an unreachable printer.
func (None) Status(context.Context) (Status, error) { return Status{}, noPrinter() }

// Print refuses every job.
func (None) Print(context.Context, []byte) error { return noPrinter() }

// Profile is the default profile, so jobs can still be laid out and kept.
func (n None) Profile() Profile { return n.profile }

// Close does nothing.
func (None) Close() error { return nil }
