// Package sqlitefile opens the project's SQLite files (the terminal's store,
// the hub's, the M-PESA ledger) with the same durability rules, and applies
// their embedded migrations: WAL, synchronous=FULL, foreign keys, a busy
// timeout, BEGIN IMMEDIATE for writers, and a check that WAL really took.
package sqlitefile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/lango-pos/lango/terminal"
	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// DSN is the data source name of path: the durability pragmas, and either
// writes in BEGIN IMMEDIATE transactions or, for readOnly, query_only.
func DSN(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// OpenWriter opens path for writing with one connection (SQLite has one
// writer; one connection makes this process's transactions serial) and
// checks that the journal is WAL and writes are synchronous=FULL.
func OpenWriter(ctx context.Context, path string) (*sql.DB, error) {
	if err := Private(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", DSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	var mode string
	var sync int
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("open %s: journal mode is %q, not wal (is the folder on a network share?)", path, mode)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		db.Close()
		return nil, fmt.Errorf("open %s: synchronous is %d, not FULL (2): %v", path, sync, err)
	}
	return db, nil
}

// Migrate applies the migrations matching glob in fsys (embedded .sql
// files), in name order, each in its own transaction, recording each in
// schema_migrations so it runs once.
func Migrate(ctx context.Context, db *sql.DB, fsys fs.FS, glob string, now func() time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := fs.Glob(fsys, glob)
	if err != nil {
		return err
	}
	slices.Sort(names)
	// The ones applied already are skipped without a transaction each: a
	// store opened for one sync (lango sync --once, the backlog
	// benchmark's 2,000 terminals) took 18 write locks to learn nothing.
	// apply checks again, in its transaction, for another process's.
	applied, err := appliedMigrations(ctx, db)
	if err != nil {
		return err
	}
	for _, name := range names {
		if applied[name] {
			continue
		}
		if err := apply(ctx, db, fsys, name, now()); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrations table: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("migrations table: %w", err)
		}
		out[n] = true
	}
	return out, rows.Err()
}

func apply(ctx context.Context, db *sql.DB, fsys fs.FS, name string, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil || n > 0 {
		return err
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, now.UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	return tx.Commit()
}

// Private makes sure the database at path, which holds private keys, can
// be read by its owner only: a new file is created 0600 whatever the
// umask or the folder's mode (SQLite gives its -wal and -shm files the
// mode of the database), and an existing one (or its -wal, -shm or
// -journal) that its group or others may read or write is refused, with
// the command that mends it, before anything is read from it.
func Private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		// The umask can only take bits away, but make the mode exact.
		if err := errors.Join(f.Chmod(0o600), f.Close()); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("open %s: not a regular file", p)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return &terminal.Error{Kind: terminal.EINVALID, Err: &ExposedError{Path: p, Mode: fi.Mode().Perm()},
				Message: fmt.Sprintf("%s holds private keys but others may read it (mode %04o): run chmod 600 %s*", p, fi.Mode().Perm(), path)}
		}
	}
	return nil
}

// ExposedError refuses a database file that others than its owner may
// read or write: it holds private keys.
type ExposedError struct {
	Path string
	Mode fs.FileMode
}

func (e *ExposedError) Error() string {
	return fmt.Sprintf("%s has mode %04o", e.Path, e.Mode)
}

// IsUnique reports whether err is SQLite refusing a row whose key (primary
// or unique) another row has: by the error's code, not its text.
func IsUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// IsConstraint reports whether err is any SQLite constraint refusing a
// statement (the statement alone is undone; its transaction goes on).
func IsConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
