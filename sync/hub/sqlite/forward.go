package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/sync/hub"
)

// ForwardCursors implements hub.Store.
func (s *Store) ForwardCursors(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT terminal, seq FROM forward_cursors`)
	if err != nil {
		return nil, fmt.Errorf("forward cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, fmt.Errorf("forward cursors: %w", err)
		}
		out[id] = seq
	}
	return out, rows.Err()
}

// EnqueueForwards implements hub.Store.
func (s *Store) EnqueueForwards(ctx context.Context, b hub.ForwardBatch) error {
	at := ts(b.At)
	return s.write(ctx, func(tx *sql.Tx) error {
		touched := map[string]bool{}
		for _, f := range b.Bills {
			if f.Kind != hub.ForwardBill && f.Kind != hub.ForwardRedemption {
				return fmt.Errorf("enqueue forwards: %s %s is not a bill or a redemption", f.Kind, f.Ref)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO forwards (ref, kind, sale_key, site, terminal, seq, at, body, next_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				f.Ref, f.Kind, f.SaleKey, f.Site, f.Terminal, f.Seq, ts(f.At), []byte(f.Body), ts(f.NextAt), at)
			if err != nil {
				return fmt.Errorf("enqueue forwards: %w", err)
			}
			touched[f.SaleKey] = true
		}
		for _, v := range b.Voids {
			_, err := tx.ExecContext(ctx, `INSERT INTO forward_voids (sale_key, site, terminal, seq, body, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				v.SaleKey, v.Site, v.Terminal, v.Seq, []byte(v.Body), ts(v.At))
			if err != nil {
				return fmt.Errorf("enqueue forwards: void: %w", err)
			}
			touched[v.SaleKey] = true
		}
		for key := range touched {
			// Every bill of a voided sale, whichever arrived first, gets
			// its reversal; one of a refused bill is refused with it.
			_, err := tx.ExecContext(ctx, `INSERT INTO forwards (ref, kind, sale_key, site, terminal, seq, at, body, state, error, message, next_at, created_at, done_at)
				SELECT f.ref, 'reversal', f.sale_key, v.site, v.terminal, v.seq, v.at, v.body,
					CASE f.state WHEN 'refused' THEN 'refused' ELSE 'pending' END,
					CASE f.state WHEN 'refused' THEN 'bill_refused' ELSE '' END,
					CASE f.state WHEN 'refused' THEN 'its bill was refused: ' || f.message ELSE '' END,
					?, ?, CASE f.state WHEN 'refused' THEN ? END
				FROM forwards f JOIN forward_voids v ON v.sale_key = f.sale_key
				WHERE f.sale_key = ? AND f.kind = 'bill' AND f.at <= v.at
				ON CONFLICT DO NOTHING`, at, at, at, key)
			if err != nil {
				return fmt.Errorf("enqueue forwards: reversals: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO forward_cursors (terminal, seq) VALUES (?, ?)
			ON CONFLICT (terminal) DO UPDATE SET seq = max(seq, excluded.seq)`, b.TerminalID, b.ThroughSeq)
		if err != nil {
			return fmt.Errorf("enqueue forwards: cursor: %w", err)
		}
		return nil
	})
}

const forwardCols = `ref, kind, sale_key, site, terminal, seq, at, body, state, attempts, next_at, bill_number, error, message, created_at, done_at`

func scanForward(row interface{ Scan(...any) error }) (hub.Forward, error) {
	var f hub.Forward
	var body []byte
	var at, next, created string
	var done sql.NullString
	if err := row.Scan(&f.Ref, &f.Kind, &f.SaleKey, &f.Site, &f.Terminal, &f.Seq, &at, &body, &f.State, &f.Attempts, &next, &f.BillNumber,
		&f.Error, &f.Message, &created, &done); err != nil {
		return f, err
	}
	f.At, f.Body, f.NextAt, f.CreatedAt, f.DoneAt = parseTS(at), body, parseTS(next), parseTS(created), nullTS(done)
	return f, nil
}

// scanFunc makes a function a row for scanForward.
type scanFunc func(dst ...any) error

func (f scanFunc) Scan(dst ...any) error { return f(dst...) }

// ClaimForwards implements hub.Store. The write transaction (BEGIN
// IMMEDIATE) makes the select and the lease one step for every process on
// the file.
func (s *Store) ClaimForwards(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]hub.Forward, error) {
	if owner == "" || limit <= 0 {
		return nil, errors.New("claim forwards: an owner and a positive limit are needed")
	}
	var out []hub.Forward
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		n := ts(now)
		rows, err := tx.QueryContext(ctx, `SELECT n, `+forwardCols+` FROM forwards f
			WHERE f.state = 'pending' AND f.next_at <= ? AND (f.lease_until IS NULL OR f.lease_until <= ? OR f.lease_owner = ?)
			AND (f.kind != 'reversal' OR EXISTS (SELECT 1 FROM forwards b WHERE b.ref = f.ref AND b.kind = 'bill' AND b.state = 'posted'))
			ORDER BY f.next_at, f.n LIMIT ?`, n, n, owner, limit)
		if err != nil {
			return fmt.Errorf("claim forwards: %w", err)
		}
		var ns []int64
		for rows.Next() {
			var k int64
			f, err := scanForward(scanFunc(func(dst ...any) error { return rows.Scan(append([]any{&k}, dst...)...) }))
			if err != nil {
				rows.Close()
				return fmt.Errorf("claim forwards: %w", err)
			}
			ns = append(ns, k)
			out = append(out, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim forwards: %w", err)
		}
		until := ts(now.Add(lease))
		for _, k := range ns {
			if _, err := tx.ExecContext(ctx, `UPDATE forwards SET lease_owner = ?, lease_until = ? WHERE n = ?`, owner, until, k); err != nil {
				return fmt.Errorf("claim forwards: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FinishForward implements hub.Store.
func (s *Store) FinishForward(ctx context.Context, owner string, f hub.Forward, now time.Time) error {
	var done sql.NullString
	if !f.DoneAt.IsZero() {
		done = sql.NullString{String: ts(f.DoneAt), Valid: true}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		q := `UPDATE forwards SET state = ?, attempts = ?, next_at = ?, bill_number = ?, error = ?, message = ?, done_at = ?, tried_at = ?,
			lease_owner = NULL, lease_until = NULL WHERE ref = ? AND kind = ? AND state = 'pending'`
		args := []any{f.State, f.Attempts, ts(f.NextAt), f.BillNumber, f.Error, f.Message, done, ts(now), f.Ref, f.Kind}
		if f.State == hub.ForwardPending {
			// A retry or a release: only by the lease's holder (or once
			// its lease is over).
			q += ` AND (lease_owner IS NULL OR lease_owner = ? OR lease_until <= ?)`
			args = append(args, owner, ts(now))
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("finish forward %s: %w", f.Ref, err)
		}
		if n, _ := res.RowsAffected(); n == 1 && f.Kind == hub.ForwardBill && f.State == hub.ForwardRefused {
			_, err := tx.ExecContext(ctx, `UPDATE forwards SET state = 'refused', error = 'bill_refused', message = ?, done_at = ?,
				lease_owner = NULL, lease_until = NULL WHERE ref = ? AND kind = 'reversal' AND state = 'pending'`, "its bill was refused: "+f.Message, ts(now), f.Ref)
			if err != nil {
				return fmt.Errorf("finish forward %s: %w", f.Ref, err)
			}
		}
		return nil
	})
}

// ForwardSummary implements hub.Store.
func (s *Store) ForwardSummary(ctx context.Context) (hub.ForwardSummary, error) {
	out := hub.ForwardSummary{Posted: map[string]int{}, Pending: map[string]int{}, Refused: map[string]int{}}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT state, kind, n FROM forward_counts`)
	if err != nil {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	for rows.Next() {
		var state, kind string
		var n int
		if err := rows.Scan(&state, &kind, &n); err != nil {
			rows.Close()
			return out, fmt.Errorf("forward summary: %w", err)
		}
		switch state {
		case hub.ForwardPosted:
			out.Posted[kind] = n
		case hub.ForwardPending:
			out.Pending[kind] = n
		case hub.ForwardRefused:
			out.Refused[kind] = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	var oldest sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT min(created_at) FROM forwards WHERE state = 'pending'`).Scan(&oldest); err != nil {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	out.OldestPending = nullTS(oldest)
	err = tx.QueryRowContext(ctx, `SELECT message FROM forwards WHERE state = 'pending' AND tried_at IS NOT NULL AND message != '' ORDER BY tried_at DESC LIMIT 1`).Scan(&out.LastError)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+forwardCols+` FROM forwards WHERE state = 'refused' ORDER BY n LIMIT 1000`)
	if err != nil {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanForward(rows)
		if err != nil {
			return out, fmt.Errorf("forward summary: %w", err)
		}
		out.RefusedList = append(out.RefusedList, f)
	}
	return out, rows.Err()
}
