package hub

import (
	"encoding/json"
	"time"
)

// Forward kinds: a bill for money taken, a reversal of a posted bill.
const (
	ForwardBill     = "bill"
	ForwardReversal = "reversal"
)

// Forward states.
const (
	ForwardPending = "pending"
	ForwardPosted  = "posted"
	ForwardRefused = "refused"
)

// Forward is a bill or a reversal the hub owes the national platform,
// kept in the store's queue until the platform has it (package
// sync/hub/forward derives them from applied events and posts them).
type Forward struct {
	Ref  string // the bill_ref: derived from what was sold, never from when it is sent
	Kind string // ForwardBill or ForwardReversal (of the bill Ref)
	// SaleKey is "SITE/SALE-ID": a reversal waits for the bills of its
	// sale to be posted.
	SaleKey  string
	Site     string
	Terminal string // the terminal's name
	Seq      int64  // the event it comes from
	Body     json.RawMessage
	State    string // ForwardPending, ForwardPosted, ForwardRefused
	Attempts int
	NextAt   time.Time // not posted before
	// BillNumber is the platform's number once posted; Error and Message
	// its last refusal or failure.
	BillNumber string
	Error      string
	Message    string
	CreatedAt  time.Time
	DoneAt     time.Time // posted or refused
}

// ForwardVoid says a sale was voided or refunded: every bill of the sale,
// posted or to come, gets a reversal with Body.
type ForwardVoid struct {
	SaleKey  string
	Site     string
	Terminal string
	Seq      int64
	Body     json.RawMessage
	At       time.Time
}

// ForwardBatch is what one terminal's events through ThroughSeq owe the
// platform.
type ForwardBatch struct {
	TerminalID string
	ThroughSeq int64
	Bills      []Forward
	Voids      []ForwardVoid
	At         time.Time // when it was derived
}

// ForwardSummary is the state of the queue.
type ForwardSummary struct {
	Posted, Pending, Refused map[string]int // by kind
	OldestPending            time.Time      // zero if none
	LastError                string         // of the pending forward tried last
	RefusedList              []Forward      // oldest first
}
