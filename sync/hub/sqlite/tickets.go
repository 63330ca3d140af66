package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/sync/hub"
)

// TicketList implements hub.Store.
func (s *Store) TicketList(ctx context.Context, site, day string) (hub.TicketList, bool, error) {
	l := hub.TicketList{Site: site, Day: day}
	var fetched, errAt sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT cursor, fetched_at, error, error_at, (SELECT count(*) FROM tickets WHERE site = l.site AND day = l.day)
		FROM ticket_lists l WHERE site = ? AND day = ?`, site, day).Scan(&l.Cursor, &fetched, &l.Error, &errAt, &l.Tickets)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("ticket list: %w", err)
	}
	l.FetchedAt, l.ErrorAt = nullTS(fetched), nullTS(errAt)
	return l, true, nil
}

// PutTickets implements hub.Store.
func (s *Store) PutTickets(ctx context.Context, site, day, cursor string, tickets []hub.Ticket, max int, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, t := range tickets {
			var vehicle []byte
			if len(t.Vehicle) > 0 && string(t.Vehicle) != "null" {
				vehicle = t.Vehicle
			}
			// A new row (a new change number) for a ticket new or changed.
			if _, err := tx.ExecContext(ctx, `DELETE FROM tickets WHERE ticket_no = ?`, t.No); err != nil {
				return fmt.Errorf("put tickets: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (ticket_no, site, day, valid_from, valid_to, party, vehicle, status, fetched_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.No, site, day, ts(t.ValidFrom), ts(t.ValidTo), []byte(t.Party), vehicle, t.Status, ts(at)); err != nil {
				return fmt.Errorf("put tickets: %w", err)
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE site = ? AND day = ?`, site, day).Scan(&n); err != nil {
			return fmt.Errorf("put tickets: %w", err)
		}
		if n > max {
			return fmt.Errorf("%w: %d for %s on %s; at most %d", hub.ErrTooManyTickets, n, site, day, max)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_lists (site, day, cursor, fetched_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (site, day) DO UPDATE SET cursor = excluded.cursor, fetched_at = excluded.fetched_at, error = '', error_at = NULL`,
			site, day, cursor, ts(at))
		if err != nil {
			return fmt.Errorf("put tickets: %w", err)
		}
		return nil
	})
}

// RefuseTicketList implements hub.Store.
func (s *Store) RefuseTicketList(ctx context.Context, site, day, reason string, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_lists (site, day, error, error_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (site, day) DO UPDATE SET error = excluded.error, error_at = excluded.error_at`, site, day, reason, ts(at))
		if err != nil {
			return fmt.Errorf("refuse ticket list: %w", err)
		}
		return nil
	})
}

// TicketLists implements hub.Store.
func (s *Store) TicketLists(ctx context.Context) ([]hub.TicketList, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT l.site, l.day, l.cursor, l.fetched_at, l.error, l.error_at,
		(SELECT count(*) FROM tickets t WHERE t.site = l.site AND t.day = l.day) FROM ticket_lists l ORDER BY l.site, l.day`)
	if err != nil {
		return nil, fmt.Errorf("ticket lists: %w", err)
	}
	defer rows.Close()
	var out []hub.TicketList
	for rows.Next() {
		var l hub.TicketList
		var fetched, errAt sql.NullString
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
	rows, err := s.r.QueryContext(ctx, `SELECT n, ticket_no, day, valid_from, valid_to, party, vehicle, status, fetched_at
		FROM tickets WHERE site = ? AND n > ? ORDER BY n LIMIT ?`, site, after, limit)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
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
