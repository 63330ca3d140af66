package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestRecordNeedsAnEvent: a state change through record that appends no
// event is refused and rolled back; one that appends its event, or says
// it wrote only bookkeeping, commits.
func TestRecordNeedsAnEvent(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	setPrinter := func(tx *Tx, v string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('printer', ?, '')
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, v)
		return err
	}
	printer := func() string {
		var v string
		db.SQL().QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM settings WHERE key = 'printer'), '')`).Scan(&v)
		return v
	}
	err = db.record(ctx, "the setting", func(tx *Tx) error { return setPrinter(tx, "sneaky") })
	if terminal.ErrorKind(err) != terminal.EINTERNAL {
		t.Fatalf("a change without an event: %v, want an internal error", err)
	}
	if printer() == "sneaky" {
		t.Fatal("the change without an event was committed")
	}
	if err := db.record(ctx, "the setting", func(tx *Tx) error {
		if err := setPrinter(tx, "escpos"); err != nil {
			return err
		}
		_, err := tx.appendEvent(ctx, "admin", terminal.ConfigSet{"printer": "escpos"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.record(ctx, "the cursor", func(tx *Tx) error { tx.onlyBookkeeping(); return setPrinter(tx, "cursor") }); err != nil {
		t.Fatal(err)
	}
	if printer() != "cursor" {
		t.Fatalf("printer %q after the bookkeeping", printer())
	}
	if err := db.bookkeep(ctx, func(tx *Tx) error { return setPrinter(tx, "kept") }); err != nil || printer() != "kept" {
		t.Fatalf("bookkeep: %v, printer %q", err, printer())
	}
}
