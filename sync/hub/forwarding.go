package hub

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lango-pos/lango/terminal"
)

// Forward kinds: a bill for money taken, a reversal of a posted bill.
const (
	ForwardBill     = "bill"
	ForwardReversal = "reversal"
	// ForwardRedemption is a prepaid ticket let in at a gate; its Ref is
	// "TICKET-NO GATE" (one per ticket and gate: a ticket let in at two
	// lanes is two, and the platform refuses the second).
	ForwardRedemption = "redemption"
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
	// At is when the money was taken (a bill), the void or refund made (a
	// reversal) or the ticket let in: a void reverses only the bills of
	// its sale taken before it.
	At       time.Time
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

// ForwardVoid says a sale was voided or refunded: every bill of the sale
// taken before At, posted or to come, gets a reversal with Body. A
// settlement taken after the void (an exit lane that had not heard of it)
// is money taken: it stays, and the report flags it used_after_void.
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
	Bills      []Forward // bills and redemptions
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

// Ticket is a prepaid ticket of the platform as the hub keeps it.
type Ticket struct {
	No        string
	Site      string
	Day       string // YYYY-MM-DD, the visit's day
	ValidFrom time.Time
	ValidTo   time.Time
	Party     json.RawMessage // [{"category", "age_band", "count"}]
	Vehicle   json.RawMessage // {"plate", "band"} or null
	Status    string          // valid, cancelled
	N         int64           // the hub's change number (set by the store)
	FetchedAt time.Time
}

// TicketList is the state of a site's list for a day.
type TicketList struct {
	Site      string    `json:"site"`
	Day       string    `json:"day"`
	Cursor    string    `json:"-"`
	Tickets   int       `json:"tickets"`
	FetchedAt time.Time `json:"fetched_at"`
	// Error is why the last list fetched was refused ("" if it was not):
	// the tickets held stay in use.
	Error   string    `json:"error,omitempty"`
	ErrorAt time.Time `json:"error_at,omitzero"`
}

// ErrTooManyTickets refuses a page that would take a list above the
// hub's bound.
var ErrTooManyTickets = errors.New("too many tickets for one site and day")

// forwardCollector exports the forward queue's sizes on each scrape of
// /metrics: one grouped count, cheap next to a scrape.
type forwardCollector struct {
	store Store
	desc  *prometheus.Desc
}

func newForwardCollector(s Store) *forwardCollector {
	return &forwardCollector{store: s, desc: prometheus.NewDesc("lango_hub_forwards",
		"Bills and reversals owed to the national platform, by state (pending, posted, refused) and kind.", []string{"state", "kind"}, nil)}
}

func (c *forwardCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *forwardCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.store.ForwardSummary(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, m := range map[string]map[string]int{ForwardPending: s.Pending, ForwardPosted: s.Posted, ForwardRefused: s.Refused} {
		for _, kind := range []string{ForwardBill, ForwardReversal, ForwardRedemption} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(m[kind]), state, kind)
		}
	}
}

// EventTicketRedeemed is the event a gate writes when it admits a prepaid
// ticket of the platform (terminal.EventTicketRedeemed); the hub forwards
// it as a redemption and reports a ticket let in at two lanes.
const EventTicketRedeemed = terminal.EventTicketRedeemed

// TicketRedeemed is its payload.
type TicketRedeemed = terminal.TicketRedeemed
