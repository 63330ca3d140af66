package sqlite_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Issue 12: a full disk must refuse the sale with a message that says so
// (EDEVICE, exit 3), lose nothing, and let selling resume once there is
// room. The disk is made full with max_page_count on the store's one
// connection, just above its size.
func TestFullDiskIsExit3AndLosesNothing(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	iss := issuer(t, f)
	var pages int64
	if err := f.db.SQL().QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.SQL().ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
		t.Fatal(err)
	}
	req := terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "INT-ADULT", Qty: 2}, {Code: "INT-CHILD", Qty: 3}, {Code: "TOUR-VAN", Qty: 1}},
		Vehicle: "KDA 123A", Tenders: mustTender(t, "defer")}
	var sold []string
	var full error
	for i := 0; i < 500 && full == nil; i++ {
		before := storeChecksum(t, f.path)
		res, err := f.db.Sell(ctx, f.admin, req, iss)
		if err != nil {
			full = err
			if after := storeChecksum(t, f.path); after != before {
				t.Errorf("the refused sale changed the store")
			}
			break
		}
		sold = append(sold, res.Sale.ID)
	}
	if full == nil {
		t.Fatal("500 sales went through with max_page_count just above the store's size")
	}
	if k := terminal.ErrorKind(full); k != terminal.EDEVICE {
		t.Errorf("kind = %q (%v); want %q", k, full, terminal.EDEVICE)
	}
	want := "the disk is full: this sale was not recorded and nothing was lost; free space and try again"
	if msg := terminal.ErrorMessage(full); msg != want {
		t.Errorf("message %q; want %q", msg, want)
	}
	// Still full: refused again, the same way, nothing stored.
	refusedSale(t, f, iss, req, terminal.EDEVICE, "the disk is full")
	// Room again: selling resumes, and every earlier sale is there.
	if _, err := f.db.SQL().ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	res, err := f.db.Sell(ctx, f.admin, req, iss)
	if err != nil {
		t.Fatalf("Sell after freeing space: %v", err)
	}
	sold = append(sold, res.Sale.ID)
	sales, err := f.db.Sales(ctx, outageDay.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sales {
		got = append(got, s.ID)
	}
	if !slices.Equal(got, sold) {
		t.Errorf("sales in the store %v; want the %d sold %v", got, len(sold), sold)
	}
	if err := f.db.VerifyAudit(ctx); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	if ok, err := f.db.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Errorf("integrity check: %q, %v", ok, err)
	}
}
