package mpesa

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
)

// Ledger keeps what M-PESA told the hub: payments (C2B confirmations,
// Transaction Status results and the Pull Transactions API's pages),
// status queries asked and their answers, and how far each paybill has
// been pulled. The hub's Store implements it (sync/hub/store.go), so the
// ledger lives in the hub's one database and several hub processes share
// it. A payment is stored once per code, by the database's key: a repeat
// delivery, to the same process or another, is acknowledged and ignored
// (the first word wins).
type Ledger interface {
	// AddMpesaPayment records a payment; a code already held is left as
	// it was and reported as not added.
	AddMpesaPayment(ctx context.Context, p Payment, now time.Time) (added bool, err error)
	// MpesaPayment returns the payment of a code, if held.
	MpesaPayment(ctx context.Context, code string) (p Payment, ok bool, err error)
	// AskedMpesa records a Transaction Status query sent for code (a new
	// query for the code replaces the one held).
	AskedMpesa(ctx context.Context, code, conversationID string, now time.Time) error
	// MpesaQuery returns the status query of code, if one was asked.
	MpesaQuery(ctx context.Context, code string) (q Query, ok bool, err error)
	// MpesaConversation returns the code a status query was asked about
	// (ErrUnknownConversation).
	MpesaConversation(ctx context.Context, conversationID string) (code string, err error)
	// AnsweredMpesa records the result of a status query, found by its
	// conversation id, and returns the query's code; an unknown
	// conversation is refused (ErrUnknownConversation).
	AnsweredMpesa(ctx context.Context, conversationID string, resultCode int, desc string, now time.Time) (code string, err error)
	// MpesaPullCursor returns the time through which the paybill's
	// payments were pulled (ok false: never).
	MpesaPullCursor(ctx context.Context, shortCode string) (through time.Time, ok bool, err error)
	// SetMpesaPullCursor moves the paybill's pull cursor to through,
	// never back (two hub processes pulling at once leave the later).
	SetMpesaPullCursor(ctx context.Context, shortCode string, through time.Time) error
}

// ErrUnknownConversation refuses a status result the hub did not ask for.
var ErrUnknownConversation = errors.New("no status query with this conversation id")

// Query is a status query and its answer, if any.
type Query struct {
	Code           string
	ConversationID string
	AskedAt        time.Time
	Answered       bool
	ResultCode     int
	ResultDesc     string
	AnsweredAt     time.Time
}

// ImportFile moves the ledger an older hub kept in its own SQLite file
// (DATA/mpesa.db) into l, then renames the file to path+".imported" so it
// is imported once. Payments already held are kept as they are and
// queries are re-recorded with their answers, so an import interrupted
// before the rename is simply done again. A missing file imports nothing.
// It returns the payments and queries read.
func ImportFile(ctx context.Context, path string, l Ledger) (payments, queries int, err error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	// Opened to write, so that closing it checkpoints a WAL a crashed hub
	// left behind into the file that is then set aside.
	db, err := sql.Open("sqlite", sqlitefile.DSN(path, false))
	if err != nil {
		return 0, 0, fmt.Errorf("open the old M-PESA ledger %s: %w", path, err)
	}
	defer db.Close()
	const old = "2006-01-02T15:04:05.000000000Z07:00"
	parse := func(s string) time.Time { t, _ := time.Parse(old, s); return t }

	var ps []Payment
	var received []time.Time
	rows, err := db.QueryContext(ctx, `SELECT code, amount, account, short_code, at, source, received_at FROM payments ORDER BY received_at, code`)
	if err != nil {
		return 0, 0, fmt.Errorf("read the old M-PESA ledger %s: %w", path, err)
	}
	for rows.Next() {
		var p Payment
		var at, recv string
		if err := rows.Scan(&p.Code, &p.Amount, &p.Account, &p.ShortCode, &at, &p.Source, &recv); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read the old M-PESA ledger %s: %w", path, err)
		}
		p.At = parse(at)
		ps = append(ps, p)
		received = append(received, parse(recv))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read the old M-PESA ledger %s: %w", path, err)
	}
	var qs []Query
	rows, err = db.QueryContext(ctx, `SELECT code, conversation_id, asked_at, result_code, result_desc, coalesce(answered_at, '') FROM queries ORDER BY asked_at, code`)
	if err != nil {
		return 0, 0, fmt.Errorf("read the old M-PESA ledger %s: %w", path, err)
	}
	for rows.Next() {
		var q Query
		var asked, answered string
		var rc sql.NullInt64
		if err := rows.Scan(&q.Code, &q.ConversationID, &asked, &rc, &q.ResultDesc, &answered); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read the old M-PESA ledger %s: %w", path, err)
		}
		q.AskedAt, q.AnsweredAt = parse(asked), parse(answered)
		q.Answered, q.ResultCode = rc.Valid, int(rc.Int64)
		qs = append(qs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read the old M-PESA ledger %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return 0, 0, fmt.Errorf("close the old M-PESA ledger %s: %w", path, err)
	}

	for i, p := range ps {
		if _, err := l.AddMpesaPayment(ctx, p, received[i]); err != nil {
			return 0, 0, fmt.Errorf("import M-PESA payment %s: %w", p.Code, err)
		}
	}
	for _, q := range qs {
		if err := l.AskedMpesa(ctx, q.Code, q.ConversationID, q.AskedAt); err != nil {
			return 0, 0, fmt.Errorf("import M-PESA query %s: %w", q.Code, err)
		}
		if q.Answered {
			if _, err := l.AnsweredMpesa(ctx, q.ConversationID, q.ResultCode, q.ResultDesc, q.AnsweredAt); err != nil {
				return 0, 0, fmt.Errorf("import M-PESA query %s: %w", q.Code, err)
			}
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		err := os.Rename(path+suffix, path+".imported"+suffix)
		if err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
			return len(ps), len(qs), fmt.Errorf("imported the old M-PESA ledger but could not set it aside: %w", err)
		}
	}
	return len(ps), len(qs), nil
}
