package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Event is an event as the protocol carries it: the terminal's record of
// a state change, chained to the one before it by Hash. Its fields, their
// JSON names and its hash are this package's own (docs/SYNC-PROTOCOL.md,
// Events): the terminal's domain type may change, the wire may not
// (TestWireEventAgreesWithTheDomain keeps the two in step).
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

// Event types the hub carries in the site feed (see FeedTypes).
const (
	TypeSaleVoided    = "sale.voided"
	TypePassSettled   = "pass.settled"
	TypePassUsed      = "pass.used"
	TypeOperatorAdded = "operator.added"
	TypeOperatorPIN   = "operator.pin_changed"
	TypeOperatorOff   = "operator.disabled"
	TypeMpesaUsed     = "mpesa.used"
	TypeBankUsed      = "bank.used"
	TypeTicketUsed    = "ticket.redeemed"
)

// ComputeHash returns the hex SHA-256 that chains e to its predecessor:
//
//	SHA-256("lango-event-v1" ‖ f(prev_hash) ‖ u64(8) ‖ u64(seq) ‖ f(id) ‖
//	        f(terminal) ‖ f(type) ‖ f(at) ‖ f(actor) ‖ f(payload))
//
// where u64 is 8 bytes big-endian, f(x) is u64(len(x)) ‖ x, at is
// RFC 3339 in UTC with nanoseconds (no trailing zeros), and payload is
// the bytes as the terminal stored them.
func (e *Event) ComputeHash() string {
	head := make([]byte, 0, 256+len(e.PrevHash)+len(e.ID)+len(e.Terminal)+len(e.Type)+len(e.Actor))
	head = append(head, "lango-event-v1"...)
	head = field(head, e.PrevHash)
	head = binary.BigEndian.AppendUint64(head, 8)
	head = binary.BigEndian.AppendUint64(head, uint64(e.Seq))
	head = field(head, e.ID)
	head = field(head, e.Terminal)
	head = field(head, e.Type)
	head = field(head, e.At.UTC().Format(time.RFC3339Nano))
	head = field(head, e.Actor)
	head = binary.BigEndian.AppendUint64(head, uint64(len(e.Payload)))
	h := sha256.New()
	h.Write(head)
	h.Write(e.Payload)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

func field(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}
