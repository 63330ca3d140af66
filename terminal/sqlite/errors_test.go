package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// storeError on real SQLite failures: a write lock held by another
// connection (SQLITE_BUSY, with no busy timeout so the test does not wait)
// and a read-only store (SQLITE_READONLY). The full disk is
// TestFullDiskIsExit3AndLosesNothing.
func TestStoreErrorKinds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	open := func(dsn string) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?"+dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	w := open("_pragma=journal_mode(WAL)&_txlock=immediate")
	if _, err := w.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other := open("_pragma=busy_timeout(0)&_txlock=immediate")
	_, busy := other.BeginTx(ctx, nil)
	ro := open("mode=ro")
	_, readOnly := ro.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	for _, tc := range []struct {
		name string
		err  error
		kind string
		msg  string
	}{
		{"busy", busy, terminal.EUNAVAILABLE, "the store is busy (another Lango program is writing to it): this sale was not recorded and nothing was lost; try again"},
		{"read-only", readOnly, terminal.EDEVICE, "the store cannot be written (read-only file or disk): this sale was not recorded"},
	} {
		if tc.err == nil {
			t.Fatalf("%s: SQLite gave no error", tc.name)
		}
		got := storeError("this sale", tc.err)
		if k := terminal.ErrorKind(got); k != tc.kind {
			t.Errorf("%s: storeError(%v) kind %q; want %q", tc.name, tc.err, k, tc.kind)
		}
		if m := terminal.ErrorMessage(got); !strings.HasPrefix(m, tc.msg) {
			t.Errorf("%s: message %q; want it to start %q", tc.name, m, tc.msg)
		}
	}
	// What is not a store failure passes through unchanged.
	refusal := terminal.Errorf(terminal.ECONFLICT, "already voided")
	if got := storeError("this sale", refusal); got != error(refusal) {
		t.Errorf("storeError changed a terminal error: %v", got)
	}
}
