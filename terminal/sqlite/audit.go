package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lango-pos/lango/terminal"
)

// VerifyAudit checks that the event log is an unbroken hash chain with no
// sequence gaps, from the archive files (each against its signed
// checkpoint) through the events the store holds, and that every sale,
// operator, shift, settlement and pass mark row says what the events (this
// terminal's, and for operators and marks those of the site feed) say of
// it: so an edited event, a deleted event, an edited archive file or
// checkpoint, or an edited row of those tables is found and named.
//
// It streams the events, the feed and the rows. The sales are checked by a
// merge of two streams in the same order (a sale's number and its event's
// seq grow together): each event that makes a sale meets the next sale
// row; only the sales voided or settled since are held, by id, until the
// end. Its memory does not grow with the sales it checks.
func (db *DB) VerifyAudit(ctx context.Context) error { return db.VerifyAuditProgress(ctx, nil) }

// VerifyAuditProgress is VerifyAudit telling progress, if not nil, how far
// along the chain it is after each thousand events: the seq checked and
// the last.
func (db *DB) VerifyAuditProgress(ctx context.Context, progress func(seq, last int64)) error {
	return db.verifyAudit(ctx, 0, progress)
}

// VerifyAuditSince checks the chain from the signed checkpoint at seq
// since (the end of an archive file: lango audit verify --since SEQ), and
// the sale rows made after it: not the archive before it, nor the
// operators, shifts, settlements and marks, whose history starts earlier.
func (db *DB) VerifyAuditSince(ctx context.Context, since int64, progress func(seq, last int64)) error {
	if since <= 0 {
		return db.verifyAudit(ctx, 0, progress)
	}
	return db.verifyAudit(ctx, since, progress)
}

func (db *DB) verifyAudit(ctx context.Context, since int64, progress func(seq, last int64)) error {
	id, err := db.Identity(ctx)
	if err != nil {
		return err
	}
	var end int64
	if err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&end); err != nil {
		return err
	}
	// The checkpoints: each signed, and together a prefix of the chain.
	arch, err := db.archives(ctx)
	if err != nil {
		return err
	}
	keys, err := db.terminalPublics(ctx)
	if err != nil {
		return err
	}
	var v terminal.ChainVerifier
	var from *archiveRow
	for i, a := range arch {
		if err := checkCheckpoint(id.TerminalID, keys, a); err != nil {
			return err
		}
		if a.first != v.LastSeq+1 || a.prevHash != v.LastHash {
			return &terminal.AuditError{Seq: a.first, Table: "archives", Row: a.file, Reason: fmt.Sprintf("archive file %s does not continue the one before it", a.file)}
		}
		v.LastSeq, v.LastHash = a.last, a.lastHash
		if a.last == since {
			from = &arch[i]
		}
	}
	v = terminal.ChainVerifier{}
	if since > 0 {
		if from == nil {
			var at []string
			for _, a := range arch {
				at = append(at, fmt.Sprint(a.last))
			}
			if len(at) == 0 {
				return terminal.Errorf(terminal.EINVALID, "--since %d: this store has no signed checkpoint yet (lango archive makes them)", since)
			}
			return terminal.Errorf(terminal.EINVALID, "--since %d: no signed checkpoint there; there is one at %s", since, strings.Join(at, ", "))
		}
		v.LastSeq, v.LastHash = from.last, from.lastHash
	}
	st := newAuditState(id.Name)
	m := &saleMerge{db: db, since: since, next: 0, changed: map[string]terminal.SaleState{}, afters: map[string]auditAfterAt{}}
	if err := db.db.QueryRowContext(ctx, `SELECT coalesce((SELECT min(number) FROM sales WHERE event_seq > ?), (SELECT coalesce(max(number), 0) + 1 FROM sales)) - 1`, since).Scan(&m.next); err != nil {
		return err
	}
	err = db.eachEvent(ctx, v.LastSeq, func(e *terminal.Event) error {
		if err := v.Next(e); err != nil {
			ce := err.(*terminal.ChainError)
			return &terminal.AuditError{Seq: ce.Seq, Reason: ce.Reason}
		}
		if err := m.event(ctx, e); err != nil {
			return err
		}
		st.own(e)
		if progress != nil && e.Seq%1000 == 0 {
			progress(e.Seq, end)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if progress != nil {
		progress(v.LastSeq, end)
	}
	if end != v.LastSeq {
		return &terminal.AuditError{Seq: v.LastSeq + 1, Reason: "sequence gap"}
	}
	if err := m.finish(ctx); err != nil {
		return err
	}
	if since > 0 {
		return nil
	}
	return db.verifyRows(ctx, st)
}

// saleRow is a sale row as the audit compares it with its event.
type saleRow struct {
	id, kind, at, site, vehicle, catVersion, refundOf, state string
	number, seq                                              int64
}

// auditAfterAt is what became of a sale after it was made, and the event
// that said so.
type auditAfterAt struct {
	after auditAfter
	seq   int64
}

// saleMerge walks the sale rows, in number order, beside the events that
// made them, in seq order: a page of rows at a time (the store has one
// connection, which a query open across the events would hold).
type saleMerge struct {
	db      *DB
	since   int64
	next    int64 // the last sale number read
	page    []saleRow
	done    bool
	changed map[string]terminal.SaleState // rows in a state their making did not give them
	afters  map[string]auditAfterAt       // sales voided or settled by an event
}

// row returns the next sale row, nil after the last.
func (m *saleMerge) row(ctx context.Context) (*saleRow, error) {
	if len(m.page) == 0 && !m.done {
		rows, err := m.db.db.QueryContext(ctx, `SELECT id, number, kind, at, site, vehicle, catalogue_version, coalesce(refund_of, ''), event_seq, state FROM sales WHERE number > ? ORDER BY number LIMIT 1000`, m.next)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r saleRow
			if err := rows.Scan(&r.id, &r.number, &r.kind, &r.at, &r.site, &r.vehicle, &r.catVersion, &r.refundOf, &r.seq, &r.state); err != nil {
				rows.Close()
				return nil, err
			}
			m.page = append(m.page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		m.done = len(m.page) < 1000
	}
	if len(m.page) == 0 {
		return nil, nil
	}
	r := &m.page[0]
	m.page = m.page[1:]
	m.next = r.number
	return r, nil
}

// event meets an event: one that makes a sale meets the next sale row.
func (m *saleMerge) event(ctx context.Context, e *terminal.Event) error {
	var p struct {
		ID     string          `json:"id"`
		SaleID string          `json:"sale_id"`
		Refund json.RawMessage `json:"refund"`
	}
	switch e.Type {
	case terminal.EventSaleCreated, terminal.EventSaleRefunded, terminal.EventSaleVoided:
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return &terminal.AuditError{Seq: e.Seq, Reason: fmt.Sprintf("unreadable %s: %v", e.Type, err)}
		}
	case terminal.EventPassSettled:
		if json.Unmarshal(e.Payload, &p) != nil || p.SaleID == "" {
			return nil // a settlement of a pass from elsewhere settles no sale here
		}
		m.afters[p.SaleID] = auditAfterAt{afterSettle, e.Seq}
		return nil
	default:
		return nil
	}
	if e.Type == terminal.EventSaleVoided {
		m.afters[p.SaleID] = auditAfterAt{afterVoid, e.Seq}
		return nil
	}
	doc := []byte(e.Payload)
	if e.Type == terminal.EventSaleRefunded {
		doc = p.Refund
	}
	var got terminal.Sale
	if err := json.Unmarshal(doc, &got); err != nil {
		return &terminal.AuditError{Seq: e.Seq, Reason: fmt.Sprintf("unreadable %s: %v", e.Type, err)}
	}
	r, err := m.row(ctx)
	if err != nil {
		return err
	}
	switch {
	case r == nil:
		return &terminal.AuditError{Table: "sales", Row: got.ID, Seq: e.Seq, Reason: fmt.Sprintf("sale %d, made by event %d, has no row", got.Number, e.Seq)}
	case r.seq != e.Seq || r.id != got.ID:
		// The row met here is not the one this event made: it points
		// elsewhere, or this event's row is missing.
		if r.seq < e.Seq {
			return &terminal.AuditError{Table: "sales", Row: r.id, Reason: fmt.Sprintf("sale %d's row points at event %d, which did not make it", r.number, r.seq)}
		}
		return &terminal.AuditError{Table: "sales", Row: got.ID, Seq: e.Seq, Reason: fmt.Sprintf("sale %d, made by event %d, has no row (sale %d's row is next)", got.Number, e.Seq, r.number)}
	case got.Number != r.number || got.Kind != r.kind || ts(got.At) != r.at || got.Site != r.site ||
		got.Vehicle != r.vehicle || got.CatalogueVersion != r.catVersion || got.RefundOf != r.refundOf:
		return &terminal.AuditError{Table: "sales", Row: r.id, Reason: fmt.Sprintf("sale %d's row differs from its event", r.number)}
	}
	if terminal.SaleState(r.state) != got.State {
		m.changed[r.id] = terminal.SaleState(r.state)
	}
	return nil
}

// finish checks that no row is left without its event, and the states of
// the sales voided or settled since they were made.
func (m *saleMerge) finish(ctx context.Context) error {
	r, err := m.row(ctx)
	if err != nil {
		return err
	}
	if r != nil {
		return &terminal.AuditError{Table: "sales", Row: r.id, Reason: fmt.Sprintf("no event records sale %d", r.number)}
	}
	for id, a := range m.afters {
		want := terminal.SaleVoided
		if a.after == afterSettle {
			want = terminal.SaleSettled
		}
		got, ok := m.changed[id]
		if !ok {
			// Not met in a state of its own: read the row (a sale made
			// before --since, or one whose row kept the state it was made
			// in).
			var state string
			var seq int64
			err := m.db.db.QueryRowContext(ctx, `SELECT state, event_seq FROM sales WHERE id = ?`, id).Scan(&state, &seq)
			switch {
			case errors.Is(err, sql.ErrNoRows) && a.after == afterSettle:
				continue // a pass of this terminal's sold elsewhere? not a sale here
			case errors.Is(err, sql.ErrNoRows):
				return &terminal.AuditError{Seq: a.seq, Reason: "void of an unknown sale"}
			case err != nil:
				return err
			}
			got = terminal.SaleState(state)
		}
		delete(m.changed, id)
		if got != want {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: fmt.Sprintf("sale %s is %s; its events say %s", id, got, want)}
		}
	}
	for id, state := range m.changed {
		return &terminal.AuditError{Table: "sales", Row: id, Reason: fmt.Sprintf("sale %s is %s; its events say otherwise", id, state)}
	}
	return nil
}

// auditAfter is what became of a sale after it was made.
type auditAfter uint8

const (
	_ auditAfter = iota // as it was made
	afterVoid
	afterSettle
)
