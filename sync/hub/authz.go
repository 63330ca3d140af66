package hub

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/lango-pos/lango/terminal"
)

// The rule of what each event may name. A terminal signs its own events,
// but what an event names (a sale to void, a pass to settle, an operator to
// disable) is only an id read from a payload: ids are printed in every QR
// code. Before a batch is applied, every id it names is checked against the
// records table (who created the record: its site and terminal), and the
// batch is refused, nothing stored, if any event names what it may not.

// Record kinds: a sale (whose id is also its pass's id) and an operator.
const (
	RecordSale     = "sale"
	RecordOperator = "operator"
)

// owner is who may name a record.
type owner int

const (
	// ownerSite: a record of the uploader's site (a pass settled at
	// another lane of the park).
	ownerSite owner = iota + 1
	// ownerTerminal: a record the uploader created itself (a sale voided
	// where it was sold).
	ownerTerminal
)

// reference is an id an event's payload names.
type reference struct {
	kind  string   // RecordSale, RecordOperator
	path  []string // where the id is in the payload
	owner owner
	// unknown: an id the hub has not received yet is allowed. A deferred
	// pass is settled at the exit while the lane that sold it is offline;
	// the report keys settlements and uses by (site, id), so one that names
	// another site's pass never settles it.
	unknown bool
	// optional: the field may be absent (an older payload).
	optional bool
}

// eventRule says what an event type creates and what it names.
type eventRule struct {
	creates *reference // the record the event creates (owned by its terminal)
	names   []reference
	why     string // for the threat model (docs/SYNC-PROTOCOL.md)
}

// eventRules is the rule for every event type a terminal writes
// (TestEveryEventTypeHasARule reads terminal/event.go to check there is one
// per type). An event type the hub does not know is stored but applied
// nowhere: not in the report, not in the feed.
var eventRules = map[string]eventRule{
	terminal.EventTerminalInit: {why: "names nothing"},
	terminal.EventEnrolled:     {why: "names nothing"},
	terminal.EventConfigSet:    {why: "the terminal's own settings"},
	terminal.EventCatalogue:    {why: "names a catalogue version, applied nowhere"},
	terminal.EventCatalogueBad: {why: "names a catalogue publication of the site; listed by the report"},
	terminal.EventOperatorAdded: {
		creates: &reference{kind: RecordOperator, path: []string{"id"}},
		why:     "creates an operator of the terminal's site",
	},
	terminal.EventOperatorLocked: {why: "names an operator by name at this terminal; applied nowhere at the hub"},
	terminal.EventOperatorUnlock: {why: "names an operator by name at this terminal; applied nowhere at the hub"},
	terminal.EventOperatorPIN: {
		names: []reference{{kind: RecordOperator, path: []string{"id"}, owner: ownerSite}},
		why:   "an operator of the site",
	},
	terminal.EventOperatorOff: {
		names: []reference{{kind: RecordOperator, path: []string{"id"}, owner: ownerSite}},
		why:   "an operator of the site",
	},
	terminal.EventShiftOpened: {why: "the terminal's own shift"},
	terminal.EventShiftClosed: {why: "the terminal's own shift"},
	terminal.EventSaleCreated: {
		creates: &reference{kind: RecordSale, path: []string{"id"}},
		why:     "creates a sale (and its pass) of the terminal's site",
	},
	terminal.EventSaleVoided: {
		names: []reference{
			{kind: RecordSale, path: []string{"sale_id"}, owner: ownerTerminal},
			{kind: RecordSale, path: []string{"pass_id"}, owner: ownerTerminal, optional: true},
		},
		why: "a sale the terminal made",
	},
	terminal.EventSaleRefunded: {
		names: []reference{{kind: RecordSale, path: []string{"refund", "refund_of"}, owner: ownerTerminal}},
		why:   "a sale the terminal made",
	},
	terminal.EventPassSettled: {
		names: []reference{
			{kind: RecordSale, path: []string{"pass_id"}, owner: ownerSite, unknown: true},
			{kind: RecordSale, path: []string{"sale_id"}, owner: ownerSite, unknown: true, optional: true},
		},
		why: "a pass of the site, perhaps not received yet",
	},
	terminal.EventPassUsed: {
		names: []reference{{kind: RecordSale, path: []string{"pass_id"}, owner: ownerSite, unknown: true}},
		why:   "a pass of the site, perhaps not received yet",
	},
	terminal.EventPrintReprint: {
		names: []reference{{kind: RecordSale, path: []string{"sale_id"}, owner: ownerTerminal}},
		why:   "a sale the terminal made",
	},
	terminal.EventMpesaUsed: {
		names: []reference{{kind: RecordSale, path: []string{"sale_id"}, owner: ownerTerminal, optional: true}},
		why:   "an M-PESA code taken for a sale the terminal made, or a settlement; the feed spreads it to the site",
	},
	terminal.EventBankUsed: {
		names: []reference{{kind: RecordSale, path: []string{"sale_id"}, owner: ownerTerminal, optional: true}},
		why:   "a bank reference taken for a sale the terminal made, a settlement or a shift's cash deposit; the feed spreads it to the site",
	},
	terminal.EventTicketRedeemed: {
		names: []reference{{kind: RecordSale, path: []string{"sale_id"}, owner: ownerTerminal, optional: true}},
		why:   "a prepaid ticket of the platform let in (a number of the platform's, not a record here), with the sale of the rest of the party; the feed spreads it to the site, the forwarder redeems it",
	},
}

// Record is who created a record events may name.
type Record struct {
	ID         string
	Kind       string
	Site       string
	TerminalNo int64 // the creating terminal's number in the store
	Seq        int64 // the creating event (for a refusal's message)
}

// ForbiddenError refuses a batch with an event that names what its
// terminal may not.
type ForbiddenError struct {
	Seq    int64
	Type   string
	Reason string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("event %d (%s) %s", e.Seq, e.Type, e.Reason)
}

// refID reads the id at r.path in e's payload: "" with ok true when it is
// absent and optional.
func refID(e *terminal.Event, r *reference) (id string, err error) {
	v, found, err := findString(e.Payload, r.path)
	if err != nil {
		return "", &ForbiddenError{Seq: e.Seq, Type: e.Type, Reason: fmt.Sprintf("names a %s the hub cannot read (%s): %v", r.kind, joinPath(r.path), err)}
	}
	if !found && !r.optional {
		return "", &ForbiddenError{Seq: e.Seq, Type: e.Type, Reason: fmt.Sprintf("names no %s (%s)", r.kind, joinPath(r.path))}
	}
	return v, nil
}

func joinPath(p []string) string {
	s := ""
	for i, k := range p {
		if i > 0 {
			s += "."
		}
		s += k
	}
	return s
}

// NamedIDs lists the ids a batch's events name (not those they create:
// the store checks those as it inserts them, so a drain of new sales costs
// no lookup).
func NamedIDs(events []terminal.Event) (ids []string, err error) {
	seen := map[string]bool{}
	for i := range events {
		e := &events[i]
		refs := eventRules[e.Type].names
		for j := range refs {
			id, err := refID(e, &refs[j])
			if err != nil {
				return nil, err
			}
			if id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Authorize checks a batch of terminal no (of site) against the records
// held (from lookup of NamedIDs' ids) and returns the records the batch
// creates. Records created earlier in the batch count as held. The store
// refuses a created record whose id another terminal's record has
// (CreatedError).
func Authorize(site string, no int64, events []terminal.Event, held map[string]Record) ([]Record, error) {
	var created []Record
	for i := range events {
		e := &events[i]
		rule := eventRules[e.Type]
		forbid := func(format string, args ...any) error {
			return &ForbiddenError{Seq: e.Seq, Type: e.Type, Reason: fmt.Sprintf(format, args...)}
		}
		for j := range rule.names {
			r := &rule.names[j]
			id, err := refID(e, r)
			if err != nil {
				return nil, err
			}
			if id == "" {
				continue
			}
			rec, ok := held[id]
			switch {
			case !ok && r.unknown:
				continue
			case !ok:
				return nil, forbid("names %s %s, which the hub has not received from this terminal", r.kind, id)
			case rec.Kind != r.kind:
				return nil, forbid("names %s %s, which is a %s", r.kind, id, rec.Kind)
			case rec.Site != site:
				return nil, forbid("names %s %s of site %s; this terminal is of %s", r.kind, id, rec.Site, site)
			case r.owner == ownerTerminal && rec.TerminalNo != no:
				return nil, forbid("names %s %s of another terminal", r.kind, id)
			}
		}
		if c := rule.creates; c != nil {
			id, err := refID(e, c)
			if err != nil {
				return nil, err
			}
			if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
				return nil, forbid("creates a %s whose id %q is not a UUID", c.kind, id)
			}
			if rec, ok := held[id]; ok && (rec.TerminalNo != no || rec.Kind != c.kind) {
				return nil, forbid("creates %s %s, an id another record already has", c.kind, id)
			}
			rec := Record{ID: id, Kind: c.kind, Site: site, TerminalNo: no, Seq: e.Seq}
			held[id] = rec
			created = append(created, rec)
		}
	}
	return created, nil
}

// RecordKey is a record id as stored: a UUID's 16 bytes (ok false for an
// id that is not a UUID: no record has it).
func RecordKey(id string) ([]byte, bool) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return nil, false
	}
	return u[:], true
}
