package sqlite_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestShiftCloseDoesNotHoldTheSales: another process (the crash harness's
// selling child) goes on selling while a shift close reads its report;
// the close then stores the shift as it is when it closes, those sales
// included.
func TestShiftCloseDoesNotHoldTheSales(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	for range 3 {
		if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}},
			Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The child sells paid only: a deferred pass sold while the shift
	// closes would need a supervisor naming it (TestShiftCloseNamesOpenPasses).
	child, out, stderr := startChild(t, "LANGO_CRASH_CHILD="+f.path, "LANGO_CRASH_CHILD_PAID=1")
	defer func() { child.Process.Kill(); child.Wait() }()
	sold := make(chan string, 1<<16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "SOLD "); ok {
				sold <- id
			}
		}
		close(sold)
	}()
	wait := func(n int) []string {
		var ids []string
		for len(ids) < n {
			select {
			case id, ok := <-sold:
				if !ok {
					t.Fatalf("the selling child stopped: %s", stderr.String())
				}
				ids = append(ids, id)
			case <-time.After(time.Minute):
				t.Fatalf("%d of %d sales in a minute: the child was held", len(ids), n)
			}
		}
		return ids
	}
	wait(1) // the child sells
	var during []string
	sqlite.SetAfterReport(f.db, func() {
		for len(sold) > 0 {
			<-sold
		}
		during = wait(3) // sales committed after the report was read, before the close
	})
	z, err := f.db.CloseShift(ctx, f.admin, terminal.Totals{"KES": 0, "USD": 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(during) != 3 {
		t.Fatalf("%d sales while the report was read", len(during))
	}
	var shiftID string
	var stored string
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT id, zreport FROM shifts WHERE operator_id = ? AND closed_at IS NOT NULL`, f.admin.ID).Scan(&shiftID, &stored); err != nil {
		t.Fatal(err)
	}
	var n, sales int
	for _, id := range during {
		if err := f.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sales WHERE id = ? AND shift_id = ?`, id, shiftID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("sale %s made during the report is not in the closed shift: %v", id, err)
		}
	}
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sales WHERE shift_id = ? AND kind = 'sale' AND state != 'voided'`, shiftID).Scan(&sales); err != nil {
		t.Fatal(err)
	}
	if z.Sales != sales || z.Sales < 3+1+3 {
		t.Errorf("the Z-report counts %d sales; the shift holds %d (at least 7)", z.Sales, sales)
	}
	var back terminal.ZReport
	if err := json.Unmarshal([]byte(stored), &back); err != nil || back.Sales != z.Sales || back.Expected.String() != z.Expected.String() {
		t.Errorf("the stored Z-report %+v differs from the one returned %+v (%v)", back, z, err)
	}
}

// TestAuditKnowsAMarkByItsExactPassID: the audit keeps digests, not rows;
// a pass mark whose pass id differs from its event's only by case (which
// would let the pass through again) is still named.
func TestAuditKnowsAMarkByItsExactPassID(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	res, err := f.db.SellSigned(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: mustTender(t, "defer")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Void(ctx, f.admin, res.Sale.ID, "wrong party"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit of an untouched store: %v", err)
	}
	if _, err := f.db.SQL().Exec(`UPDATE pass_marks SET pass_id = upper(pass_id)`); err != nil {
		t.Fatal(err)
	}
	var ae *terminal.AuditError
	if err := f.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Table != "pass_marks" {
		t.Fatalf("audit = %v; want the pass mark named", err)
	}
}

// TestSinceAfterATrialSale: the store remembers the hour whose sale_hours
// row a committed sale wrote, and skips the statement for the next sales
// of that hour. A sale that wrote its new hour's row and was then rolled
// back (the kiosk's TrySell checks a whole sale and keeps nothing) must
// not count: the next sale of the hour writes the row, or `sales --since`
// that hour would start past it.
func TestSinceAfterATrialSale(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	start := time.Date(2026, 12, 3, 6, 10, 0, 0, time.UTC)
	now := start
	f.db.Now = func() time.Time { return now }
	req := terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}}, Tenders: mustTender(t, "cash")}
	if _, err := f.db.Sell(ctx, f.admin, req, nil); err != nil { // 06:10, the hour 06 written
		t.Fatal(err)
	}
	now = start.Add(time.Hour) // 07:10: a new hour, tried and rolled back
	if _, err := f.db.TrySell(ctx, f.admin, req, nil); err != nil {
		t.Fatal(err)
	}
	now = start.Add(time.Hour + time.Minute)
	want, err := f.db.Sell(ctx, f.admin, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.db.Sales(ctx, start.Add(50*time.Minute)) // from 07:00
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != want.Sale.ID {
		var ids []string
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		t.Fatalf("sales since 07:00 are %v, want only %s (sold 07:11)", ids, want.Sale.ID)
	}
}
