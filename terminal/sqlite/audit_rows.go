package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// auditKey names a record in the audit's memory: the first 16 bytes of the
// SHA-256 of its exact key (an id, or a pass mark's pass, mark and
// terminal), so that the audit holds a few dozen bytes a record whatever
// its ids look like, and a row whose key was edited by so much as a letter's
// case is not found.
type auditKey [16]byte

func keyOf(parts ...string) auditKey {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var k auditKey
	copy(k[:], h.Sum(nil))
	return k
}

// auditState is what the events say of the operators, shifts, settlements
// and pass marks, replayed in order: this terminal's own events, then the
// site feed it applied (which writes no event of its own).
type auditState struct {
	operators map[string]auditOperator // by id
	shifts    map[string]*auditShift   // by id
	settled   map[auditKey]auditKey    // settlement id → digest of its document (compact JSON)
	marks     map[auditKey]auditMark   // pass id, mark, terminal name
	self      string                   // this terminal's name
}

type auditOperator struct {
	name     string
	role     terminal.Role
	disabled bool
}

type auditShift struct {
	operator string
	opened   string
	float    terminal.Totals
	closed   string // "" while open
	counted  terminal.Totals
}

// auditMark is when a pass was marked, and a digest of its reference.
type auditMark struct {
	at  int64 // Unix nanoseconds
	ref auditKey
}

func newAuditState(self string) *auditState {
	return &auditState{operators: map[string]auditOperator{}, shifts: map[string]*auditShift{}, settled: map[auditKey]auditKey{}, marks: map[auditKey]auditMark{}, self: self}
}

// mark records that the events mark pass passID at terminal term: the first
// one stands, as the store keeps it (ON CONFLICT DO NOTHING).
func (st *auditState) mark(passID, mark, term string, at time.Time, ref string) {
	k := keyOf(passID, mark, term)
	if _, ok := st.marks[k]; !ok {
		st.marks[k] = auditMark{at.UnixNano(), keyOf(ref)}
	}
}

// own replays one of this terminal's events.
func (st *auditState) own(e *terminal.Event) {
	at := ts(e.At)
	switch e.Type {
	case terminal.EventOperatorAdded, terminal.EventOperatorPIN, terminal.EventOperatorOff:
		st.operator(e)
	case terminal.EventShiftOpened:
		var sh terminal.Shift
		if json.Unmarshal(e.Payload, &sh) == nil {
			st.shifts[sh.ID] = &auditShift{operator: sh.Operator, opened: ts(sh.OpenedAt), float: sh.Float}
		}
	case terminal.EventShiftClosed:
		var z terminal.ZReport
		if json.Unmarshal(e.Payload, &z) == nil && st.shifts[z.ShiftID] != nil {
			st.shifts[z.ShiftID].closed, st.shifts[z.ShiftID].counted = at, z.Counted
		}
	case terminal.EventPassSettled, terminal.EventPassUsed, terminal.EventSaleVoided:
		passID, marks := passMarks(e)
		for _, m := range marks {
			st.mark(passID, m[0], st.self, e.At, m[1])
		}
		if e.Type != terminal.EventPassSettled {
			return
		}
		var p terminal.PassSettled
		if json.Unmarshal(e.Payload, &p) == nil && len(p.Settlement) > 0 {
			st.settled[keyOf(p.SettlementID)] = keyOf(compact(p.Settlement))
		}
	}
}

// feed replays an event of another terminal of the site, as ApplyFeed did.
func (st *auditState) feed(e *terminal.FeedEvent) {
	switch e.Type {
	case terminal.EventOperatorAdded, terminal.EventOperatorPIN, terminal.EventOperatorOff:
		st.operator(&e.Event)
	case terminal.EventPassSettled, terminal.EventPassUsed, terminal.EventSaleVoided:
		passID, marks := passMarks(&e.Event)
		for _, m := range marks {
			st.mark(passID, m[0], e.Name, e.At, m[1])
		}
	}
}

func (st *auditState) operator(e *terminal.Event) {
	var p operatorAdded
	if json.Unmarshal(e.Payload, &p) != nil || p.ID == "" {
		return
	}
	o := st.operators[p.ID]
	if e.Type == terminal.EventOperatorOff {
		o.disabled = true
	}
	if o.name == "" || e.Type != terminal.EventOperatorOff {
		o.name, o.role = p.Name, p.Role
	}
	st.operators[p.ID] = o
}

func compact(b []byte) string {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}

// verifyRows compares the operator, shift, settlement and pass mark rows
// with what the events say.
func (db *DB) verifyRows(ctx context.Context, st *auditState) error {
	// The feed, streamed: applied in the order ApplyFeed applied it.
	err := db.eachFeedEvent(ctx, func(e *terminal.FeedEvent) error {
		st.feed(e)
		return nil
	})
	if err != nil {
		return err
	}
	for _, check := range []func(context.Context, *auditState) error{db.auditOperators, db.auditShifts, db.auditSettlements, db.auditMarks} {
		if err := check(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) auditOperators(ctx context.Context, st *auditState) error {
	rows, err := db.db.QueryContext(ctx, `SELECT id, name, role, disabled_at FROM operators ORDER BY name`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name, role, disabled string
		if err := rows.Scan(&id, &name, &role, &disabled); err != nil {
			return err
		}
		want, ok := st.operators[id]
		switch {
		case !ok:
			return &terminal.AuditError{Table: "operators", Row: id, Reason: fmt.Sprintf("no event records operator %s", name)}
		case want.name != name || string(want.role) != role:
			return &terminal.AuditError{Table: "operators", Row: id, Reason: fmt.Sprintf("operator %s is a %s here; its events say %s, a %s", name, role, want.name, want.role)}
		case want.disabled != (disabled != ""):
			return &terminal.AuditError{Table: "operators", Row: id, Reason: fmt.Sprintf("operator %s's disabled state differs from its events", name)}
		}
	}
	return rows.Err()
}

func (db *DB) auditShifts(ctx context.Context, st *auditState) error {
	rows, err := db.db.QueryContext(ctx, `SELECT s.id, coalesce(o.name, ''), s.opened_at, s.float, coalesce(s.closed_at, ''), coalesce(s.counted, '')
		FROM shifts s LEFT JOIN operators o ON o.id = s.operator_id ORDER BY s.opened_at`)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, op, opened, float, closed, counted string
		if err := rows.Scan(&id, &op, &opened, &float, &closed, &counted); err != nil {
			return err
		}
		n++
		want := st.shifts[id]
		if want == nil {
			return &terminal.AuditError{Table: "shifts", Row: id, Reason: "no event records this shift"}
		}
		var fl, co terminal.Totals
		if json.Unmarshal([]byte(float), &fl) != nil || (counted != "" && json.Unmarshal([]byte(counted), &co) != nil) {
			return &terminal.AuditError{Table: "shifts", Row: id, Reason: "unreadable float or count"}
		}
		switch {
		case want.operator != op || want.opened != opened:
			return &terminal.AuditError{Table: "shifts", Row: id, Reason: fmt.Sprintf("the shift's operator or opening time differs from its event (%s at %s)", want.operator, want.opened)}
		case !maps.Equal(fl.Clone().Clean(), want.float.Clone().Clean()):
			return &terminal.AuditError{Table: "shifts", Row: id, Reason: fmt.Sprintf("the float is %s here; its event says %s", fl, want.float)}
		case want.closed != closed || !maps.Equal(co.Clone().Clean(), want.counted.Clone().Clean()):
			return &terminal.AuditError{Table: "shifts", Row: id, Reason: "the shift's closing differs from its event"}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(st.shifts) {
		return &terminal.AuditError{Table: "shifts", Reason: fmt.Sprintf("%d shifts recorded in events, %d in the table", len(st.shifts), n)}
	}
	return nil
}

func (db *DB) auditSettlements(ctx context.Context, st *auditState) error {
	rows, err := db.db.QueryContext(ctx, `SELECT id, pass_id, at, doc FROM settlements ORDER BY at`)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, passID, at, doc string
		if err := rows.Scan(&id, &passID, &at, &doc); err != nil {
			return err
		}
		n++
		want, ok := st.settled[keyOf(id)]
		if !ok {
			return &terminal.AuditError{Table: "settlements", Row: id, Reason: "no event records this settlement"}
		}
		var got terminal.Settlement
		if keyOf(compact([]byte(doc))) != want || json.Unmarshal([]byte(doc), &got) != nil || got.PassID != passID || !got.At.Equal(parseTS(at)) {
			return &terminal.AuditError{Table: "settlements", Row: id, Reason: fmt.Sprintf("the settlement of pass %s differs from its event", passID)}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(st.settled) {
		return &terminal.AuditError{Table: "settlements", Reason: fmt.Sprintf("%d settlements recorded in events, %d in the table", len(st.settled), n)}
	}
	return nil
}

func (db *DB) auditMarks(ctx context.Context, st *auditState) error {
	rows, err := db.db.QueryContext(ctx, `SELECT pass_id, mark, terminal, at, ref FROM pass_marks ORDER BY pass_id, mark, terminal`)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var passID, mark, term, at, ref string
		if err := rows.Scan(&passID, &mark, &term, &at, &ref); err != nil {
			return err
		}
		n++
		row := passID + "/" + mark + "/" + term
		want, ok := st.marks[keyOf(passID, mark, term)]
		switch {
		case !ok:
			return &terminal.AuditError{Table: "pass_marks", Row: row, Reason: fmt.Sprintf("no event marks pass %s %s at %s", passID, mark, term)}
		case want.at != parseTS(at).UnixNano() || want.ref != keyOf(ref):
			return &terminal.AuditError{Table: "pass_marks", Row: row, Reason: fmt.Sprintf("the %s mark of pass %s differs from its event", mark, passID)}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(st.marks) {
		return &terminal.AuditError{Table: "pass_marks", Reason: fmt.Sprintf("%d pass marks recorded in events, %d in the table", len(st.marks), n)}
	}
	return nil
}
