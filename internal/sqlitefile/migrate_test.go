package sqlitefile

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"
)

// Opening a store whose migrations are all applied takes no write lock:
// it used to begin a write transaction for each migration to find it
// recorded, so a process opening the store (lango sync --once, a
// command beside the kiosk) queued behind any writer 18 times.
func TestMigrateAppliedTakesNoWriteLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	fsys := fstest.MapFS{
		"m/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER) STRICT;`)},
		"m/0002_b.sql": {Data: []byte(`CREATE TABLE b (y INTEGER) STRICT;`)},
	}
	w, err := OpenWriter(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := Migrate(ctx, w, fsys, "m/*.sql", time.Now); err != nil {
		t.Fatal(err)
	}
	// Another process writes...
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO a VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	// ...while this one opens the store, refusing to wait for a lock.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if err := Migrate(ctx, other, fsys, "m/*.sql", time.Now); err != nil {
		t.Errorf("migrations all applied, beside a writer: %v", err)
	}
	// A migration not applied yet still waits for the writer, and runs.
	fsys["m/0003_c.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE c (z INTEGER) STRICT;`)}
	if err := Migrate(ctx, other, fsys, "m/*.sql", time.Now); err == nil {
		t.Error("a new migration ran beside a writer without its lock")
	}
	tx.Rollback()
	if err := Migrate(ctx, other, fsys, "m/*.sql", time.Now); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := other.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 3 {
		t.Errorf("migrations recorded = %d, %v; want 3", n, err)
	}
}
