package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/mpesa"
)

// keepMpesa keeps the report's lines of codes again (hub.MpesaChanges),
// in tx: after Apply inserted their facts, or the ledger changed what it
// holds of one (migrations/0017_report_mpesa.sql). facts, when Apply
// has them (hub.ReportDelta.MpesaFacts), are every fact of each code, not
// read again.
func keepMpesa(ctx context.Context, tx *sql.Tx, codes []string, facts map[string][]hub.ReportFact) error {
	held := hub.MpesaHeld{Facts: facts, Payments: map[string]mpesa.Payment{}, Queries: map[string]mpesa.Query{}, Kept: map[string]hub.MpesaCode{}}
	if facts == nil {
		held.Facts = map[string][]hub.ReportFact{}
	}
	for rest := codes; len(rest) > 0; {
		n := min(len(rest), reportChunk)
		args := make([]any, n)
		for i, c := range rest[:n] {
			args[i] = c
		}
		in := `(?` + strings.Repeat(", ?", n-1) + `)`
		if facts == nil {
			rows, err := tx.QueryContext(ctx, `SELECT grp, key, kind, site, terminal, seq, n, body FROM report_facts WHERE grp = '`+hub.FactMpesa+`' AND key IN `+in, args...)
			if err != nil {
				return fmt.Errorf("report state: M-PESA facts: %w", err)
			}
			fs, err := scanFacts(rows)
			if err != nil {
				return fmt.Errorf("report state: M-PESA facts: %w", err)
			}
			for _, f := range fs {
				held.Facts[f.Key] = append(held.Facts[f.Key], f)
			}
		}
		if err := scanRows(ctx, tx, `SELECT code, amount, account, short_code, at, source FROM mpesa_payments WHERE code IN `+in, args, func(r *sql.Rows) error {
			var p mpesa.Payment
			var at string
			if err := r.Scan(&p.Code, &p.Amount, &p.Account, &p.ShortCode, &at, &p.Source); err != nil {
				return err
			}
			p.At = parseTS(at)
			held.Payments[p.Code] = p
			return nil
		}); err != nil {
			return fmt.Errorf("report state: M-PESA payments: %w", err)
		}
		if err := scanRows(ctx, tx, `SELECT code, conversation_id, asked_at, result_code, result_desc, answered_at FROM mpesa_queries WHERE code IN `+in, args, func(r *sql.Rows) error {
			var q mpesa.Query
			var asked string
			var answered sql.NullString
			var rc sql.NullInt64
			if err := r.Scan(&q.Code, &q.ConversationID, &asked, &rc, &q.ResultDesc, &answered); err != nil {
				return err
			}
			q.AskedAt, q.AnsweredAt = parseTS(asked), nullTS(answered)
			q.Answered, q.ResultCode = rc.Valid, int(rc.Int64)
			held.Queries[q.Code] = q
			return nil
		}); err != nil {
			return fmt.Errorf("report state: M-PESA queries: %w", err)
		}
		if err := scanRows(ctx, tx, `SELECT code, terminal, status, paybill, recorded, paid, line FROM report_mpesa_codes WHERE code IN `+in, args, func(r *sql.Rows) error {
			var c hub.MpesaCode
			if err := r.Scan(&c.Code, &c.Terminal, &c.Status, &c.Paybill, &c.Recorded, &c.Paid, &c.Line); err != nil {
				return err
			}
			held.Kept[c.Code] = c
			return nil
		}); err != nil {
			return fmt.Errorf("report state: M-PESA lines: %w", err)
		}
		rest = rest[n:]
	}
	rows, deltas, err := hub.MpesaChanges(codes, held)
	if err != nil {
		return fmt.Errorf("report state: %w", err)
	}
	// The lines in chunks, one statement each: a drain's batch brings a
	// new code with nearly every sale (one statement a code was a quarter
	// of the embedded hub's ingest).
	for rest := rows; len(rest) > 0; {
		n := min(len(rest), reportChunk)
		args := make([]any, 0, 7*n)
		for _, c := range rest[:n] {
			args = append(args, c.Code, c.Terminal, c.Status, c.Paybill, c.Recorded, c.Paid, c.Line)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_mpesa_codes (code, terminal, status, paybill, recorded, paid, line) VALUES `+
			strings.Repeat(", (?, ?, ?, ?, ?, ?, ?)", n)[2:]+`
			ON CONFLICT DO UPDATE SET terminal = excluded.terminal, status = excluded.status, paybill = excluded.paybill, recorded = excluded.recorded,
				paid = excluded.paid, line = excluded.line`, args...); err != nil {
			return fmt.Errorf("report state: M-PESA lines: %w", err)
		}
		rest = rest[n:]
	}
	for _, d := range deltas {
		if _, err := tx.ExecContext(ctx, `INSERT INTO report_mpesa_totals (terminal, status, paybill, codes, recorded, paid) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET codes = codes + excluded.codes, recorded = recorded + excluded.recorded, paid = paid + excluded.paid`,
			d.Terminal, d.Status, d.Paybill, d.Codes, d.Recorded, d.Paid); err != nil {
			return fmt.Errorf("report state: M-PESA totals: %w", err)
		}
	}
	return nil
}

func scanRows(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// mpesaState reads the M-PESA section's state: the lines not matched and
// the totals summed over terminals.
func mpesaState(ctx context.Context, tx *sql.Tx, st *hub.ReportState) error {
	rows, err := tx.QueryContext(ctx, `SELECT line FROM report_mpesa_codes WHERE line IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("report state: M-PESA lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return fmt.Errorf("report state: M-PESA lines: %w", err)
		}
		st.MpesaLines = append(st.MpesaLines, b)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report state: M-PESA lines: %w", err)
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT status, paybill, sum(codes), sum(recorded), sum(paid) FROM report_mpesa_totals GROUP BY status, paybill HAVING sum(codes) > 0`)
	if err != nil {
		return fmt.Errorf("report state: M-PESA totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t mpesa.Total
		if err := rows.Scan(&t.Status, &t.Paybill, &t.Codes, &t.Recorded, &t.Paid); err != nil {
			return fmt.Errorf("report state: M-PESA totals: %w", err)
		}
		st.MpesaTotals = append(st.MpesaTotals, t)
	}
	return rows.Err()
}
