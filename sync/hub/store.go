package hub

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// Store is where the hub keeps its records. The embedded SQLite store
// (package sync/hub/sqlite) is the default; another database implements the same
// interface. Every method is atomic; Apply in particular applies a batch
// and advances the terminal's last seq in one transaction.
type Store interface {
	// HubID is this hub database's random id, made when it was created.
	HubID(ctx context.Context) (string, error)

	// AuthorityKeys returns the site's authority keys, newest first.
	AuthorityKeys(ctx context.Context, site string) ([]AuthorityKey, error)
	// AddAuthorityKey stores a new authority key for a site.
	AddAuthorityKey(ctx context.Context, k AuthorityKey) error

	// AddEnrollment stores a one-time enrollment token (by its hash).
	AddEnrollment(ctx context.Context, e Enrollment) error
	// RedeemEnrollment spends the token whose hash is tokenHash to enroll
	// t: the token must exist, be unexpired at now and name t's site and
	// name, and t.ID must be new to the hub (ErrTerminalEnrolled), or, for
	// a rekey token, be the terminal it was issued for (ErrTokenTerminal).
	// Redeeming it again for the same terminal id and key returns the
	// stored terminal (an enrollment whose answer was lost can be retried).
	RedeemEnrollment(ctx context.Context, tokenHash string, t Terminal, now time.Time) (Terminal, error)
	// Terminal returns an enrolled terminal by id (ErrNotFound).
	Terminal(ctx context.Context, id string) (Terminal, error)
	// Terminals returns every enrolled terminal, by site and name.
	Terminals(ctx context.Context) ([]Terminal, error)
	// SiteTerminals returns the terminals enrolled at site, as Terminals
	// orders them: what a site's feed answer and its relay need, without
	// reading every terminal of the country.
	SiteTerminals(ctx context.Context, site string) ([]Terminal, error)
	// RevokeTerminal revokes the enrolled terminal site/name and records a
	// revocation for the site feed: its key ids and the sales the hub holds
	// from it (the passes verifiers go on honouring).
	RevokeTerminal(ctx context.Context, site, name string, at time.Time) error
	// SetCertificateHolds records the key ids of the peer certificates
	// terminal id holds (its feed request's holds), replacing the last.
	SetCertificateHolds(ctx context.Context, id string, keyIDs []string) error
	// CertificateHolds returns, by terminal id, the key ids the terminals
	// of site hold, sorted.
	CertificateHolds(ctx context.Context, site string) (map[string][]string, error)
	// SiteHolds is what a feed answer needs of the holds of site: the key
	// ids terminal id holds (sorted, as CertificateHolds has them), and by
	// terminal id which of keys each other terminal of the site holds
	// (sorted; one holding none of them may be left out). At 143
	// terminals a site, CertificateHolds is some 20,000 key ids a feed
	// request.
	SiteHolds(ctx context.Context, site, id string, keys []string) (own []string, held map[string][]string, err error)
	// Revocations returns up to limit of the site's revocations numbered
	// above after, oldest first.
	Revocations(ctx context.Context, site string, after int64, limit int) ([]wire.Revocation, error)

	// Apply applies a batch of consecutive events of terminal id:
	// events the hub already holds are checked and skipped, a batch that
	// starts after last_seq+1 is refused with *GapError, one that disagrees
	// with held events with *ForkError; breaks in the hash chain are
	// recorded as conflicts and the events kept. Flagged events are kept
	// with a conflict of their flag's kind; quarantined ones are applied
	// nowhere (not in ScanEvents, not in Feed) but TerminalEvents returns
	// them as sent.
	Apply(ctx context.Context, id string, events []terminal.Event, at time.Time, flags ...EventFlag) (ApplyResult, error)
	// Feed returns up to limit events of the feed types (wire.FeedTypes)
	// from the other terminals of site (all but exclude) after each one's
	// cursor.
	Feed(ctx context.Context, site, exclude string, cursors map[string]int64, limit int) (FeedPage, error)
	// TerminalEvents returns up to limit events of terminal id after seq.
	TerminalEvents(ctx context.Context, id string, afterSeq int64, limit int) ([]terminal.Event, error)
	// ScanEvents calls fn for every event of the given types: each
	// terminal's in seq order, one terminal after another.
	ScanEvents(ctx context.Context, types []string, fn func(StoredEvent) error) error
	// ReportState returns the report's state that Apply keeps
	// (reportstate.go: every applied event's ReportDelta, in the events'
	// transaction), with every M-PESA fact if mpesa is set.
	ReportState(ctx context.Context, mpesa bool) (ReportState, error)
	// AddConflict records a conflict found outside Apply.
	AddConflict(ctx context.Context, c Conflict) error
	// Conflicts returns the recorded conflicts, oldest first.
	Conflicts(ctx context.Context) ([]Conflict, error)

	// PublishCatalogue stores a signed catalogue version for a site; its
	// seq must be above LatestCatalogue's.
	PublishCatalogue(ctx context.Context, c Catalogue) error
	// LatestCatalogue returns the newest catalogue published for the site
	// (ok false if none).
	LatestCatalogue(ctx context.Context, site string) (c Catalogue, ok bool, err error)

	// ForwardCursors returns, by terminal id, the seq through which the
	// terminal's events were turned into forwards (EnqueueForwards).
	ForwardCursors(ctx context.Context) (map[string]int64, error)
	// EnqueueForwards stores what a terminal's events through
	// b.ThroughSeq owe the platform and moves its cursor there (never
	// back), in one transaction. It is idempotent: a bill or void already
	// held (same Ref and Kind, same SaleKey) is kept as it is, so several
	// hub processes may derive the same events. Every bill of a voided
	// sale taken before the void (Forward.At ≤ ForwardVoid.At) gets a
	// pending reversal of it, whichever reached the hub first; a reversal
	// of a refused bill is refused with it.
	EnqueueForwards(ctx context.Context, b ForwardBatch) error
	// ClaimForwards leases to owner, until now+lease, up to limit pending
	// forwards due at now (NextAt ≤ now) that no other owner holds a
	// lease on at now, oldest first; a reversal only once its bill is
	// posted.
	ClaimForwards(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Forward, error)
	// FinishForward records what became of a claimed forward (by Ref and
	// Kind) and ends owner's lease: State, Attempts, NextAt, BillNumber,
	// Error, Message and DoneAt are stored as given. Nothing changes if
	// the forward is no longer pending, or if f stays pending and another
	// owner holds its lease. A refused bill refuses its pending reversal.
	FinishForward(ctx context.Context, owner string, f Forward, now time.Time) error
	// ForwardSummary counts the forwards by state and kind and lists the
	// refused ones.
	ForwardSummary(ctx context.Context) (ForwardSummary, error)
	// ForwardStates gives, by sale key (SITE/SALE-ID), the state of the
	// sale's bills and reversals taken together (ForwardStateOf): for the
	// finance export.
	ForwardStates(ctx context.Context) (map[string]string, error)

	// TicketList returns the state of site's ticket list for day
	// (YYYY-MM-DD); ok false if it was never fetched.
	TicketList(ctx context.Context, site, day string) (l TicketList, ok bool, err error)
	// PutTickets stores a page of site's tickets for day and the cursor
	// after it, in one transaction, and clears the list's refusal: a
	// ticket replaces the one of its number held, with a new change
	// number. A page that would take the list above max tickets stores
	// nothing (ErrTooManyTickets).
	PutTickets(ctx context.Context, site, day, cursor string, tickets []Ticket, max int, at time.Time) error
	// RefuseTicketList records why a list fetched was refused; the
	// tickets held stay as they are.
	RefuseTicketList(ctx context.Context, site, day, reason string, at time.Time) error
	// TicketLists returns every list's state, by site and day.
	TicketLists(ctx context.Context) ([]TicketList, error)
	// Tickets returns up to limit of site's tickets whose change number is
	// above after, in change order.
	Tickets(ctx context.Context, site string, after int64, limit int) ([]Ticket, error)

	// The M-PESA ledger: payments by receipt code (once each, by the
	// database's key), Transaction Status queries, pull cursors.
	mpesa.Ledger

	// Counts returns the row count of each table, for tests and checks.
	Counts(ctx context.Context) (map[string]int, error)
	// Backup writes a consistent copy of the store to path.
	Backup(ctx context.Context, path string) error
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// NonceStore is implemented by a store that several hub processes share:
// the nonces of accepted requests are kept in it for window, so a request
// replayed to any process is refused (false). The embedded store, one
// process's, leaves them in that process's memory.
type NonceStore interface {
	AddNonce(ctx context.Context, key string, now time.Time, window time.Duration) (fresh bool, err error)
}

// FirstAuthorityStore is implemented by a store that several hub processes
// share: two of them making a site's first authority key at once must not
// leave the site with two (a terminal enrolled under one would refuse the
// passes of terminals certified under the other). AddFirstAuthorityKey
// stores k only if the site has no key yet, and returns the site's newest
// key either way.
type FirstAuthorityStore interface {
	AddFirstAuthorityKey(ctx context.Context, k AuthorityKey) (AuthorityKey, error)
}

// Errors of the store.
var (
	ErrNotFound     = errors.New("not found")
	ErrTokenInvalid = errors.New("enrollment token unknown")
	ErrTokenUsed    = errors.New("enrollment token already used")
	ErrTokenExpired = errors.New("enrollment token expired")
	ErrTokenSite    = errors.New("enrollment token is for another site or name")
	// ErrTerminalEnrolled refuses an enrollment token redeemed under the
	// id of a terminal the hub already holds.
	ErrTerminalEnrolled = errors.New("this terminal id is already enrolled")
	// ErrTokenTerminal refuses a rekey token redeemed by another terminal
	// than the one it was issued for.
	ErrTokenTerminal = errors.New("the rekey token is for another terminal")
	ErrNameTaken     = errors.New("terminal name taken by another enrolled terminal")
	ErrRevoked       = errors.New("terminal revoked")
)

// GapError refuses a batch that does not follow the hub's last seq.
type GapError struct{ LastSeq int64 }

func (e *GapError) Error() string {
	return fmt.Sprintf("the batch does not follow the hub's last seq %d", e.LastSeq)
}

// ForkError refuses a batch whose events differ from those the hub holds
// at the same seqs: the terminal's history was rewritten (a store restored
// from a backup and sold on, or tampering).
type ForkError struct {
	Seq     int64
	LastSeq int64
	Reason  string
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("event %d differs from the one the hub holds: %s", e.Seq, e.Reason)
}

// AuthorityKey is a site authority key pair.
type AuthorityKey struct {
	KeyID     string
	Site      string
	Private   ed25519.PrivateKey
	CreatedAt time.Time
}

// Public returns the public half.
func (k AuthorityKey) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// Enrollment is a one-time token that lets a terminal named Name join Site.
type Enrollment struct {
	TokenHash string // hex SHA-256 of the token
	Site      string
	Name      string
	// TerminalID, if set, makes this a rekey token: it gives a new key to
	// that enrolled terminal (which keeps its name and events) and enrolls
	// nothing else. Otherwise the token enrolls only a terminal id the hub
	// has never seen.
	TerminalID string
	// Relay makes the token enroll a site relay (lango-hub relay add): a
	// hub at the site that forwards its terminals' signed uploads and
	// sends no events of its own. The terminal it enrolls has Relay set.
	Relay     bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Terminal is an enrolled terminal and how far the hub holds its events.
type Terminal struct {
	ID          string
	Site        string
	Name        string
	PublicKey   ed25519.PublicKey
	Certificate string // PEM
	EnrolledAt  time.Time
	RevokedAt   time.Time // zero unless revoked
	LastSeq     int64
	LastHash    string
	Events      int64
	LastSeen    time.Time
	// Relay: this is a site relay, not a terminal (set from its
	// enrollment token; a rekey keeps it).
	Relay bool
}

// Revoked reports whether the terminal was revoked.
func (t Terminal) Revoked() bool { return !t.RevokedAt.IsZero() }

// ApplyResult is what a batch did.
type ApplyResult struct {
	LastSeq    int64
	LastHash   string
	Applied    int
	Duplicates int
	Conflicts  []Conflict // chain breaks found in the batch
}

// StoredEvent is an event with the terminal it came from.
type StoredEvent struct {
	terminal.Event
	Site string
	Name string
}

// FeedPage is a page of the site feed.
type FeedPage struct {
	Events []StoredEvent
	// Cursors: for every other terminal of the site, the seq through which
	// the page takes the reader.
	Cursors []FeedCursor
	More    bool
}

// FeedCursor is a terminal's position in the feed.
type FeedCursor struct {
	TerminalID string
	Name       string
	Seq        int64
}

// Conflict is something finance must look at. Kinds: broken_chain and
// fork (recorded at upload), pass_settled_twice, mpesa_code_twice,
// operator_added_twice and ticket_redeemed_twice (found by the report;
// Code is then the ticket number).
type Conflict struct {
	Kind       string          `json:"kind"`
	Site       string          `json:"site,omitempty"`
	Terminal   string          `json:"terminal,omitempty"` // name
	TerminalID string          `json:"terminal_id,omitempty"`
	Seq        int64           `json:"seq,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	PassID     string          `json:"pass_id,omitempty"`
	Code       string          `json:"code,omitempty"`     // M-PESA receipt code
	Operator   string          `json:"operator,omitempty"` // operator name
	Uses       []ConflictUse   `json:"uses,omitempty"`
	Detail     json.RawMessage `json:"detail,omitempty"`
	At         time.Time       `json:"at"`
}

// ConflictUse is one of the records that clash.
type ConflictUse struct {
	Site         string    `json:"site"`
	Terminal     string    `json:"terminal"`
	SaleID       string    `json:"sale_id,omitempty"`
	SettlementID string    `json:"settlement_id,omitempty"`
	OperatorID   string    `json:"operator_id,omitempty"`
	Seq          int64     `json:"seq"`
	At           time.Time `json:"at"`
}

// Catalogue is a catalogue version published for a site.
type Catalogue struct {
	Site        string
	Seq         int64
	Version     string
	Body        []byte
	Signature   []byte
	KeyID       string
	PublishedAt time.Time
}
