package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/lango-pos/lango/terminal"
)

// auditState is what the events say of the operators, shifts, settlements
// and pass marks, replayed in order: this terminal's own events, then the
// site feed it applied (which writes no event of its own).
type auditState struct {
	operators map[string]auditOperator // by id
	shifts    map[string]*auditShift   // by id
	settled   map[string]string        // settlement id → its document (compact JSON)
	marks     map[[3]string]auditMark  // pass id, mark, terminal name
	self      string                   // this terminal's name, set by verifyRows
	ownMarks  []auditOwnMark           // marks of own events, named once self is known
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

type auditMark struct{ at, ref string }

type auditOwnMark struct {
	key [2]string // pass id, mark
	m   auditMark
}

func newAuditState() *auditState {
	return &auditState{operators: map[string]auditOperator{}, shifts: map[string]*auditShift{}, settled: map[string]string{}, marks: map[[3]string]auditMark{}}
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
			st.ownMarks = append(st.ownMarks, auditOwnMark{[2]string{passID, m[0]}, auditMark{at, m[1]}})
		}
		if e.Type != terminal.EventPassSettled {
			return
		}
		var p terminal.PassSettled
		if json.Unmarshal(e.Payload, &p) == nil && len(p.Settlement) > 0 {
			st.settled[p.SettlementID] = compact(p.Settlement)
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
			k := [3]string{passID, m[0], e.Name}
			if _, ok := st.marks[k]; !ok { // the first one stands (ON CONFLICT DO NOTHING)
				st.marks[k] = auditMark{ts(e.At), m[1]}
			}
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
	id, err := db.Identity(ctx)
	if err != nil {
		return err
	}
	st.self = id.Name
	for _, m := range st.ownMarks {
		k := [3]string{m.key[0], m.key[1], st.self}
		if _, ok := st.marks[k]; !ok {
			st.marks[k] = m.m
		}
	}
	feed, err := db.FeedEvents(ctx, "", 0, 1<<31)
	if err != nil {
		return err
	}
	for i := range feed {
		st.feed(&feed[i])
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
		want, ok := st.settled[id]
		if !ok {
			return &terminal.AuditError{Table: "settlements", Row: id, Reason: "no event records this settlement"}
		}
		var got terminal.Settlement
		if compact([]byte(doc)) != want || json.Unmarshal([]byte(doc), &got) != nil || got.PassID != passID || !got.At.Equal(parseTS(at)) {
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
		want, ok := st.marks[[3]string{passID, mark, term}]
		switch {
		case !ok:
			return &terminal.AuditError{Table: "pass_marks", Row: row, Reason: fmt.Sprintf("no event marks pass %s %s at %s", passID, mark, term)}
		case !parseTS(want.at).Equal(parseTS(at)) || want.ref != ref:
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
