// Package sqlite is the terminal's local store on modernc.org/sqlite: the
// truth while offline. Every state change commits its immutable event in the
// same transaction (the outbox), chained by hash (the audit log).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/terminal"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the terminal's store. It holds one connection: SQLite has one writer
// anyway, and one connection makes every transaction serial in this process;
// other processes (the CLI beside the GUI) wait on busy_timeout.
type DB struct {
	db   *sql.DB
	path string
	// Now is the clock; tests replace it.
	Now func() time.Time

	mu  sync.Mutex
	cat *terminal.Catalogue // the active catalogue, loaded once
}

// Open opens (creating if needed) the store at path and brings its schema up
// to date.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	sdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(1)
	sdb.SetConnMaxIdleTime(0)
	db := &DB{db: sdb, path: path, Now: time.Now}
	var mode string
	if err := sdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if mode != "wal" {
		sdb.Close()
		return nil, fmt.Errorf("open %s: journal mode is %q, not wal (is the folder on a network share?)", path, mode)
	}
	var sync int
	if err := sdb.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		sdb.Close()
		return nil, fmt.Errorf("open %s: synchronous is %d, not FULL (2): %v", path, sync, err)
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the store.
func (db *DB) Close() error { return db.db.Close() }

// Path is the store's file.
func (db *DB) Path() string { return db.path }

// SQL exposes the connection for read-only checks in tests and tools.
func (db *DB) SQL() *sql.DB { return db.db }

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if err := db.applyMigration(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, name string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, ts(db.Now())); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	return tx.Commit()
}

// ts formats a time for storage: UTC, fixed width, so text order is time
// order.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Tx is a write transaction with the event log at hand.
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
	// terminal is this terminal's id, read once per transaction.
	terminal string
}

// update runs fn in a write transaction (BEGIN IMMEDIATE), committing if fn
// returns nil. The whole of fn sees one clock reading.
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	stx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer stx.Rollback()
	tx := &Tx{Tx: stx, db: db, now: db.Now()}
	if err := stx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'terminal_id'`).Scan(&tx.terminal); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read terminal id: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// appendEvent writes an event in tx, chained to the last one.
func (tx *Tx) appendEvent(ctx context.Context, typ, actor string, payload any) (*terminal.Event, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	e := &terminal.Event{Type: typ, At: tx.now, Actor: actor, Payload: body, Terminal: tx.terminal}
	var last sql.NullInt64
	var prev sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	e.Seq, e.PrevHash = last.Int64+1, prev.String
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("event id: %w", err)
	}
	e.ID = id.String()
	e.Hash = e.ComputeHash()
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (seq, id, type, at, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, e.Type, ts(e.At), e.Actor, e.Payload, e.PrevHash, e.Hash); err != nil {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	return e, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Events returns up to limit events after seq, in order.
func (db *DB) Events(ctx context.Context, afterSeq int64, limit int) ([]terminal.Event, error) {
	term, err := db.meta(ctx, "terminal_id")
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT seq, id, type, at, actor, payload, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	var out []terminal.Event
	for rows.Next() {
		var e terminal.Event
		var at string
		if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &at, &e.Actor, &e.Payload, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		e.At, e.Terminal = parseTS(at), term
		out = append(out, e)
	}
	return out, rows.Err()
}

func (db *DB) meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// Counts returns the number of rows in each table, for tests and reports
// that check that refused input changed nothing.
func (db *DB) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"meta", "settings", "catalogues", "keys", "operators", "shifts", "sales", "tenders", "print_jobs", "events"} {
		var n int
		if err := db.db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns its answer ("ok").
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := db.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "; "), rows.Err()
}
