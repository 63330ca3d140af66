package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/terminal"
)

// reportChunk is how many rows of the report's state one statement
// reads or writes.
const reportChunk = 100

// keepReport takes the new applied events of one terminal into the
// report's state, in the transaction that applies them.
func keepReport(ctx context.Context, tx *sql.Tx, id, site, name string, events []terminal.Event) error {
	stored := make([]hub.StoredEvent, len(events))
	for i, e := range events {
		stored[i] = hub.StoredEvent{Event: e, Site: site, Name: name}
		stored[i].Terminal = id
	}
	return keepReportStored(ctx, tx, stored)
}

func keepReportStored(ctx context.Context, tx *sql.Tx, events []hub.StoredEvent) error {
	b := hub.NewReportBatch(events)
	keys := b.Lookups()
	var held []hub.ReportFact
	// One group at a time (keys come sorted by group), its keys in an IN
	// list: SQLite searches the primary key for that, where a row-value IN
	// (grp, key) would scan the table.
	for len(keys) > 0 {
		n := 1
		for n < len(keys) && n < reportChunk && keys[n].Group == keys[0].Group {
			n++
		}
		args := make([]any, 0, n+1)
		args = append(args, keys[0].Group)
		for _, k := range keys[:n] {
			args = append(args, k.Key)
		}
		rows, err := tx.QueryContext(ctx, `SELECT grp, key, kind, site, terminal, seq, n, body FROM report_facts WHERE grp = ? AND key IN (?`+
			strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("report state: %w", err)
		}
		fs, err := scanFacts(rows)
		if err != nil {
			return fmt.Errorf("report state: %w", err)
		}
		held = append(held, fs...)
		keys = keys[n:]
	}
	d := b.Changes(held)
	for rest := d.Facts; len(rest) > 0; {
		n := min(len(rest), reportChunk)
		args := make([]any, 0, 8*n)
		for _, f := range rest[:n] {
			args = append(args, f.Group, f.Key, f.Kind, f.Site, f.Terminal, f.Seq, f.N, f.Body)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_facts (grp, key, kind, site, terminal, seq, n, body) VALUES `+
			strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?)", n)[2:]+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("report state: facts: %w", err)
		}
		rest = rest[n:]
	}
	if len(d.Mpesa) > 0 {
		if err := keepMpesa(ctx, tx, d.Mpesa, d.MpesaFacts); err != nil {
			return err
		}
	}
	for _, t := range d.Takings {
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_takings (terminal, site, tender, currency, amount, tenders) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET amount = amount + excluded.amount, tenders = tenders + excluded.tenders`,
			t.Terminal, t.Site, t.Tender, t.Currency, t.Amount, t.Tenders); err != nil {
			return fmt.Errorf("report state: takings: %w", err)
		}
	}
	for _, k := range d.Settled {
		if _, err := tx.ExecContext(ctx, `DELETE FROM report_unsettled WHERE site = ? AND sale_id = ?`, k[0], k[1]); err != nil {
			return fmt.Errorf("report state: unsettled: %w", err)
		}
	}
	for _, u := range d.Unsettled {
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_unsettled (site, sale_id, terminal, seq, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			u.Site, u.SaleID, u.Terminal, u.Seq, u.Body); err != nil {
			return fmt.Errorf("report state: unsettled: %w", err)
		}
	}
	for _, k := range d.Hot {
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_hot (grp, key) VALUES (?, ?) ON CONFLICT DO NOTHING`, k.Group, k.Key); err != nil {
			return fmt.Errorf("report state: hot: %w", err)
		}
	}
	for _, r := range d.Refused {
		var err error
		if r.Body == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM report_refused WHERE terminal = ?`, r.Terminal)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO report_refused (terminal, body) VALUES (?, ?) ON CONFLICT DO UPDATE SET body = excluded.body`, r.Terminal, r.Body)
		}
		if err != nil {
			return fmt.Errorf("report state: catalogue refusals: %w", err)
		}
	}
	return nil
}

func scanFacts(rows *sql.Rows) ([]hub.ReportFact, error) {
	defer rows.Close()
	var out []hub.ReportFact
	for rows.Next() {
		var f hub.ReportFact
		if err := rows.Scan(&f.Group, &f.Key, &f.Kind, &f.Site, &f.Terminal, &f.Seq, &f.N, &f.Body); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// rebuildReport fills the report's state from the events held when it
// was built by another version of its rules (or not at all: a hub made
// before migration 0015), in one transaction.
func (s *Store) rebuildReport(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'report_state'`).Scan(&v)
		if err == nil && v == strconv.Itoa(hub.ReportStateVersion) {
			return nil
		}
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("report state: %w", err)
		}
		for _, t := range []string{"report_facts", "report_hot", "report_takings", "report_unsettled", "report_refused", "report_mpesa_codes", "report_mpesa_totals"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
				return fmt.Errorf("report state: %w", err)
			}
		}
		args := []any{int64(-1)}
		for _, t := range hub.ReportTypes {
			args = append(args, t)
		}
		q := `SELECT ` + eventCols + `, t.id, t.site, t.name, e.k FROM events e JOIN terminals t ON t.no = e.k >> ` + strconv.Itoa(seqBits) + `
			WHERE e.k > ? AND e.type IN (?` + strings.Repeat(", ?", len(hub.ReportTypes)-1) + `) ORDER BY e.k LIMIT 5000`
		for {
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("report state: %w", err)
			}
			var batch []hub.StoredEvent
			var last int64
			for rows.Next() {
				var se hub.StoredEvent
				var id string
				e, err := scanEvent(rows, "", &id, &se.Site, &se.Name, &last)
				if err != nil {
					rows.Close()
					return fmt.Errorf("report state: %w", err)
				}
				e.Terminal = id
				se.Event = e
				batch = append(batch, se)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("report state: %w", err)
			}
			if len(batch) == 0 {
				break
			}
			if err := keepReportStored(ctx, tx, batch); err != nil {
				return err
			}
			args[0] = last
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('report_state', ?) ON CONFLICT DO UPDATE SET value = excluded.value`,
			strconv.Itoa(hub.ReportStateVersion))
		return err
	})
}

// ReportState implements hub.Store, in one read transaction.
func (s *Store) ReportState(ctx context.Context, mpesa bool) (hub.ReportState, error) {
	var st hub.ReportState
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, fmt.Errorf("report state: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT site, tender, currency, sum(amount) FROM report_takings GROUP BY site, tender, currency HAVING sum(tenders) > 0`)
	if err != nil {
		return st, fmt.Errorf("report state: takings: %w", err)
	}
	for rows.Next() {
		var t hub.Taking
		if err := rows.Scan(&t.Site, &t.Tender, &t.Currency, &t.Amount); err != nil {
			rows.Close()
			return st, err
		}
		st.Takings = append(st.Takings, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	bodies := func(q string) ([][]byte, error) {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][]byte
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, rows.Err()
	}
	if st.Unsettled, err = bodies(`SELECT body FROM report_unsettled`); err != nil {
		return st, fmt.Errorf("report state: unsettled: %w", err)
	}
	if st.Refused, err = bodies(`SELECT r.body FROM report_refused r LEFT JOIN terminals t ON t.id = r.terminal ORDER BY t.no`); err != nil {
		return st, fmt.Errorf("report state: catalogue refusals: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT f.grp, f.key, f.kind, f.site, f.terminal, f.seq, f.n, f.body FROM report_hot h CROSS JOIN report_facts f ON f.grp = h.grp AND f.key = h.key`) // CROSS: the hot groups outside, probing the facts
	if err != nil {
		return st, fmt.Errorf("report state: facts: %w", err)
	}
	if st.Hot, err = scanFacts(rows); err != nil {
		return st, fmt.Errorf("report state: facts: %w", err)
	}
	if mpesa {
		if err := mpesaState(ctx, tx, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}
