package sqlite

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
)

// TestMigrateOperatorScope: on a store written before operators had a
// scope, migration 0005 makes init's admin (its operator.added event has no
// actor) the terminal's own and every operator a supervisor added the
// site's, each with its PIN set when it was added.
func TestMigrateOperatorScope(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lango.db")
	old := fstest.MapFS{}
	for _, name := range []string{"0001_core.sql", "0002_passes.sql", "0003_sync.sql", "0004_operator_origin.sql"} {
		b, err := fs.ReadFile(migrations, "migrations/"+name)
		if err != nil {
			t.Fatal(err)
		}
		old["migrations/"+name] = &fstest.MapFile{Data: b}
	}
	w, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlitefile.Migrate(ctx, w, old, "migrations/*.sql", time.Now); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO operators (id, name, role, pin_hash, created_at) VALUES ('a', 'admin', 'supervisor', 'h', '2024-01-01T00:00:00.000000000Z')`,
		`INSERT INTO operators (id, name, role, pin_hash, created_at) VALUES ('b', 'wanjiru', 'attendant', 'h', '2024-01-02T00:00:00.000000000Z')`,
		`INSERT INTO events (seq, id, type, at, actor, payload, prev_hash, hash) VALUES (1, 'e1', 'operator.added', '2024-01-01T00:00:00Z', '', CAST('{"id":"a","name":"admin","role":"supervisor"}' AS BLOB), '', 'x')`,
		`INSERT INTO events (seq, id, type, at, actor, payload, prev_hash, hash) VALUES (2, 'e2', 'operator.added', '2024-01-02T00:00:00Z', 'admin', CAST('{"id":"b","name":"wanjiru","role":"attendant"}' AS BLOB), 'x', 'y')`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open a store of schema 4: %v", err)
	}
	defer db.Close()
	rows, err := db.db.QueryContext(ctx, `SELECT name, scope, pin_set_at = created_at FROM operators ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var name, scope string
		var same bool
		if err := rows.Scan(&name, &scope, &same); err != nil {
			t.Fatal(err)
		}
		if !same {
			t.Errorf("%s: pin_set_at is not when it was added", name)
		}
		got[name] = scope
	}
	if got["admin"] != "terminal" || got["wanjiru"] != "site" {
		t.Errorf("scopes after migration: %v; want admin terminal, wanjiru site", got)
	}
}
