package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// stallFS is the store's migrations with the last one slowed: its body
// runs, then a statement that takes minutes, all in the migration's
// transaction. It says on stdout when that migration is read.
type stallFS struct {
	fs.FS
	last string
}

func (s stallFS) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(s.FS, name)
	if err != nil || name != s.last {
		return b, err
	}
	os.Stdout.WriteString("MIGRATING " + name + "\n")
	return append(b, "\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000000000) SELECT count(*) FROM c;\n"...), nil
}

func migrationNames(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(sqlite.Migrations, "migrations/*.sql")
	if err != nil || len(names) < 2 {
		t.Fatalf("migrations: %v, %v", names, err)
	}
	slices.Sort(names)
	return names
}

// migrateChild applies every migration to the store at path, the last one
// stalled, until the test kills it.
func migrateChild(path string) {
	ctx := context.Background()
	db, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(1)
	}
	names, _ := fs.Glob(sqlite.Migrations, "migrations/*.sql")
	slices.Sort(names)
	err = sqlitefile.Migrate(ctx, db, stallFS{sqlite.Migrations, names[len(names)-1]}, "migrations/*.sql", time.Now)
	os.Stderr.WriteString("the stalled migration ended: " + errString(err))
	os.Exit(1)
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// TestKilledMigrationResumes: a store one migration behind is upgraded by
// a process killed (SIGKILL) in the middle of that migration, after its
// statements ran and before it committed. The store opens with this code,
// applies the migration once, and ends with the same schema as a store
// made new; it then works (init, a sale, the audit).
func TestKilledMigrationResumes(t *testing.T) {
	ctx := context.Background()
	names := migrationNames(t)
	last := names[len(names)-1]
	dir := t.TempDir()
	old := dir + "/lango.db"
	{ // the store as the release before the last migration left it
		db, err := sqlitefile.OpenWriter(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		before := filterFS{sqlite.Migrations, last}
		if err := sqlitefile.Migrate(ctx, db, before, "migrations/*.sql", time.Now); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}

	child, out, stderr := startChild(t, "LANGO_MIGRATE_CHILD="+old)
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "MIGRATING "+last {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("the child did not reach %s: %q %s", last, sc.Text(), stderr.String())
	}
	time.Sleep(200 * time.Millisecond) // inside the migration's transaction, its statements run
	child.Process.Kill()
	if err := child.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the child ended with %v, not killed: %s", err, stderr.String())
	}

	db, err := sqlite.Open(ctx, old)
	if err != nil {
		t.Fatalf("the store killed mid-migration does not open: %v", err)
	}
	defer db.Close()
	fresh, err := sqlite.Open(ctx, dir+"/fresh.db")
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if got, want := schemaOf(t, old), schemaOf(t, dir+"/fresh.db"); !slices.Equal(got, want) {
		t.Fatalf("the resumed store's schema differs from a new store's:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := rowsOf(t, old, `SELECT count(*) FROM schema_migrations WHERE name = '`+last+`'`); !slices.Equal(n, []string{"1"}) {
		t.Fatalf("%s applied %v times", last, n)
	}
	admin := initWithShift(t, db, "kws.json", "NNP", "main-gate-1", nil)
	if _, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: mustTender(t, "cash")}, nil); err != nil {
		t.Fatalf("a sale after the resumed migration: %v", err)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit after the resumed migration: %v", err)
	}
}

// schemaOf lists the tables, indexes and triggers of the store at path.
func schemaOf(t *testing.T, path string) []string {
	return rowsOf(t, path, `SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
}

// rowsOf reads one column of a query on the store at path, read-only.
func rowsOf(t *testing.T, path, q string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", sqlitefile.DSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// filterFS hides one migration: the schema of the release before it.
type filterFS struct {
	fs.FS
	hide string
}

func (f filterFS) ReadDir(name string) ([]fs.DirEntry, error) {
	es, err := fs.ReadDir(f.FS, name)
	return slices.DeleteFunc(es, func(e fs.DirEntry) bool { return path.Join(name, e.Name()) == f.hide }), err
}
