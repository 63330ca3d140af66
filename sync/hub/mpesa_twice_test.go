package hub_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/terminal"
)

// TestMpesaCodeTwiceRefusedAndReported: two lanes take one M-PESA code
// while neither has heard of the other (offline); once the feed has it, a
// third lane refuses it; and the hub's report lists the code tendered
// twice, as a conflict naming both lanes' sales and as a duplicated line
// of its M-PESA section, not as a payment matched twice.
func TestMpesaCodeTwiceRefusedAndReported(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	a := newTerm(t, h, "gate-1", 0)
	b := newTerm(t, h, "gate-2", 0)
	c := newTerm(t, h, "gate-3", 0)
	code, _ := terminal.ParseTender("mpesa:STWC123456")
	var sales []string
	for _, te := range []*termEnv{a, b} {
		res, err := te.db.Sell(ctx, te.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{code}}, nil)
		if err != nil {
			t.Fatalf("%s, offline: %v", te.name, err)
		}
		sales = append(sales, res.Sale.ID)
	}
	syncAll(t, a, b, c)
	_, err := c.db.Sell(ctx, c.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{code}}, nil)
	if terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "already used at") {
		t.Errorf("gate-3, with the feed: %v; want ECONFLICT, already used", err)
	}
	// A payment of the code arrives: it pays one sale, not both.
	if _, err := h.Store().AddMpesaPayment(ctx, mpesa.Payment{Code: "STWC123456", Amount: 1, ShortCode: "222222", Source: "c2b"}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var conflicts int
	for _, cf := range r.Conflicts {
		if cf.Code != "STWC123456" {
			continue
		}
		conflicts++
		if cf.Kind != "mpesa_code_twice" || len(cf.Uses) != 2 || cf.Uses[0].Terminal == cf.Uses[1].Terminal {
			t.Errorf("conflict %+v; want mpesa_code_twice with one use at each of the two lanes", cf)
		}
		for _, u := range cf.Uses {
			if u.SaleID != sales[0] && u.SaleID != sales[1] {
				t.Errorf("conflict use %+v names another sale than %v", u, sales)
			}
		}
	}
	if conflicts != 1 {
		t.Errorf("%d conflicts for the code; want 1: %+v", conflicts, r.Conflicts)
	}
	if r.Mpesa == nil {
		t.Fatal("report lacks its M-PESA section")
	}
	var lines int
	for _, ln := range r.Mpesa.Lines {
		if ln.Code == "STWC123456" {
			lines++
			if ln.Status != mpesa.Duplicated || len(ln.Sales) != 2 {
				t.Errorf("M-PESA line %+v; want duplicated, with both sales", ln)
			}
		}
	}
	if lines != 1 {
		t.Errorf("%d M-PESA lines for the code; want 1", lines)
	}
}
