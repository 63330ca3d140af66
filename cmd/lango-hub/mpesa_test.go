package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/lango-pos/lango/internal/sqlitefile"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
)

// oldLedger writes DIR/mpesa.db as hubs before the ledger joined the hub's
// database kept it: its own SQLite file, with one C2B payment and one
// answered status query.
func oldLedger(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", sqlitefile.DSN(filepath.Join(dir, "mpesa.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE payments (code TEXT PRIMARY KEY, amount INTEGER NOT NULL, account TEXT NOT NULL, short_code TEXT NOT NULL,
			at TEXT NOT NULL, source TEXT NOT NULL, received_at TEXT NOT NULL) STRICT`,
		`CREATE TABLE queries (code TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, asked_at TEXT NOT NULL, result_code INTEGER,
			result_desc TEXT NOT NULL DEFAULT '', answered_at TEXT) STRICT`,
		`INSERT INTO payments VALUES ('SOLD000001', 530000, 'NNP', '222222', '2024-01-03T05:00:00.000000000Z', 'c2b', '2024-01-03T05:00:01.000000000Z')`,
		`INSERT INTO queries VALUES ('SOLD000002', 'AG_20240103_1', '2024-01-03T07:00:00.000000000Z', 2001, 'The initiator information is invalid.', '2024-01-03T07:00:02.000000000Z')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMpesaLedgerImportedOnce: a hub upgraded with its M-PESA ledger in
// DATA/mpesa.db carries it into the hub's database at the first command
// that opens the store, once: the file is set aside, and running again
// (or a payment delivered again) leaves one row per code.
func TestMpesaLedgerImportedOnce(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	oldLedger(t, data)
	for i := 0; i < 2; i++ {
		if code, _, stderr := run(t, "report", "--data", data, "--json"); code != 0 {
			t.Fatalf("report: %d %s", code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "mpesa.db")); !os.IsNotExist(err) {
		t.Errorf("the old ledger is still in place after its import: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "mpesa.db.imported")); err != nil {
		t.Errorf("the old ledger was not set aside: %v", err)
	}
	st, err := hubsqlite.Open(ctx, filepath.Join(data, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, ok, err := st.MpesaPayment(ctx, "SOLD000001")
	if err != nil || !ok || p.Amount != 530000 || p.ShortCode != "222222" || p.Source != "c2b" {
		t.Errorf("imported payment: %+v, %v, %v; want KES 5,300.00 to 222222 by C2B", p, ok, err)
	}
	q, ok, err := st.MpesaQuery(ctx, "SOLD000002")
	if err != nil || !ok || !q.Answered || q.ResultCode != 2001 || q.ConversationID != "AG_20240103_1" {
		t.Errorf("imported query: %+v, %v, %v; want answered 2001", q, ok, err)
	}
	n, err := st.Counts(ctx)
	if err != nil || n["mpesa_payments"] != 1 || n["mpesa_queries"] != 1 {
		t.Errorf("counts after two runs: %v, %v; want one payment and one query", n, err)
	}
}
