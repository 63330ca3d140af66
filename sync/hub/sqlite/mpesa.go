package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/sync/hub/mpesa"
)

// The M-PESA ledger (mpesa.Ledger, part of hub.Store), in the hub's
// database: migrations/0014_mpesa.sql.

// AddMpesaPayment implements hub.Store.
func (s *Store) AddMpesaPayment(ctx context.Context, p mpesa.Payment, now time.Time) (bool, error) {
	var added bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO mpesa_payments (code, amount, account, short_code, at, source, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
			p.Code, p.Amount, p.Account, p.ShortCode, ts(p.At), p.Source, ts(now))
		if err != nil {
			return fmt.Errorf("record M-PESA payment %s: %w", p.Code, err)
		}
		n, err := r.RowsAffected()
		if added = n == 1; err != nil || !added {
			return err
		}
		return keepMpesa(ctx, tx, []string{p.Code}, nil)
	})
	return added, err
}

// MpesaPayment implements hub.Store.
func (s *Store) MpesaPayment(ctx context.Context, code string) (mpesa.Payment, bool, error) {
	var p mpesa.Payment
	var at string
	err := s.r.QueryRowContext(ctx, `SELECT code, amount, account, short_code, at, source FROM mpesa_payments WHERE code = ?`, code).
		Scan(&p.Code, &p.Amount, &p.Account, &p.ShortCode, &at, &p.Source)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("M-PESA payment %s: %w", code, err)
	}
	p.At = parseTS(at)
	return p, true, nil
}

// AskedMpesa implements hub.Store.
func (s *Store) AskedMpesa(ctx context.Context, code, conversationID string, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO mpesa_queries (code, conversation_id, asked_at) VALUES (?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET conversation_id = excluded.conversation_id, asked_at = excluded.asked_at,
				result_code = NULL, result_desc = '', answered_at = NULL`,
			code, conversationID, ts(now))
		if err != nil {
			return fmt.Errorf("record M-PESA status query %s: %w", code, err)
		}
		return keepMpesa(ctx, tx, []string{code}, nil)
	})
}

// MpesaQuery implements hub.Store.
func (s *Store) MpesaQuery(ctx context.Context, code string) (mpesa.Query, bool, error) {
	var q mpesa.Query
	var asked string
	var answered sql.NullString
	var rc sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT code, conversation_id, asked_at, result_code, result_desc, answered_at FROM mpesa_queries WHERE code = ?`, code).
		Scan(&q.Code, &q.ConversationID, &asked, &rc, &q.ResultDesc, &answered)
	if errors.Is(err, sql.ErrNoRows) {
		return q, false, nil
	}
	if err != nil {
		return q, false, fmt.Errorf("M-PESA status query %s: %w", code, err)
	}
	q.AskedAt, q.AnsweredAt = parseTS(asked), nullTS(answered)
	q.Answered, q.ResultCode = rc.Valid, int(rc.Int64)
	return q, true, nil
}

// MpesaConversation implements hub.Store.
func (s *Store) MpesaConversation(ctx context.Context, conversationID string) (string, error) {
	var code string
	err := s.r.QueryRowContext(ctx, `SELECT code FROM mpesa_queries WHERE conversation_id = ?`, conversationID).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: %q", mpesa.ErrUnknownConversation, conversationID)
	}
	if err != nil {
		return "", fmt.Errorf("M-PESA conversation %q: %w", conversationID, err)
	}
	return code, nil
}

// AnsweredMpesa implements hub.Store.
func (s *Store) AnsweredMpesa(ctx context.Context, conversationID string, resultCode int, desc string, now time.Time) (string, error) {
	var code string
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE mpesa_queries SET result_code = ?, result_desc = ?, answered_at = ? WHERE conversation_id = ? RETURNING code`,
			resultCode, desc, ts(now), conversationID).Scan(&code)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", mpesa.ErrUnknownConversation, conversationID)
		}
		if err != nil {
			return fmt.Errorf("record M-PESA status result %q: %w", conversationID, err)
		}
		return keepMpesa(ctx, tx, []string{code}, nil)
	})
	return code, err
}

// MpesaPullCursor implements hub.Store.
func (s *Store) MpesaPullCursor(ctx context.Context, shortCode string) (time.Time, bool, error) {
	var through string
	err := s.r.QueryRowContext(ctx, `SELECT through FROM mpesa_pulls WHERE short_code = ?`, shortCode).Scan(&through)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("M-PESA pull cursor of %s: %w", shortCode, err)
	}
	return parseTS(through), true, nil
}

// SetMpesaPullCursor implements hub.Store.
func (s *Store) SetMpesaPullCursor(ctx context.Context, shortCode string, through time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO mpesa_pulls (short_code, through) VALUES (?, ?)
			ON CONFLICT (short_code) DO UPDATE SET through = max(through, excluded.through)`, shortCode, ts(through))
		if err != nil {
			return fmt.Errorf("move the M-PESA pull cursor of %s: %w", shortCode, err)
		}
		return nil
	})
}
