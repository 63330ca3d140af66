package pay

import (
	"context"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pay/zvt"
)

func TestManual(t *testing.T) {
	ctx := context.Background()
	kes := terminal.Money{Currency: "KES", Minor: 530000}
	c, err := Manual{Approval: " a1b2c3 ", CardLast4: "4242"}.Charge(ctx, kes, "")
	if err != nil || c.Approval != "A1B2C3" || c.CardLast4 != "4242" || c.Amount != kes {
		t.Fatalf("Charge = %+v, %v", c, err)
	}
	tr := c.Tender()
	if tr.Kind != terminal.TenderCard || tr.Reference != "A1B2C3" || *tr.Amount != kes {
		t.Errorf("tender = %+v", tr)
	}
	for _, m := range []Manual{{Approval: ""}, {Approval: "A"}, {Approval: "AB-12"}, {Approval: "AB12", CardLast4: "42"}} {
		if _, err := m.Charge(ctx, kes, ""); terminal.ErrorKind(err) != terminal.EINVALID {
			t.Errorf("%+v: err %v; want invalid", m, err)
		}
	}
	if _, err := (Manual{Approval: "AB12"}).Charge(ctx, terminal.Money{Currency: "KES"}, ""); err == nil {
		t.Error("a zero card payment was accepted")
	}
}

func TestChargeOf(t *testing.T) {
	c := ChargeOf(zvt.Result{Approved: true, Amount: terminal.Money{Currency: "KES", Minor: 100}, Trace: 42, CardLast4: "0119"})
	if c.Approval != "T000042" || c.Trace != 42 || c.CardLast4 != "0119" {
		t.Errorf("charge without approval code = %+v; want it named by its trace", c)
	}
}
