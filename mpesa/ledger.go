package mpesa

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
)

// Ledger keeps what M-PESA told the hub: C2B confirmations, status queries
// asked and their results. It is append-mostly; a payment is stored once per
// code (the first word wins, a repeat delivery is acknowledged and
// ignored).
type Ledger struct {
	db *sql.DB
}

const ledgerSchema = `
CREATE TABLE IF NOT EXISTS payments (
	code        TEXT PRIMARY KEY,
	amount      INTEGER NOT NULL,
	account     TEXT NOT NULL,
	short_code  TEXT NOT NULL,
	at          TEXT NOT NULL,
	source      TEXT NOT NULL,
	received_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS queries (
	code            TEXT PRIMARY KEY,
	conversation_id TEXT NOT NULL,
	asked_at        TEXT NOT NULL,
	result_code     INTEGER,
	result_desc     TEXT NOT NULL DEFAULT '',
	answered_at     TEXT
) STRICT;`

// OpenLedger opens (creating) the ledger at path.
func OpenLedger(ctx context.Context, path string) (*Ledger, error) {
	db, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open M-PESA ledger: %w", err)
	}
	if _, err := db.ExecContext(ctx, ledgerSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("M-PESA ledger schema: %w", err)
	}
	return &Ledger{db: db}, nil
}

// Close closes the ledger.
func (l *Ledger) Close() error { return l.db.Close() }

const tsFormat = "2006-01-02T15:04:05.000000000Z07:00"

// AddPayment records a payment; a code already held is left as it was and
// reported as not added.
func (l *Ledger) AddPayment(ctx context.Context, p Payment, now time.Time) (bool, error) {
	r, err := l.db.ExecContext(ctx, `INSERT INTO payments (code, amount, account, short_code, at, source, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
		p.Code, p.Amount, p.Account, p.ShortCode, p.At.UTC().Format(tsFormat), p.Source, now.UTC().Format(tsFormat))
	if err != nil {
		return false, fmt.Errorf("record payment %s: %w", p.Code, err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// Payment returns the payment of a code, if held.
func (l *Ledger) Payment(ctx context.Context, code string) (Payment, bool, error) {
	var p Payment
	var at string
	err := l.db.QueryRowContext(ctx, `SELECT code, amount, account, short_code, at, source FROM payments WHERE code = ?`, code).
		Scan(&p.Code, &p.Amount, &p.Account, &p.ShortCode, &at, &p.Source)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	p.At, _ = time.Parse(tsFormat, at)
	return p, true, nil
}

// Asked records a status query sent for code.
func (l *Ledger) Asked(ctx context.Context, code, conversationID string, now time.Time) error {
	_, err := l.db.ExecContext(ctx, `INSERT INTO queries (code, conversation_id, asked_at) VALUES (?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET conversation_id = excluded.conversation_id, asked_at = excluded.asked_at`,
		code, conversationID, now.UTC().Format(tsFormat))
	return err
}

// Query is a status query and its answer, if any.
type Query struct {
	Code           string
	ConversationID string
	AskedAt        time.Time
	Answered       bool
	ResultCode     int
	ResultDesc     string
}

// QueryOf returns the status query of code.
func (l *Ledger) QueryOf(ctx context.Context, code string) (Query, bool, error) {
	var q Query
	var asked string
	var rc sql.NullInt64
	err := l.db.QueryRowContext(ctx, `SELECT code, conversation_id, asked_at, result_code, result_desc FROM queries WHERE code = ?`, code).
		Scan(&q.Code, &q.ConversationID, &asked, &rc, &q.ResultDesc)
	if errors.Is(err, sql.ErrNoRows) {
		return q, false, nil
	}
	if err != nil {
		return q, false, err
	}
	q.AskedAt, _ = time.Parse(tsFormat, asked)
	q.Answered, q.ResultCode = rc.Valid, int(rc.Int64)
	return q, true, nil
}

// ConversationCode returns the code a status query was asked about.
func (l *Ledger) ConversationCode(ctx context.Context, conversationID string) (string, error) {
	var code string
	err := l.db.QueryRowContext(ctx, `SELECT code FROM queries WHERE conversation_id = ?`, conversationID).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("no status query with conversation %q", conversationID)
	}
	return code, err
}

// Answered records the result of a status query, found by its
// conversation id; an unknown conversation is refused.
func (l *Ledger) Answered(ctx context.Context, conversationID string, code int, desc string, now time.Time) (string, error) {
	var txn string
	err := l.db.QueryRowContext(ctx, `SELECT code FROM queries WHERE conversation_id = ?`, conversationID).Scan(&txn)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("no status query with conversation %q", conversationID)
	}
	if err != nil {
		return "", err
	}
	_, err = l.db.ExecContext(ctx, `UPDATE queries SET result_code = ?, result_desc = ?, answered_at = ? WHERE conversation_id = ?`,
		code, desc, now.UTC().Format(tsFormat), conversationID)
	return txn, err
}

// Counts returns the rows of each table.
func (l *Ledger) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"payments", "queries"} {
		var n int
		if err := l.db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}
