package sqlite_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestPaybillSwitch: with the site's paybill and its spare set, a
// supervisor switches the lane to the spare, recorded as a config.set
// event under their name; the M-PESA tenders of sales and settlements
// then record the spare paybill, and cash tenders none. An attendant, a
// plain config set, or a switch to a spare the site lacks is refused and
// changes nothing.
func TestPaybillSwitch(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	db, admin := f.db, f.admin
	sell := func(code string) *terminal.Sale {
		t.Helper()
		res, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}}, Tenders: mustTender(t, "mpesa:"+code)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Sale
	}
	if s := sell("SPBL000001"); s.Tenders[0].Paybill != "" {
		t.Errorf("with no mpesa_paybill the tender records %q; want none", s.Tenders[0].Paybill)
	}
	if _, err := db.SetSetting(ctx, "admin", "mpesa_paybill", "222222"); err != nil {
		t.Fatal(err)
	}
	if s := sell("SPBL000002"); s.Tenders[0].Paybill != "222222" {
		t.Errorf("tender records %q; want the site's paybill 222222", s.Tenders[0].Paybill)
	}

	kamau, err := db.AddOperator(ctx, admin, "kamau", "attendant", "8642")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := db.Counts(ctx)
	for _, c := range []struct {
		name string
		err  error
		kind string
	}{
		{"no spare", func() error { _, err := db.SwitchPaybill(ctx, admin, "spare"); return err }(), terminal.EINVALID},
		{"attendant", func() error { _, err := db.SwitchPaybill(ctx, kamau, "spare"); return err }(), terminal.EUNAUTHORIZED},
		{"plain config set", func() error { _, err := db.SetSetting(ctx, "admin", "mpesa_paybill_use", "spare"); return err }(), terminal.EUNAUTHORIZED},
		{"bad value", func() error { _, err := db.SwitchPaybill(ctx, admin, "backup"); return err }(), terminal.EINVALID},
		{"bad paybill", func() error { _, err := db.SetSetting(ctx, "admin", "mpesa_paybill", "222222 12ab"); return err }(), terminal.EINVALID},
		{"spare is main", func() error { _, err := db.SetSetting(ctx, "admin", "mpesa_paybill", "222222 222222"); return err }(), terminal.EINVALID},
	} {
		if terminal.ErrorKind(c.err) != c.kind {
			t.Errorf("%s: %v; want %s", c.name, c.err, c.kind)
		}
	}
	if after, _ := db.Counts(ctx); !maps.Equal(before, after) {
		t.Errorf("refused switches changed the store: %v → %v", before, after)
	}

	if _, err := db.SetSetting(ctx, "admin", "mpesa_paybill", " 222222   333333 "); err != nil {
		t.Fatal(err)
	}
	got, err := db.SwitchPaybill(ctx, admin, "spare")
	if err != nil || got != "333333" {
		t.Fatalf("switch to the spare: %q, %v; want 333333", got, err)
	}
	evs, err := db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	var cs terminal.ConfigSet
	if json.Unmarshal(last.Payload, &cs) != nil || last.Type != terminal.EventConfigSet || last.Actor != "admin" || cs["mpesa_paybill_use"] != "spare" {
		t.Errorf("the switch's event: %s by %q %s; want config.set by admin, mpesa_paybill_use spare", last.Type, last.Actor, last.Payload)
	}
	res, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}}, Tenders: mustTender(t, "mpesa:SPBL000003=1000", "cash")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range res.Sale.Tenders {
		if want := map[terminal.TenderKind]string{terminal.TenderMpesa: "333333"}[tn.Kind]; tn.Paybill != want {
			t.Errorf("%s tender records paybill %q; want %q", tn.Kind, tn.Paybill, want)
		}
	}
	// As stored and uploaded: the sale's event carries it.
	evs, _ = db.Events(ctx, 0, 1000)
	var stored terminal.SaleCreated
	for _, e := range evs {
		if e.Type == terminal.EventSaleCreated {
			stored = terminal.SaleCreated{}
			if err := json.Unmarshal(e.Payload, &stored); err != nil {
				t.Fatal(err)
			}
		}
	}
	if stored.Sale.ID != res.Sale.ID || stored.Sale.Tenders[0].Paybill != "333333" {
		t.Errorf("the sale's event: %+v; want its M-PESA tender for 333333", stored.Sale.Tenders)
	}
	// Back to the main paybill.
	if got, err := db.SwitchPaybill(ctx, admin, "main"); err != nil || got != "222222" {
		t.Errorf("switch back: %q, %v; want 222222", got, err)
	}
	if s := sell("SPBL000004"); s.Tenders[0].Paybill != "222222" {
		t.Errorf("after switching back the tender records %q; want 222222", s.Tenders[0].Paybill)
	}
}
