package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lango-pos/lango/terminal"
)

// VerifyAudit checks that the event log is an unbroken hash chain with no
// sequence gaps, and that every sale, operator, shift, settlement and pass
// mark row says what the events (this terminal's, and for operators and
// marks those of the site feed) say of it: so an edited event, a deleted
// event, or an edited row of those tables is found and named.
//
// It holds, for each record, only a digest of what the events say (a few
// dozen bytes a sale, not the sale), and streams the events, the feed and
// the rows: its memory grows that slowly with the store.
func (db *DB) VerifyAudit(ctx context.Context) error { return db.VerifyAuditProgress(ctx, nil) }

// VerifyAuditProgress is VerifyAudit telling progress, if not nil, how far
// along the chain it is after each thousand events: the seq checked and
// the last.
func (db *DB) VerifyAuditProgress(ctx context.Context, progress func(seq, last int64)) error {
	var v terminal.ChainVerifier
	var end int64
	if progress != nil {
		if err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&end); err != nil {
			return err
		}
	}
	// Sized for every sale at once (numbers run 1…n): a map that grew by
	// doubling would hold its old and new arrays at its peak.
	var n int64
	if err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(number), 0) FROM sales`).Scan(&n); err != nil {
		return err
	}
	sales := make(map[auditKey]auditSale, n)
	id, err := db.Identity(ctx)
	if err != nil {
		return err
	}
	st := newAuditState(id.Name)
	const batch = 1000
	for {
		evs, err := db.Events(ctx, v.LastSeq, batch)
		if err != nil {
			return err
		}
		for i := range evs {
			e := &evs[i]
			if err := v.Next(e); err != nil {
				ce := err.(*terminal.ChainError)
				return &terminal.AuditError{Seq: ce.Seq, Reason: ce.Reason}
			}
			if err := replay(sales, e); err != nil {
				return &terminal.AuditError{Seq: e.Seq, Reason: err.Error()}
			}
			st.own(e)
		}
		if progress != nil {
			progress(v.LastSeq, end)
		}
		if len(evs) < batch {
			break
		}
	}
	var last int64
	if err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&last); err != nil {
		return err
	}
	if last != v.LastSeq {
		return &terminal.AuditError{Seq: v.LastSeq + 1, Reason: "sequence gap"}
	}
	rows, err := db.db.QueryContext(ctx, `SELECT s.id, s.number, s.kind, s.at, s.site, s.vehicle, s.catalogue_version, coalesce(s.refund_of, ''), s.event_seq, `+saleCols+saleFrom+` ORDER BY s.number`)
	if err != nil {
		return err
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var id, kind, at, site, vehicle, catVersion, refundOf string
		var number, seq int64
		var doc, state string
		var void any
		if err := rows.Scan(&id, &number, &kind, &at, &site, &vehicle, &catVersion, &refundOf, &seq, &doc, &state, &void); err != nil {
			return err
		}
		want, ok := sales[keyOf(id)]
		if !ok {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: "no event records this sale"}
		}
		var got terminal.Sale
		if err := json.Unmarshal([]byte(doc), &got); err != nil {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: "unreadable: " + err.Error()}
		}
		// The row's own columns must say what its event says, and the row
		// must point at the event that made it.
		if got.ID != id || got.Number != number || got.Kind != kind || ts(got.At) != at || got.Site != site ||
			got.Vehicle != vehicle || got.CatalogueVersion != catVersion || got.RefundOf != refundOf || seq != want.seq {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: fmt.Sprintf("sale %d's row differs from its event", number)}
		}
		if terminal.SaleState(state) != want.state(got.State) {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: fmt.Sprintf("sale %d differs from its events", got.Number)}
		}
		seen++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if seen != len(sales) {
		return &terminal.AuditError{Table: "sales", Reason: fmt.Sprintf("%d sales recorded in events, %d in the table", len(sales), seen)}
	}
	return db.verifyRows(ctx, st)
}

// auditSale is what the events say of a sale: the event that made it and
// what became of it since (voided or settled; zero: as it was made).
type auditSale struct {
	seq   int64
	after auditAfter
}

// auditAfter is what became of a sale after it was made.
type auditAfter uint8

const (
	_ auditAfter = iota // as it was made
	afterVoid
	afterSettle
)

// state is the sale's state, made as made.
func (a auditSale) state(made terminal.SaleState) terminal.SaleState {
	switch a.after {
	case afterVoid:
		return terminal.SaleVoided
	case afterSettle:
		return terminal.SaleSettled
	}
	return made
}

// replay applies an event to the sales it describes.
func replay(sales map[auditKey]auditSale, e *terminal.Event) error {
	var p struct {
		ID     string `json:"id"`
		SaleID string `json:"sale_id"`
		Refund struct {
			ID string `json:"id"`
		} `json:"refund"`
	}
	switch e.Type {
	case terminal.EventSaleCreated, terminal.EventSaleRefunded, terminal.EventSaleVoided:
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return fmt.Errorf("unreadable %s: %w", e.Type, err)
		}
	case terminal.EventPassSettled:
		if json.Unmarshal(e.Payload, &p) != nil {
			return nil // a settlement of a pass from elsewhere settles no sale here
		}
	}
	switch e.Type {
	case terminal.EventSaleCreated:
		sales[keyOf(p.ID)] = auditSale{seq: e.Seq}
	case terminal.EventSaleRefunded:
		sales[keyOf(p.Refund.ID)] = auditSale{seq: e.Seq}
	case terminal.EventSaleVoided:
		k := keyOf(p.SaleID)
		s, ok := sales[k]
		if !ok {
			return fmt.Errorf("void of an unknown sale")
		}
		s.after = afterVoid
		sales[k] = s
	case terminal.EventPassSettled:
		if s, ok := sales[keyOf(p.SaleID)]; ok {
			s.after = afterSettle
			sales[keyOf(p.SaleID)] = s
		}
	}
	return nil
}
