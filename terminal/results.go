package terminal

import (
	"context"
	"fmt"
	"time"
)

// The results of the store's operations, and what it knows of its sync
// with the hub: nouns of the domain, so that the kiosk, the sync client and
// the command line name them without knowing how they are stored.

// Identity is who this terminal is.
type Identity struct {
	TerminalID string `json:"terminal_id"`
	Name       string `json:"name"`
	Site       string `json:"site"`
}

// InitRequest creates a terminal's store.
type InitRequest struct {
	Site      string
	Name      string
	Catalogue []byte
	AdminPIN  string
	Settings  map[string]string // overrides of the defaults, e.g. printer
}

// PassIssuer signs the gate pass of a sale. It runs inside the sale's
// transaction, so a sale and its pass are durable together or not at all.
type PassIssuer interface {
	IssuePass(ctx context.Context, s *Sale, cat *Catalogue) (string, error)
}

// SaleResult is a committed sale and the print job queued with it, if any.
type SaleResult struct {
	Sale     *Sale
	PrintJob string
}

// PassCheck is the outcome of verifying a pass at this terminal.
type PassCheck struct {
	Pass    Pass
	State   string // paid, deferred, settled
	Marks   []PassMark
	Refusal *PassRefusal // nil when the pass is honoured
}

// PassMark is something this terminal knows happened to a pass.
type PassMark struct {
	Mark     string    `json:"mark"`
	Terminal string    `json:"terminal"`
	At       time.Time `json:"at"`
	Ref      string    `json:"ref,omitempty"`
}

// SettleQuote is what a pass owes at exit.
type SettleQuote struct {
	Check    *PassCheck
	Due      Totals
	Overstay []Line
	Totals   Totals
}

// SettleResult is a committed settlement and its receipt's print job.
type SettleResult struct {
	Settlement *Settlement
	Quote      *SettleQuote
	PrintJob   string
}

// SyncState is what the store knows of its sync with the hub.
type SyncState struct {
	HubID    string // the hub that acknowledged AckedSeq
	AckedSeq int64  // every event up to here is held by the hub
	LastSeq  int64  // the newest event in the outbox
	// OldestUnsynced is the time of the first event the hub has not
	// acknowledged; zero when none.
	OldestUnsynced time.Time
	LastSuccess    time.Time // last complete exchange
	LastContact    time.Time // last answer of any kind from the hub
	LastError      string
	Online         bool          // the last attempt reached the hub
	ClockOffset    time.Duration // hub clock minus this terminal's clock
	CatalogueSeq   int64         // the hub catalogue publication applied (or refused)
	Rewinds        int64         // times the hub was found behind AckedSeq
	// CatalogueRefused is the last publication from the hub this terminal
	// could not use (nil once a later one is applied): it sells on the
	// catalogue it has.
	CatalogueRefused *CatalogueRefusal
}

// CatalogueRefusal is a hub catalogue publication the terminal refused.
type CatalogueRefusal struct {
	Seq     int64     `json:"seq"`
	Version string    `json:"version"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// StaleAfter is how long after its last answer from the hub a terminal
// still counts as online.
const StaleAfter = 5 * time.Minute

// OnlineAt is the one meaning of "online", for the kiosk's status bar and
// `lango sync status` alike: the last attempt reached the hub, and that
// was no longer ago than StaleAfter at now.
func (s SyncState) OnlineAt(now time.Time) bool {
	return s.Online && !s.LastContact.IsZero() && now.Sub(s.LastContact) <= StaleAfter
}

// Queued is the number of events the hub has not acknowledged.
func (s SyncState) Queued() int64 { return max(0, s.LastSeq-s.AckedSeq) }

// SyncAttempt is the outcome of one sync attempt.
type SyncAttempt struct {
	At      time.Time
	Reached bool   // the hub answered (even with a refusal)
	Err     string // "" when the exchange completed
}

// FeedEvent is an event of another terminal of the site, relayed by the
// hub, with that terminal's name.
type FeedEvent struct {
	Event
	Name string
}

// FeedPeer is another terminal of the site and the feed cursor after a page
// of the feed.
type FeedPeer struct {
	TerminalID string
	Name       string
	Seq        int64
	// Certificate is the peer's certificate (PEM) as the feed carried it;
	// empty when the hub sent none.
	Certificate string
}

// Revocation is a terminal of the site revoked at the hub: its keys' passes
// are refused from now on, except the honoured ones (sales the hub had
// received from it before the revocation).
type Revocation struct {
	N          int64
	TerminalID string
	Name       string
	KeyIDs     []KeyID
	RevokedAt  time.Time
	Honoured   []string
}

// PrintJob is a queued print job as stored: what to print, not its bytes.
// The bytes are laid out when it prints, for the printer configured then.
type PrintJob struct {
	ID        string
	Kind      string // pass, receipt, settlement, zreport
	SaleID    string
	Ref       string // settlement or shift id
	Copy      bool
	Attempts  int
	CreatedAt time.Time
	PrintedAt *time.Time
	LastError string
	// ResumeAt is where an interrupted attempt stopped, in the bytes whose
	// digest is ResumeSum (0 and "": print from the start).
	ResumeAt  int
	ResumeSum string
}

// AuditError says which stored record broke the audit.
type AuditError struct {
	Seq    int64  // the event, when the chain breaks
	Table  string // the table whose row disagrees with the events
	Row    string // that row's id
	Reason string
}

func (e *AuditError) Error() string {
	if e.Table != "" {
		return fmt.Sprintf("audit: %s row %s: %s", e.Table, e.Row, e.Reason)
	}
	return fmt.Sprintf("audit: event %d: %s", e.Seq, e.Reason)
}

// SaleQuery selects sales for a listing: made at or after Since (zero: from
// the first), before Until (zero: to the last), at most Limit of them (0:
// all).
type SaleQuery struct {
	Since, Until time.Time
	Limit        int
}
