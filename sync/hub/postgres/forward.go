package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
)

// The queue of bills and reversals owed to the national platform, and
// its prepaid tickets: as the embedded store keeps them
// (sync/hub/sqlite/forward.go, tickets.go), with the claim made by
// SELECT … FOR UPDATE SKIP LOCKED, so several hub processes take
// different rows without waiting on each other.

// ForwardCursors implements hub.Store.
func (s *Store) ForwardCursors(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT terminal, seq FROM forward_cursors`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("forward cursors: %w", err))
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
	return s.write(ctx, func(tx pgx.Tx) error {
		touched := map[string]bool{}
		for _, f := range b.Bills {
			if f.Kind != hub.ForwardBill && f.Kind != hub.ForwardRedemption {
				return fmt.Errorf("enqueue forwards: %s %s is not a bill or a redemption", f.Kind, f.Ref)
			}
			_, err := tx.Exec(ctx, `INSERT INTO forwards (ref, kind, sale_key, site, terminal, seq, at, body, next_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
				f.Ref, f.Kind, f.SaleKey, f.Site, f.Terminal, f.Seq, ts(f.At), []byte(f.Body), ts(f.NextAt), at)
			if err != nil {
				return unavailable(fmt.Errorf("enqueue forwards: %w", err))
			}
			touched[f.SaleKey] = true
		}
		for _, v := range b.Voids {
			_, err := tx.Exec(ctx, `INSERT INTO forward_voids (sale_key, site, terminal, seq, body, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
				v.SaleKey, v.Site, v.Terminal, v.Seq, []byte(v.Body), ts(v.At))
			if err != nil {
				return unavailable(fmt.Errorf("enqueue forwards: void: %w", err))
			}
			touched[v.SaleKey] = true
		}
		for key := range touched {
			// Every bill of a voided sale, whichever arrived first, gets
			// its reversal; one of a refused bill is refused with it.
			_, err := tx.Exec(ctx, `INSERT INTO forwards (ref, kind, sale_key, site, terminal, seq, at, body, state, error, message, next_at, created_at, done_at)
				SELECT f.ref, 'reversal', f.sale_key, v.site, v.terminal, v.seq, v.at, v.body,
					CASE f.state WHEN 'refused' THEN 'refused' ELSE 'pending' END,
					CASE f.state WHEN 'refused' THEN 'bill_refused' ELSE '' END,
					CASE f.state WHEN 'refused' THEN 'its bill was refused: ' || f.message ELSE '' END,
					$1, $1, CASE f.state WHEN 'refused' THEN $1 END
				FROM forwards f JOIN forward_voids v ON v.sale_key = f.sale_key
				WHERE f.sale_key = $2 AND f.kind = 'bill' AND f.at <= v.at
				ON CONFLICT DO NOTHING`, at, key)
			if err != nil {
				return unavailable(fmt.Errorf("enqueue forwards: reversals: %w", err))
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO forward_cursors (terminal, seq) VALUES ($1, $2)
			ON CONFLICT (terminal) DO UPDATE SET seq = greatest(forward_cursors.seq, excluded.seq)`, b.TerminalID, b.ThroughSeq)
		if err != nil {
			return unavailable(fmt.Errorf("enqueue forwards: cursor: %w", err))
		}
		return nil
	})
}

const forwardCols = `ref, kind, sale_key, site, terminal, seq, at, body, state, attempts, next_at, bill_number, error, message, created_at, done_at`

func scanForward(row pgx.Row, extra ...any) (hub.Forward, error) {
	var f hub.Forward
	var body []byte
	var at, next, created string
	var done *string
	dst := append(extra, &f.Ref, &f.Kind, &f.SaleKey, &f.Site, &f.Terminal, &f.Seq, &at, &body, &f.State, &f.Attempts, &next, &f.BillNumber,
		&f.Error, &f.Message, &created, &done)
	if err := row.Scan(dst...); err != nil {
		return f, err
	}
	f.At, f.Body, f.NextAt, f.CreatedAt, f.DoneAt = parseTS(at), body, parseTS(next), parseTS(created), nullTS(done)
	return f, nil
}

// ClaimForwards implements hub.Store.
func (s *Store) ClaimForwards(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]hub.Forward, error) {
	if owner == "" || limit <= 0 {
		return nil, errors.New("claim forwards: an owner and a positive limit are needed")
	}
	var out []hub.Forward
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		n := ts(now)
		rows, err := tx.Query(ctx, `SELECT f.n, `+forwardCols+` FROM forwards f
			WHERE f.state = 'pending' AND f.next_at <= $1 AND (f.lease_until IS NULL OR f.lease_until <= $1 OR f.lease_owner = $2)
			AND (f.kind != 'reversal' OR EXISTS (SELECT 1 FROM forwards b WHERE b.ref = f.ref AND b.kind = 'bill' AND b.state = 'posted'))
			ORDER BY f.next_at, f.n LIMIT $3 FOR UPDATE OF f SKIP LOCKED`, n, owner, limit)
		if err != nil {
			return unavailable(fmt.Errorf("claim forwards: %w", err))
		}
		var ns []int64
		for rows.Next() {
			var k int64
			f, err := scanForward(rows, &k)
			if err != nil {
				rows.Close()
				return fmt.Errorf("claim forwards: %w", err)
			}
			ns = append(ns, k)
			out = append(out, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return unavailable(fmt.Errorf("claim forwards: %w", err))
		}
		if len(ns) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE forwards SET lease_owner = $1, lease_until = $2 WHERE n = ANY($3)`, owner, ts(now.Add(lease)), ns); err != nil {
			return unavailable(fmt.Errorf("claim forwards: %w", err))
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
	var done *string
	if !f.DoneAt.IsZero() {
		d := ts(f.DoneAt)
		done = &d
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		q := `UPDATE forwards SET state = $1, attempts = $2, next_at = $3, bill_number = $4, error = $5, message = $6, done_at = $7, tried_at = $8,
			lease_owner = NULL, lease_until = NULL WHERE ref = $9 AND kind = $10 AND state = 'pending'`
		args := []any{f.State, f.Attempts, ts(f.NextAt), f.BillNumber, f.Error, f.Message, done, ts(now), f.Ref, f.Kind}
		if f.State == hub.ForwardPending {
			// A retry or a release: only by the lease's holder (or once
			// its lease is over).
			q += ` AND (lease_owner IS NULL OR lease_owner = $11 OR lease_until <= $8)`
			args = append(args, owner)
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return unavailable(fmt.Errorf("finish forward %s: %w", f.Ref, err))
		}
		if res.RowsAffected() == 1 && f.Kind == hub.ForwardBill && f.State == hub.ForwardRefused {
			_, err := tx.Exec(ctx, `UPDATE forwards SET state = 'refused', error = 'bill_refused', message = $1, done_at = $2,
				lease_owner = NULL, lease_until = NULL WHERE ref = $3 AND kind = 'reversal' AND state = 'pending'`, "its bill was refused: "+f.Message, ts(now), f.Ref)
			if err != nil {
				return unavailable(fmt.Errorf("finish forward %s: %w", f.Ref, err))
			}
		}
		return nil
	})
}

// ForwardSummary implements hub.Store.
func (s *Store) ForwardSummary(ctx context.Context) (hub.ForwardSummary, error) {
	out := hub.ForwardSummary{Posted: map[string]int{}, Pending: map[string]int{}, Refused: map[string]int{}}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return out, unavailable(fmt.Errorf("forward summary: %w", err))
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT state, kind, sum(n)::bigint FROM forward_counts GROUP BY state, kind`)
	if err != nil {
		return out, unavailable(fmt.Errorf("forward summary: %w", err))
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
	var oldest *string
	if err := tx.QueryRow(ctx, `SELECT min(created_at) FROM forwards WHERE state = 'pending'`).Scan(&oldest); err != nil {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	out.OldestPending = nullTS(oldest)
	err = tx.QueryRow(ctx, `SELECT message FROM forwards WHERE state = 'pending' AND tried_at IS NOT NULL AND message != '' ORDER BY tried_at DESC LIMIT 1`).Scan(&out.LastError)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("forward summary: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT `+forwardCols+` FROM forwards WHERE state = 'refused' ORDER BY n LIMIT 1000`)
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

// TicketList implements hub.Store.
func (s *Store) TicketList(ctx context.Context, site, day string) (hub.TicketList, bool, error) {
	l := hub.TicketList{Site: site, Day: day}
	var fetched, errAt *string
	err := s.pool.QueryRow(ctx, `SELECT cursor, fetched_at, error, error_at, (SELECT count(*) FROM tickets WHERE site = l.site AND day = l.day)
		FROM ticket_lists l WHERE site = $1 AND day = $2`, site, day).Scan(&l.Cursor, &fetched, &l.Error, &errAt, &l.Tickets)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, unavailable(fmt.Errorf("ticket list: %w", err))
	}
	l.FetchedAt, l.ErrorAt = nullTS(fetched), nullTS(errAt)
	return l, true, nil
}

// PutTickets implements hub.Store.
func (s *Store) PutTickets(ctx context.Context, site, day, cursor string, tickets []hub.Ticket, max int, at time.Time) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		// One list's pages one at a time, whichever process fetched them.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('tickets:' || $1 || ':' || $2))`, site, day); err != nil {
			return unavailable(err)
		}
		for _, t := range tickets {
			var vehicle []byte
			if len(t.Vehicle) > 0 && string(t.Vehicle) != "null" {
				vehicle = t.Vehicle
			}
			// A new row (a new change number) for a ticket new or changed.
			if _, err := tx.Exec(ctx, `DELETE FROM tickets WHERE ticket_no = $1`, t.No); err != nil {
				return unavailable(fmt.Errorf("put tickets: %w", err))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tickets (ticket_no, site, day, valid_from, valid_to, party, vehicle, status, fetched_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, t.No, site, day, ts(t.ValidFrom), ts(t.ValidTo), []byte(t.Party), vehicle, t.Status, ts(at)); err != nil {
				return unavailable(fmt.Errorf("put tickets: %w", err))
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE site = $1 AND day = $2`, site, day).Scan(&n); err != nil {
			return unavailable(fmt.Errorf("put tickets: %w", err))
		}
		if n > max {
			return fmt.Errorf("%w: %d for %s on %s; at most %d", hub.ErrTooManyTickets, n, site, day, max)
		}
		_, err := tx.Exec(ctx, `INSERT INTO ticket_lists (site, day, cursor, fetched_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (site, day) DO UPDATE SET cursor = excluded.cursor, fetched_at = excluded.fetched_at, error = '', error_at = NULL`,
			site, day, cursor, ts(at))
		if err != nil {
			return unavailable(fmt.Errorf("put tickets: %w", err))
		}
		return nil
	})
}

// RefuseTicketList implements hub.Store.
func (s *Store) RefuseTicketList(ctx context.Context, site, day, reason string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO ticket_lists (site, day, error, error_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (site, day) DO UPDATE SET error = excluded.error, error_at = excluded.error_at`, site, day, reason, ts(at))
	if err != nil {
		return unavailable(fmt.Errorf("refuse ticket list: %w", err))
	}
	return nil
}

// TicketLists implements hub.Store.
func (s *Store) TicketLists(ctx context.Context) ([]hub.TicketList, error) {
	rows, err := s.pool.Query(ctx, `SELECT l.site, l.day, l.cursor, l.fetched_at, l.error, l.error_at,
		(SELECT count(*) FROM tickets t WHERE t.site = l.site AND t.day = l.day) FROM ticket_lists l ORDER BY l.site, l.day`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("ticket lists: %w", err))
	}
	defer rows.Close()
	var out []hub.TicketList
	for rows.Next() {
		var l hub.TicketList
		var fetched, errAt *string
		if err := rows.Scan(&l.Site, &l.Day, &l.Cursor, &fetched, &l.Error, &errAt, &l.Tickets); err != nil {
			return nil, fmt.Errorf("ticket lists: %w", err)
		}
		l.FetchedAt, l.ErrorAt = nullTS(fetched), nullTS(errAt)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Tickets implements hub.Store.
func (s *Store) Tickets(ctx context.Context, site string, after int64, limit int) ([]hub.Ticket, error) {
	rows, err := s.pool.Query(ctx, `SELECT n, ticket_no, day, valid_from, valid_to, party, vehicle, status, fetched_at
		FROM tickets WHERE site = $1 AND n > $2 ORDER BY n LIMIT $3`, site, after, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("tickets: %w", err))
	}
	defer rows.Close()
	var out []hub.Ticket
	for rows.Next() {
		t := hub.Ticket{Site: site}
		var from, to, fetched string
		var party, vehicle []byte
		if err := rows.Scan(&t.N, &t.No, &t.Day, &from, &to, &party, &vehicle, &t.Status, &fetched); err != nil {
			return nil, fmt.Errorf("tickets: %w", err)
		}
		t.ValidFrom, t.ValidTo, t.FetchedAt, t.Party = parseTS(from), parseTS(to), parseTS(fetched), party
		if vehicle != nil {
			t.Vehicle = vehicle
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
