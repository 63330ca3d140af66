package carddesk_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/carddesk"
	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/pay/zvt/zvttest"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

func newDesk(t *testing.T, mode zvt.Mode) (*carddesk.Desk, *zvt.Emulator, *terminal.Operator) {
	t.Helper()
	em, link := zvttest.OnPTY(t, mode)
	db, admin := sqlitetest.NewTerminal(t, map[string]string{"pdq": "zvt:" + link})
	return &carddesk.Desk{DB: db, Path: filepath.Join(t.TempDir(), "pdq-pending.json")}, em, admin
}

var adults = terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}}, Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCard}}}

// TestChargeThenCrash: the PDQ charges, and the till dies before the sale
// is committed: the pending record is on disk, and Recover completes the
// sale once, with the PDQ's approval; a second Recover finds nothing.
func TestChargeThenCrash(t *testing.T) {
	ctx := context.Background()
	d, em, admin := newDesk(t, zvt.ModeApprove)
	var announced terminal.Money
	ts, done, err := d.ChargeSale(ctx, admin, adults, func(m terminal.Money) { announced = m })
	if err != nil {
		t.Fatal(err)
	}
	charges := em.Charges()
	if len(charges) != 1 || announced.Minor != charges[0].Amount || ts[0].Reference != charges[0].Approval || done == nil {
		t.Fatalf("charges %+v, announced %v, tenders %+v", charges, announced, ts)
	}
	if _, err := os.Stat(d.Path); err != nil {
		t.Fatalf("no pending record while the sale is not committed: %v", err)
	}
	// The till dies here: the sale was never committed, done never called.
	rec, err := d.Recover(ctx)
	if err != nil || rec.Outcome != "charged" || rec.Sale == nil || rec.Sale.Tenders[0].Reference != charges[0].Approval {
		t.Fatalf("recover: %+v %v", rec, err)
	}
	if rec, err := d.Recover(ctx); err != nil || rec.Outcome != "none" {
		t.Errorf("a second recover: %+v %v; want none", rec, err)
	}
	if n := len(em.Charges()); n != 1 {
		t.Errorf("the PDQ charged %d times; want once", n)
	}
	n, _ := d.DB.Counts(ctx)
	if n["sales"] != 1 {
		t.Errorf("%d sales; want the one the card paid", n["sales"])
	}
}

// TestChargeDeclined: a declined card leaves no pending record and an
// error; nothing else is stored.
func TestChargeDeclined(t *testing.T) {
	ctx := context.Background()
	d, _, admin := newDesk(t, zvt.ModeDecline)
	before, _ := d.DB.Counts(ctx)
	if _, _, err := d.ChargeSale(ctx, admin, adults, nil); err == nil {
		t.Fatal("a declined card was taken")
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("a pending record after a decline: %v", err)
	}
	after, _ := d.DB.Counts(ctx)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d → %d rows after a decline", k, n, after[k])
		}
	}
}

// TestNoIntegratedPDQ: with the PDQ keyed by hand, a card tender without a
// code is refused with what to do.
func TestNoIntegratedPDQ(t *testing.T) {
	ctx := context.Background()
	d, _, admin := newDesk(t, zvt.ModeApprove)
	if _, err := d.DB.SetSetting(ctx, "admin", "pdq", "manual"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ChargeSale(ctx, admin, adults, nil); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("no integrated PDQ: %v; want a refusal", err)
	}
}
