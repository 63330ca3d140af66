package terminal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Event types written to the outbox.
const (
	EventTerminalInit   = "terminal.initialized"
	EventEnrolled       = "terminal.enrolled"
	EventConfigSet      = "config.set"
	EventCatalogue      = "catalogue.loaded"
	EventCatalogueBad   = "catalogue.refused"
	EventOperatorAdded  = "operator.added"
	EventOperatorLocked = "operator.locked"
	EventOperatorUnlock = "operator.unlocked"
	EventOperatorPIN    = "operator.pin_changed"
	EventOperatorOff    = "operator.disabled"
	EventShiftOpened    = "shift.opened"
	EventShiftClosed    = "shift.closed"
	EventSaleCreated    = "sale.created"
	EventSaleVoided     = "sale.voided"
	EventSaleRefunded   = "sale.refunded"
	EventPassSettled    = "pass.settled"
	EventPassUsed       = "pass.used"
	EventPrintReprint   = "print.reprint"
	EventMpesaUsed      = "mpesa.used"
	EventBankUsed       = "bank.used"
	EventTicketRedeemed = "ticket.redeemed"
)

// The times an event may carry: a terminal refuses to write one outside
// them (its clock is wrong) and the hub quarantines one that arrives
// anyway.
var (
	MinEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxEventTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Event is an immutable record of a state change: the outbox that sync
// drains and, through its hash chain, the terminal's tamper-evident audit
// log. Seq runs 1, 2, 3… per terminal with no gaps; ID is a UUIDv7.
type Event struct {
	Seq      int64           `json:"seq"`
	ID       string          `json:"id"`
	Terminal string          `json:"terminal"`
	Type     string          `json:"type"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor,omitempty"`
	Payload  json.RawMessage `json:"payload"`
	PrevHash string          `json:"prev_hash"` // hex SHA-256 of the previous event; "" for the first
	Hash     string          `json:"hash"`
}

// Equal reports whether e and o are the same record: every field, the
// payload byte for byte, times as instants. A copy that travelled (to the
// hub and back) is Equal to the original.
func (e *Event) Equal(o *Event) bool {
	return e.Seq == o.Seq && e.ID == o.ID && e.Terminal == o.Terminal && e.Type == o.Type && e.At.Equal(o.At) &&
		e.Actor == o.Actor && bytes.Equal(e.Payload, o.Payload) && e.PrevHash == o.PrevHash && e.Hash == o.Hash
}

// DiffEvents says where two copies of an event log part (the hub's copy
// of a terminal's events and the terminal's own, say): nil when they hold
// the same events, Equal, in the same order.
func DiffEvents(got, want []Event) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d events; want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(&want[i]) {
			return fmt.Errorf("event %d differs:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	return nil
}

// ComputeHash returns the hex SHA-256 that chains e to its predecessor: over
// the previous hash and every field, each length-prefixed so that no two
// different events hash the same bytes. Times are hashed in UTC at
// nanosecond precision.
func (e *Event) ComputeHash() string {
	// The fields before the payload go into one small buffer, the payload
	// straight to the hash: the hub hashes every event it ingests, and a
	// copy of the payload (or of each field) was most of the cost.
	head := make([]byte, 0, 256+len(e.PrevHash)+len(e.ID)+len(e.Terminal)+len(e.Type)+len(e.Actor))
	head = append(head, "lango-event-v1"...)
	head = appendField(head, e.PrevHash)
	head = binary.BigEndian.AppendUint64(head, 8)
	head = binary.BigEndian.AppendUint64(head, uint64(e.Seq))
	head = appendField(head, e.ID)
	head = appendField(head, e.Terminal)
	head = appendField(head, e.Type)
	n := len(head)
	head = binary.BigEndian.AppendUint64(head, 0) // the time's length, set below
	head = e.At.UTC().AppendFormat(head, time.RFC3339Nano)
	binary.BigEndian.PutUint64(head[n:], uint64(len(head)-n-8))
	head = appendField(head, e.Actor)
	head = binary.BigEndian.AppendUint64(head, uint64(len(e.Payload)))
	h := sha256.New()
	h.Write(head)
	h.Write(e.Payload)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// appendField appends s length-prefixed, as ComputeHash hashes it.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// ChainError says where a hash chain breaks.
type ChainError struct {
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string {
	return "audit chain broken at event " + itoa(e.Seq) + ": " + e.Reason
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// ChainVerifier checks events one by one, in order.
type ChainVerifier struct {
	LastSeq  int64
	LastHash string
}

// Next checks e against the chain so far and advances it.
func (v *ChainVerifier) Next(e *Event) error {
	if e.Seq != v.LastSeq+1 {
		return &ChainError{Seq: e.Seq, Reason: "sequence gap after " + itoa(v.LastSeq)}
	}
	if e.PrevHash != v.LastHash {
		return &ChainError{Seq: e.Seq, Reason: "previous-hash link does not match"}
	}
	if e.ComputeHash() != e.Hash {
		return &ChainError{Seq: e.Seq, Reason: "record altered: its hash does not match its content"}
	}
	v.LastSeq, v.LastHash = e.Seq, e.Hash
	return nil
}
