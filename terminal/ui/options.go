package ui

import (
	"context"
	"sync"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
)

// Store is what the kiosk needs from the terminal's store: exactly the
// methods it calls. *sqlite.DB satisfies it.
type Store interface {
	Authenticate(ctx context.Context, name, pin string) (*terminal.Operator, error)
	Operators(ctx context.Context) ([]*terminal.Operator, error)
	CurrentShift(ctx context.Context, op *terminal.Operator) (*terminal.Shift, error)
	OpenShift(ctx context.Context, op *terminal.Operator, float terminal.Totals) (*terminal.Shift, error)
	CloseShift(ctx context.Context, op *terminal.Operator, counted terminal.Totals) (*terminal.ZReport, error)
	// CloseShiftNaming closes a shift with deferred passes still owed,
	// which a supervisor names; Unsettled lists the passes still owed.
	CloseShiftNaming(ctx context.Context, op *terminal.Operator, counted terminal.Totals, naming terminal.OpenPassNaming) (*terminal.ZReport, error)
	Unsettled(ctx context.Context) ([]terminal.UnsettledPass, error)
	Catalogue(ctx context.Context) (*terminal.Catalogue, error)
	Identity(ctx context.Context) (terminal.Identity, error)
	Settings(ctx context.Context) (map[string]string, error)
	SetSetting(ctx context.Context, actor, key, value string) (string, error)
	// SellSigned records a sale with the pass this terminal signs for it
	// (a counter sale gets a receipt).
	SellSigned(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest) (*terminal.SaleResult, error)
	QuoteSettlement(ctx context.Context, text string) (*terminal.SettleQuote, error)
	Settle(ctx context.Context, op *terminal.Operator, text string, tenders []terminal.TenderRequest) (*terminal.SettleResult, error)
	UsePass(ctx context.Context, op *terminal.Operator, text string) (*terminal.PassCheck, error)
	Sales(ctx context.Context, since time.Time) ([]*terminal.Sale, error)
	Void(ctx context.Context, sup *terminal.Operator, saleID, reason string) (*terminal.Sale, error)
	Refund(ctx context.Context, sup *terminal.Operator, saleID, reason string) (*terminal.Sale, error)
	// Reprint queues a copy of a sale's pass or receipt, marked COPY, and
	// returns its print job.
	Reprint(ctx context.Context, sup *terminal.Operator, saleID string) (string, error)
	// Unlock lifts an operator's PIN lockout (a supervisor's act, with
	// its event).
	Unlock(ctx context.Context, sup *terminal.Operator, name string) (*terminal.Operator, error)
	// QueuePrint queues a document that is not a sale: the Z-report of a
	// closed shift ("zreport", shift id).
	QueuePrint(ctx context.Context, kind, ref string) (string, error)
	// PrintJob reads a print job back: the spool sets its PrintedAt once
	// the printer has it.
	PrintJob(ctx context.Context, id string) (terminal.PrintJob, error)
}

// PrinterStatus is where the status bar reads the printer from: the print
// spool's last known state, and changes as they happen. PrinterFeed is one,
// fed by the spool's OnState callback.
type PrinterStatus interface {
	State() printer.State
	// Subscribe calls fn, from any goroutine, on every change until cancel
	// is called.
	Subscribe(fn func(printer.State)) (cancel func())
}

// SyncState is what the status bar shows of the sync with the hub. The sync
// client's Status(ctx) gives it.
type SyncState struct {
	Online bool
	Queued int // events not yet acknowledged by the hub
	// OldestUnsynced is the time of the oldest event waiting; zero when
	// none waits.
	OldestUnsynced time.Time
	LastSuccess    time.Time
	LastError      string
	// CatalogueRefused is the version of a catalogue from the hub this
	// terminal could not use ("" when none): it sells on its own.
	CatalogueRefused string
}

// Options configure the kiosk. Only Store is required.
type Options struct {
	Store Store
	// Printer is the printer's state for the status bar; nil shows the
	// printer setting only.
	Printer PrinterStatus
	// Sync reports the sync state; nil shows "offline, sync not running".
	// StoreSync(db, now) reads it from the store.
	Sync func(ctx context.Context) SyncState
	// SyncNow, if set, runs one exchange with the hub at once (the sync
	// client's Once): the supervisor's "Sync now". Nil: no such button.
	SyncNow func(ctx context.Context) error
	// Notify is called after every committed sale or settlement that
	// queued a print job, so the spool prints at once.
	Notify func()
	// Card, if set, charges an integrated PDQ (a terminal/carddesk.Desk):
	// the card tender then needs no approval code, the kiosk asks for the
	// card and waits, with a Cancel. Nil: the approval code is keyed from a
	// standalone PDQ's slip.
	Card CardDesk
	// Reconfigure, if set, applies a device setting the supervisor has
	// just saved (the store holds it already) and reports whether it took
	// effect now; false: when Lango starts again, as the kiosk then says.
	Reconfigure func(key, value string) bool
	// PreviewDir is where the printer emulator writes each job as PNG; the
	// newest one after a sale is shown as the printed pass.
	PreviewDir string
	// Lang is "en" or "sw"; empty takes the terminal's language setting.
	Lang string
	// Now is the clock for what the screen shows (default time.Now).
	Now func() time.Time
	// FullScreen makes the window cover the screen (kiosk).
	FullScreen bool
	// Scans, if set, carries what a serial barcode scanner read (the
	// scanner package): each is checked at the exit lane as if typed there.
	Scans <-chan string
	// StatusEvery is how often the status bar polls Sync and the preview
	// folder (default 2 s).
	StatusEvery time.Duration
}

// PrinterFeed is a PrinterStatus fed by the spool:
//
//	feed := ui.NewPrinterFeed()
//	spool := printer.NewSpool(db, dev, printer.SpoolOptions{OnState: feed.Set})
//	ui.Run(ctx, ui.Options{Printer: feed, Notify: spool.Notify, ...})
type PrinterFeed struct {
	mu    sync.Mutex
	state printer.State
	subs  map[int]func(printer.State)
	next  int
}

// NewPrinterFeed returns a feed whose state is "unreachable" until Set.
func NewPrinterFeed() *PrinterFeed {
	return &PrinterFeed{subs: map[int]func(printer.State){}}
}

// Set records a new state and tells the subscribers.
func (f *PrinterFeed) Set(s printer.State) {
	f.mu.Lock()
	f.state = s
	subs := make([]func(printer.State), 0, len(f.subs))
	for _, fn := range f.subs {
		subs = append(subs, fn)
	}
	f.mu.Unlock()
	for _, fn := range subs {
		fn(s)
	}
}

// State is the last state Set.
func (f *PrinterFeed) State() printer.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Subscribe calls fn on every Set until cancel.
func (f *PrinterFeed) Subscribe(fn func(printer.State)) (cancel func()) {
	f.mu.Lock()
	id := f.next
	f.next++
	f.subs[id] = fn
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.subs, id)
		f.mu.Unlock()
	}
}

// StoreSync reads the status bar's sync state from the store's record of
// its sync with the hub, online as `lango sync status` says it
// (SyncState.OnlineAt): Options{Sync: ui.StoreSync(db, time.Now)}.
func StoreSync(db interface {
	SyncState(ctx context.Context) (terminal.SyncState, error)
}, now func() time.Time) func(context.Context) SyncState {
	return func(ctx context.Context) SyncState {
		s, err := db.SyncState(ctx)
		if err != nil {
			return SyncState{LastError: terminal.ErrorMessage(err)}
		}
		st := SyncState{Online: s.OnlineAt(now()), Queued: int(s.Queued()), OldestUnsynced: s.OldestUnsynced,
			LastSuccess: s.LastSuccess, LastError: s.LastError}
		if r := s.CatalogueRefused; r != nil {
			st.CatalogueRefused = r.Version
		}
		return st
	}
}

// CardDesk is the card desk (terminal/carddesk.Desk) the command line uses
// too: it charges the integrated PDQ, records the sale or settlement the
// charge pays, and clears the pending charge, exactly once across crashes.
// announce is told the amount before the customer is asked for the card.
type CardDesk interface {
	Sell(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest, announce func(terminal.Money)) (*terminal.SaleResult, error)
	Settle(ctx context.Context, op *terminal.Operator, passText string, ts []terminal.TenderRequest, announce func(terminal.Money)) (*terminal.SettleResult, error)
}
