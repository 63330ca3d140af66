package sqlite_test

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestOverrideNamesASupervisor: a sale past a kiosk guard records the
// supervisor's approval; one naming an attendant, nobody, or with no
// reason is refused and stores nothing.
func TestOverrideNamesASupervisor(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	if _, err := f.db.AddOperator(ctx, f.admin, "achieng", "attendant", "4321"); err != nil {
		t.Fatal(err)
	}
	sale := func(o *terminal.Override) (*terminal.SaleResult, error) {
		return f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: mustTender(t, "cash"), Override: o}, nil)
	}
	for _, o := range []*terminal.Override{
		{By: "achieng", Reason: "seats: 7 visitors in CAR (up to 6)"},
		{By: "nobody", Reason: "seats: 7 visitors in CAR (up to 6)"},
		{By: "admin", Reason: ""},
		{By: "admin", Reason: strings.Repeat("x", 201)},
	} {
		before, _ := f.db.Counts(ctx)
		if _, err := sale(o); err == nil {
			t.Errorf("override %+v accepted", o)
		}
		if after, _ := f.db.Counts(ctx); !maps.Equal(before, after) {
			t.Errorf("override %+v: the refusal changed the store", o)
		}
	}
	res, err := sale(&terminal.Override{By: "admin", Reason: "seats: 7 visitors in CAR (up to 6)"})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := f.db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got terminal.Sale
	for _, e := range evs {
		if e.Type == terminal.EventSaleCreated {
			json.Unmarshal(e.Payload, &got)
		}
	}
	if got.ID != res.Sale.ID || got.Override == nil || got.Override.By != "admin" {
		t.Errorf("the sale's event records %+v; want admin's override", got.Override)
	}
}
