package bank

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
)

// Ledger is the hub's record of imported statements and their credits,
// in its own SQLite file in the hub's data folder (bank.db).
type Ledger struct {
	db *sql.DB
}

const ledgerSchema = `
CREATE TABLE IF NOT EXISTS statements (
	id          INTEGER PRIMARY KEY,
	bank        TEXT NOT NULL,
	account     TEXT NOT NULL,
	statement   TEXT NOT NULL, -- the statement's Id, or sha256: of a CSV file
	currency    TEXT NOT NULL,
	from_day    TEXT NOT NULL,
	to_day      TEXT NOT NULL,
	format      TEXT NOT NULL,
	imported_at TEXT NOT NULL,
	UNIQUE (bank, account, statement)
) STRICT;
CREATE TABLE IF NOT EXISTS credits (
	bank      TEXT NOT NULL,
	account   TEXT NOT NULL,
	key       TEXT NOT NULL, -- the bank's entry reference
	reference TEXT NOT NULL, -- the payer's
	currency  TEXT NOT NULL,
	amount    INTEGER NOT NULL,
	booked    TEXT NOT NULL,
	statement INTEGER NOT NULL REFERENCES statements(id),
	PRIMARY KEY (bank, account, key)
) STRICT;
CREATE INDEX IF NOT EXISTS credits_reference ON credits(bank, reference);
`

// OpenLedger opens (creating) the ledger at path.
func OpenLedger(ctx context.Context, path string) (*Ledger, error) {
	db, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open bank ledger: %w", err)
	}
	if _, err := db.ExecContext(ctx, ledgerSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("bank ledger schema: %w", err)
	}
	return &Ledger{db: db}, nil
}

// Close closes the ledger.
func (l *Ledger) Close() error { return l.db.Close() }

// Imported is what an import changed.
type Imported struct {
	Bank      string `json:"bank"`
	Account   string `json:"account"`
	Statement string `json:"statement"`
	Format    string `json:"format"`
	From      string `json:"from"`
	To        string `json:"to"`
	Credits   int    `json:"credits"` // in the file
	New       int    `json:"new"`     // not held before
	Debits    int    `json:"debits"`  // in the file, not kept
	Known     bool   `json:"known"`   // the statement was imported before
}

// Import records a statement and its credits in one transaction. It is
// idempotent: a statement or credit held already is left as it is. A
// credit the ledger holds with another amount or reference, or an account
// held in another currency, refuses the whole statement (ECONFLICT),
// storing nothing.
func (l *Ledger) Import(ctx context.Context, st *Statement, now time.Time) (Imported, error) {
	out := Imported{Bank: st.Bank, Account: st.Account, Statement: st.ID, Format: st.Format, From: day(st.From), To: day(st.To), Credits: len(st.Credits), Debits: st.Debits}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("import statement: %w", err)
	}
	defer tx.Rollback()
	var cur string
	switch err := tx.QueryRowContext(ctx, `SELECT currency FROM statements WHERE bank = ? AND account = ? LIMIT 1`, st.Bank, st.Account).Scan(&cur); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return out, fmt.Errorf("import statement: %w", err)
	case cur != string(st.Currency):
		return out, terminal.Errorf(terminal.ECONFLICT, "bank statement refused: account %s at %s is in %s; this statement is in %s", st.Account, st.Bank, cur, st.Currency)
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO statements (bank, account, statement, currency, from_day, to_day, format, imported_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		st.Bank, st.Account, st.ID, string(st.Currency), day(st.From), day(st.To), st.Format, now.UTC().Format(time.RFC3339))
	if err != nil {
		return out, fmt.Errorf("import statement: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		out.Known = true
	}
	var sid int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM statements WHERE bank = ? AND account = ? AND statement = ?`, st.Bank, st.Account, st.ID).Scan(&sid); err != nil {
		return out, fmt.Errorf("import statement: %w", err)
	}
	for _, e := range st.Credits {
		r, err := tx.ExecContext(ctx, `INSERT INTO credits (bank, account, key, reference, currency, amount, booked, statement)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, st.Bank, st.Account, e.Key, e.Reference, string(st.Currency), e.Amount, day(e.Booked), sid)
		if err != nil {
			return out, fmt.Errorf("import credit %s: %w", e.Key, err)
		}
		if n, _ := r.RowsAffected(); n == 1 {
			out.New++
			continue
		}
		var ref string
		var amt int64
		if err := tx.QueryRowContext(ctx, `SELECT reference, amount FROM credits WHERE bank = ? AND account = ? AND key = ?`, st.Bank, st.Account, e.Key).Scan(&ref, &amt); err != nil {
			return out, fmt.Errorf("import credit %s: %w", e.Key, err)
		}
		if ref != e.Reference || amt != e.Amount {
			return out, terminal.Errorf(terminal.ECONFLICT, "bank statement refused: entry %s was imported before as %s %s, now as %s %s",
				e.Key, ref, terminal.Money{Currency: st.Currency, Minor: amt}, e.Reference, terminal.Money{Currency: st.Currency, Minor: e.Amount})
		}
	}
	if err := tx.Commit(); err != nil {
		return out, fmt.Errorf("import statement: %w", err)
	}
	return out, nil
}

// Counts returns the rows of each table, for tests that check an import
// changed nothing.
func (l *Ledger) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"statements", "credits"} {
		var n int
		if err := l.db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// Credit is a statement credit as the ledger holds it.
type Credit struct {
	Bank      string            `json:"bank"`
	Account   string            `json:"account"`
	Key       string            `json:"entry"`
	Reference string            `json:"reference"`
	Currency  terminal.Currency `json:"currency"`
	Amount    int64             `json:"amount"`
	Booked    string            `json:"booked"`
}

func (l *Ledger) credits(ctx context.Context) ([]Credit, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT bank, account, key, reference, currency, amount, booked FROM credits ORDER BY booked, bank, account, key`)
	if err != nil {
		return nil, fmt.Errorf("read credits: %w", err)
	}
	defer rows.Close()
	var out []Credit
	for rows.Next() {
		var c Credit
		if err := rows.Scan(&c.Bank, &c.Account, &c.Key, &c.Reference, &c.Currency, &c.Amount, &c.Booked); err != nil {
			return nil, fmt.Errorf("read credits: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// covered returns, by bank, the last day its statements reach.
func (l *Ledger) covered(ctx context.Context) (map[string]string, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT bank, max(to_day) FROM statements GROUP BY bank`)
	if err != nil {
		return nil, fmt.Errorf("read statements: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var b, d string
		if err := rows.Scan(&b, &d); err != nil {
			return nil, fmt.Errorf("read statements: %w", err)
		}
		out[b] = d
	}
	return out, rows.Err()
}
