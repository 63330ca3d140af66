package terminal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// Event types written to the outbox.
const (
	EventTerminalInit   = "terminal.initialized"
	EventConfigSet      = "config.set"
	EventCatalogue      = "catalogue.loaded"
	EventOperatorAdded  = "operator.added"
	EventOperatorLocked = "operator.locked"
	EventShiftOpened    = "shift.opened"
	EventShiftClosed    = "shift.closed"
	EventSaleCreated    = "sale.created"
	EventSaleVoided     = "sale.voided"
	EventSaleRefunded   = "sale.refunded"
	EventPassSettled    = "pass.settled"
	EventPassUsed       = "pass.used"
	EventPrintReprint   = "print.reprint"
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

// ComputeHash returns the hex SHA-256 that chains e to its predecessor: over
// the previous hash and every field, each length-prefixed so that no two
// different events hash the same bytes. Times are hashed in UTC at
// nanosecond precision.
func (e *Event) ComputeHash() string {
	var b bytes.Buffer
	put := func(s []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		b.Write(n[:])
		b.Write(s)
	}
	b.WriteString("lango-event-v1")
	put([]byte(e.PrevHash))
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], uint64(e.Seq))
	put(seq[:])
	put([]byte(e.ID))
	put([]byte(e.Terminal))
	put([]byte(e.Type))
	put([]byte(e.At.UTC().Format(time.RFC3339Nano)))
	put([]byte(e.Actor))
	put(e.Payload)
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:])
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
