package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestUpgradeKeepsTheQueue: a terminal's store and its hub's folder as the
// release of 2026-12-03 wrote them (testdata/upgrade/2026-12-03) open
// with this code, migrate, pass the audit, keep selling, and the three
// events queued then reach the hub exactly once, the old history intact.
func TestUpgradeKeepsTheQueue(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	term, hubDir := filepath.Join(dir, "lango.db"), filepath.Join(dir, "hub")
	copyFile(t, "../../testdata/upgrade/2026-12-03/lango.db", term)
	for _, f := range []string{"hub.db", "mpesa.db"} {
		copyFile(t, "../../testdata/upgrade/2026-12-03/"+f, filepath.Join(hubDir, f))
	}
	db, err := sqlite.Open(ctx, term)
	if err != nil {
		t.Fatalf("the old store does not open: %v", err)
	}
	defer db.Close()
	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit of the migrated store: %v", err)
	}
	st, err := db.SyncState(ctx)
	if err != nil || st.Queued() != 3 {
		t.Fatalf("queued after the upgrade: %d, %v; want the 3 of the fixture", st.Queued(), err)
	}
	sales, err := db.Sales(ctx, time.Time{})
	if err != nil || len(sales) != 4 || sales[0].State != terminal.SaleVoided {
		t.Fatalf("the old sales: %d, %v; want 4, the first voided", len(sales), err)
	}
	// The hours the migration indexed find the old sales by time.
	if since, err := db.Sales(ctx, sales[2].At); err != nil || len(since) != 2 || since[0].Number != 3 {
		t.Fatalf("the old sales since sale 3's time: %d, %v; want sales 3 and 4", len(since), err)
	}
	admin, err := db.Authenticate(ctx, "admin", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SellSigned(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}); err != nil {
		t.Fatalf("a sale after the upgrade: %v", err)
	}
	url := serveInProcess(t, "--data", hubDir)
	if _, err := db.SetSetting(ctx, "admin", "hub", url); err != nil {
		t.Fatal(err)
	}
	if err := client.New(db, client.Config{}).Once(ctx); err != nil {
		t.Fatalf("sync of the old queue: %v", err)
	}
	hs, err := hubsqlite.Open(ctx, filepath.Join(hubDir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	checkHolds(t, hs, db)
	if st, _ := db.SyncState(ctx); st.Queued() != 0 {
		t.Errorf("%d events still queued after the sync", st.Queued())
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
