package sqlitefile_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/lango-pos/lango/internal/sqlitefile"
)

// TestConstraintErrorsByCode: a duplicate key is IsUnique (primary and
// unique alike), another constraint is IsConstraint only, and anything else
// is neither: the code decides, not the message.
func TestConstraintErrorsByCode(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitefile.OpenWriter(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, n INTEGER CHECK (n > 0)) STRICT`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES (1, 'UNIQUE', 1)`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q                  string
		unique, constraint bool
	}{
		{`INSERT INTO t VALUES (1, 'b', 1)`, true, true},
		{`INSERT INTO t VALUES (2, 'UNIQUE', 1)`, true, true},
		{`INSERT INTO t VALUES (3, 'c', 0)`, false, true},
		{`INSERT INTO t VALUES (4, NULL, 1)`, false, true},
		{`INSERT INTO nope VALUES ('UNIQUE')`, false, false},
	} {
		_, err := db.ExecContext(ctx, c.q)
		if err == nil {
			t.Fatalf("%s: no error", c.q)
		}
		if got := sqlitefile.IsUnique(err); got != c.unique {
			t.Errorf("%s: IsUnique = %v (%v)", c.q, got, err)
		}
		if got := sqlitefile.IsConstraint(err); got != c.constraint {
			t.Errorf("%s: IsConstraint = %v (%v)", c.q, got, err)
		}
	}
	if sqlitefile.IsUnique(errors.New("UNIQUE constraint failed")) {
		t.Error("a plain error naming UNIQUE counted as one")
	}
}
