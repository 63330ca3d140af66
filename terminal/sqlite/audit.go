package sqlite

import (
	"bytes"
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
func (db *DB) VerifyAudit(ctx context.Context) error {
	var v terminal.ChainVerifier
	sales := map[string]*terminal.Sale{}
	st := newAuditState()
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
	rows, err := db.db.QueryContext(ctx, `SELECT s.id, s.number, s.kind, s.at, s.site, s.vehicle, s.catalogue_version, coalesce(s.refund_of, ''), `+saleCols+saleFrom+` ORDER BY s.number`)
	if err != nil {
		return err
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var id, kind, at, site, vehicle, catVersion, refundOf string
		var number int64
		var doc, state string
		var void any
		if err := rows.Scan(&id, &number, &kind, &at, &site, &vehicle, &catVersion, &refundOf, &doc, &state, &void); err != nil {
			return err
		}
		want := sales[id]
		if want == nil {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: "no event records this sale"}
		}
		var got terminal.Sale
		if err := json.Unmarshal([]byte(doc), &got); err != nil {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: "unreadable: " + err.Error()}
		}
		// The row's own columns must say what its event says.
		if got.ID != id || got.Number != number || got.Kind != kind || ts(got.At) != at || got.Site != site ||
			got.Vehicle != vehicle || got.CatalogueVersion != catVersion || got.RefundOf != refundOf {
			return &terminal.AuditError{Table: "sales", Row: id, Reason: fmt.Sprintf("sale %d's row differs from its event", number)}
		}
		got.State, got.Void = terminal.SaleState(state), nil
		w := *want
		w.Void = nil
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(w)
		if !bytes.Equal(a, b) {
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

// replay applies an event to the sales it describes.
func replay(sales map[string]*terminal.Sale, e *terminal.Event) error {
	switch e.Type {
	case terminal.EventSaleCreated:
		var s terminal.Sale
		if err := json.Unmarshal(e.Payload, &s); err != nil {
			return fmt.Errorf("unreadable sale: %w", err)
		}
		sales[s.ID] = &s
	case terminal.EventSaleRefunded:
		var p struct{ Refund terminal.Sale }
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return fmt.Errorf("unreadable refund: %w", err)
		}
		sales[p.Refund.ID] = &p.Refund
	case terminal.EventSaleVoided:
		var p struct {
			SaleID string `json:"sale_id"`
		}
		if err := json.Unmarshal(e.Payload, &p); err != nil || sales[p.SaleID] == nil {
			return fmt.Errorf("void of an unknown sale")
		}
		sales[p.SaleID].State = terminal.SaleVoided
	case terminal.EventPassSettled:
		var p struct {
			SaleID string `json:"sale_id"`
		}
		if err := json.Unmarshal(e.Payload, &p); err == nil && sales[p.SaleID] != nil {
			sales[p.SaleID].State = terminal.SaleSettled
		}
	}
	return nil
}
