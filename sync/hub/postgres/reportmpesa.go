package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/mpesa"
)

// keepMpesa keeps the report's lines of codes again (hub.MpesaChanges),
// in tx: after Apply inserted their facts (with the codes' groups locked
// already), or, with lock, after the ledger changed what it holds of one
// (migrations/0009_report_mpesa.sql). The lock is the one Apply takes on
// the code's group of facts: a tender and its payment recorded at once by
// two processes see each other, one after the other.
func keepMpesa(ctx context.Context, tx pgx.Tx, codes []string, lock bool) error {
	held := hub.MpesaHeld{Facts: map[string][]hub.ReportFact{}, Payments: map[string]mpesa.Payment{}, Queries: map[string]mpesa.Query{}, Kept: map[string]hub.MpesaCode{}}
	batch := &pgx.Batch{}
	nlocks := 0
	if lock {
		keys := make([]hub.ReportKey, len(codes))
		for i, c := range codes {
			keys[i] = hub.ReportKey{Group: hub.FactMpesa, Key: c}
		}
		nlocks = queueReportLocks(batch, keys, nil)
	}
	batch.Queue(`SELECT grp, key, kind, site, terminal, seq, n, body FROM report_facts WHERE grp = $1 AND key = ANY($2)`, hub.FactMpesa, codes)
	batch.Queue(`SELECT code, amount, account, short_code, at, source FROM mpesa_payments WHERE code = ANY($1)`, codes)
	batch.Queue(`SELECT code, conversation_id, asked_at, result_code, result_desc, answered_at FROM mpesa_queries WHERE code = ANY($1)`, codes)
	batch.Queue(`SELECT code, terminal, status, paybill, recorded, paid, line FROM report_mpesa_codes WHERE code = ANY($1)`, codes)
	br := tx.SendBatch(ctx, batch)
	err := func() error {
		for range nlocks {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		fs, err := scanFacts(rows)
		if err != nil {
			return err
		}
		for _, f := range fs {
			held.Facts[f.Key] = append(held.Facts[f.Key], f)
		}
		rows, err = br.Query()
		if err != nil {
			return err
		}
		var p mpesa.Payment
		var at string
		if _, err := pgx.ForEachRow(rows, []any{&p.Code, &p.Amount, &p.Account, &p.ShortCode, &at, &p.Source}, func() error {
			p.At = parseTS(at)
			held.Payments[p.Code] = p
			return nil
		}); err != nil {
			return err
		}
		rows, err = br.Query()
		if err != nil {
			return err
		}
		var q mpesa.Query
		var asked string
		var answered *string
		var rc *int64
		if _, err := pgx.ForEachRow(rows, []any{&q.Code, &q.ConversationID, &asked, &rc, &q.ResultDesc, &answered}, func() error {
			q.AskedAt, q.AnsweredAt = parseTS(asked), nullTS(answered)
			q.Answered, q.ResultCode = rc != nil, 0
			if rc != nil {
				q.ResultCode = int(*rc)
			}
			held.Queries[q.Code] = q
			return nil
		}); err != nil {
			return err
		}
		rows, err = br.Query()
		if err != nil {
			return err
		}
		var c hub.MpesaCode
		_, err = pgx.ForEachRow(rows, []any{&c.Code, &c.Terminal, &c.Status, &c.Paybill, &c.Recorded, &c.Paid, &c.Line}, func() error {
			c.Line = slices.Clone(c.Line)
			held.Kept[c.Code] = c
			return nil
		})
		return err
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return unavailable(fmt.Errorf("report state: M-PESA: %w", err))
	}
	lines, deltas, err := hub.MpesaChanges(codes, held)
	if err != nil {
		return fmt.Errorf("report state: %w", err)
	}
	batch = &pgx.Batch{}
	if n := len(lines); n > 0 {
		code, term, status, paybill := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		recorded, paid, line := make([]int64, n), make([]int64, n), make([][]byte, n)
		for i, c := range lines {
			code[i], term[i], status[i], paybill[i], recorded[i], paid[i], line[i] = c.Code, c.Terminal, c.Status, c.Paybill, c.Recorded, c.Paid, c.Line
		}
		batch.Queue(`INSERT INTO report_mpesa_codes (code, terminal, status, paybill, recorded, paid, line)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bytea[])
			ON CONFLICT (code) DO UPDATE SET terminal = excluded.terminal, status = excluded.status, paybill = excluded.paybill,
				recorded = excluded.recorded, paid = excluded.paid, line = excluded.line`, code, term, status, paybill, recorded, paid, line)
	}
	if n := len(deltas); n > 0 {
		// In one order: two transactions moving codes between the same
		// terminals' rows take their row locks in it.
		slices.SortFunc(deltas, func(a, b hub.MpesaTotalDelta) int {
			return cmp.Or(cmp.Compare(a.Terminal, b.Terminal), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Paybill, b.Paybill))
		})
		term, status, paybill := make([]string, n), make([]string, n), make([]string, n)
		codes, recorded, paid := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, d := range deltas {
			term[i], status[i], paybill[i], codes[i], recorded[i], paid[i] = d.Terminal, d.Status, d.Paybill, int64(d.Codes), d.Recorded, d.Paid
		}
		batch.Queue(`INSERT INTO report_mpesa_totals (terminal, status, paybill, codes, recorded, paid)
			SELECT t, s, p, c, r, pd FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS d(t, s, p, c, r, pd, i) ORDER BY i
			ON CONFLICT (terminal, status, paybill) DO UPDATE SET codes = report_mpesa_totals.codes + excluded.codes,
				recorded = report_mpesa_totals.recorded + excluded.recorded, paid = report_mpesa_totals.paid + excluded.paid`,
			term, status, paybill, codes, recorded, paid)
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return unavailable(fmt.Errorf("report state: M-PESA: %w", err))
	}
	return nil
}

// mpesaState reads the M-PESA section's state: the lines not matched and
// the totals summed over terminals.
func mpesaState(ctx context.Context, tx pgx.Tx, st *hub.ReportState) error {
	rows, _ := tx.Query(ctx, `SELECT line FROM report_mpesa_codes WHERE line IS NOT NULL`)
	var err error
	if st.MpesaLines, err = pgx.CollectRows(rows, pgx.RowTo[[]byte]); err != nil {
		return unavailable(fmt.Errorf("report state: M-PESA lines: %w", err))
	}
	rows, _ = tx.Query(ctx, `SELECT status, paybill, sum(codes)::bigint, sum(recorded)::bigint, sum(paid)::bigint FROM report_mpesa_totals
		GROUP BY status, paybill HAVING sum(codes) > 0`)
	st.MpesaTotals, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (mpesa.Total, error) {
		var t mpesa.Total
		var n int64
		err := r.Scan(&t.Status, &t.Paybill, &n, &t.Recorded, &t.Paid)
		t.Codes = int(n)
		return t, err
	})
	if err != nil {
		return unavailable(fmt.Errorf("report state: M-PESA totals: %w", err))
	}
	return nil
}
