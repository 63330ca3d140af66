package sqlite_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestDeferredSaleRecordsWhoOwes: a deferred sale names the tour operator
// (by licence) and the driver's phone; its event carries them, the
// terminal's unsettled list shows them until the pass is settled.
func TestDeferredSaleRecordsWhoOwes(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	iss := issuer(t, f)
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KDA 123A", Tenders: mustTender(t, "defer"),
		OwedBy: "TRA/TO/1187", Phone: "0722 111 222"}, iss)
	if err != nil {
		t.Fatal(err)
	}
	want := &terminal.Owed{Operator: "NDOVU", Name: "Ndovu Tours & Travel", Licence: "TRA/TO/1187", KRAPIN: "P052468013K", Phone: "+254722111222"}
	if !reflect.DeepEqual(res.Sale.Owed, want) {
		t.Fatalf("sale owed = %+v; want %+v", res.Sale.Owed, want)
	}
	evs, err := f.db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range evs {
		if e.Type == terminal.EventSaleCreated && strings.Contains(string(e.Payload), `"owed":{"operator":"NDOVU"`) {
			p, err := terminal.DecodePayload(e.Type, e.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*terminal.SaleCreated).Owed; !reflect.DeepEqual(got, want) {
				t.Errorf("event owed = %+v; want %+v", got, want)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no sale.created event carries who owes")
	}
	// A paid sale and a deferred one without an account are not listed.
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 456Z", Tenders: mustTender(t, "cash")}, iss); err != nil {
		t.Fatal(err)
	}
	plain, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCC 789B", Tenders: mustTender(t, "defer")}, iss)
	if err != nil {
		t.Fatal(err)
	}
	us, err := f.db.Unsettled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 {
		t.Fatalf("unsettled = %+v; want the two deferred passes", us)
	}
	u := us[0]
	if u.SaleID != res.Sale.ID || u.Operator != "NDOVU" || u.Licence != "TRA/TO/1187" || u.Phone != "+254722111222" || u.Vehicle != "KDA 123A" ||
		u.Due["KES"] != res.Sale.Due["KES"] || u.AgeSeconds <= 0 || u.Site != "NNP" || u.Terminal != "gate-1" {
		t.Errorf("unsettled[0] = %+v; want the NDOVU pass of KDA 123A, with its due and a positive age", u)
	}
	if us[1].SaleID != plain.Sale.ID || us[1].Operator != "" || us[1].Phone != "" {
		t.Errorf("unsettled[1] = %+v; want the plain deferred pass, with no account", us[1])
	}
	if _, err := f.db.Settle(ctx, f.admin, res.Sale.Pass, mustTender(t, "cash")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Void(ctx, f.admin, plain.Sale.ID, "keyed twice"); err != nil {
		t.Fatal(err)
	}
	if us, err := f.db.Unsettled(ctx); err != nil || len(us) != 0 {
		t.Errorf("after settling and voiding: unsettled = %+v, %v; want none", us, err)
	}
}

// TestOwedRefusedStoresNothing: an unknown operator, a bad phone, or an
// account on a sale paid now is refused with a plain message and nothing
// is stored.
func TestOwedRefusedStoresNothing(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	iss := issuer(t, f)
	before, err := f.db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, pay, owedBy, phone, want string
	}{
		{"unknown licence", "defer", "TRA/TO/0000", "", "no tour operator has the code or licence"},
		{"bad phone", "defer", "SAVANNA", "0812 345678", "is not a Kenyan mobile number"},
		{"short phone", "defer", "", "07123", "is not a Kenyan mobile number"},
		{"paid now", "cash", "SAVANNA", "", "only a deferred sale"},
	} {
		_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KDA 123A", Tenders: mustTender(t, tt.pay), OwedBy: tt.owedBy, Phone: tt.phone}, iss)
		if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want invalid, containing %q", tt.name, err, tt.want)
		}
	}
	after, err := f.db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("refused sales changed the store: %v → %v", before, after)
	}
}

// TestShiftCloseNamesOpenPasses: a shift with deferred passes still owed
// closes only with a supervisor naming every one; the Z-report lists
// them. A pass settled before the close is not asked for.
func TestShiftCloseNamesOpenPasses(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	iss := issuer(t, f)
	att, err := f.db.AddOperator(ctx, f.admin, "kamau", "attendant", "8642")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.OpenShift(ctx, att, terminal.Totals{"KES": 100000}); err != nil {
		t.Fatal(err)
	}
	sell := func(plate string, owedBy string) *terminal.Sale {
		t.Helper()
		res, err := f.db.Sell(ctx, att, terminal.SaleRequest{Lines: familyCar(), Vehicle: plate, Tenders: mustTender(t, "defer"), OwedBy: owedBy, Phone: "0722111222"}, iss)
		if err != nil {
			t.Fatal(err)
		}
		return res.Sale
	}
	a, b, c := sell("KDA 123A", "SAVANNA"), sell("KCB 456Z", ""), sell("KCC 789B", "KIBO")
	// The admin's own shift has none of them: it closes as before.
	if _, err := f.db.Settle(ctx, f.admin, c.Pass, mustTender(t, "cash")); err != nil {
		t.Fatal(err)
	}
	counted := terminal.Totals{"KES": 100000}
	before, err := f.db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.CloseShift(ctx, att, counted)
	if terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "2 deferred passes of this shift are still owed") ||
		!strings.Contains(err.Error(), "KDA 123A, Savanna Trails Safaris Ltd") || !strings.Contains(err.Error(), "--open-passes 1,2") {
		t.Errorf("close with passes open: err = %v; want a conflict listing passes 1 and 2", err)
	}
	sup := f.admin
	for _, tt := range []struct {
		name   string
		naming terminal.OpenPassNaming
		kind   string
		want   string
	}{
		{"one named of two", terminal.OpenPassNaming{Supervisor: sup, Passes: []string{a.ID}}, terminal.ECONFLICT, "not named 2 KCB 456Z"},
		{"an attendant naming them", terminal.OpenPassNaming{Supervisor: att, Passes: []string{"1", "2"}}, terminal.EUNAUTHORIZED, "kamau is not a supervisor"},
		{"a settled pass named", terminal.OpenPassNaming{Supervisor: sup, Passes: []string{"1", "2", "3"}}, terminal.EINVALID, `"3" is not a deferred pass of this shift still owed`},
		{"no supervisor", terminal.OpenPassNaming{Passes: []string{"1", "2"}}, terminal.EINVALID, "give --supervisor"},
	} {
		_, err := f.db.CloseShiftNaming(ctx, att, counted, tt.naming)
		if terminal.ErrorKind(err) != tt.kind || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want %s containing %q", tt.name, err, tt.kind, tt.want)
		}
	}
	if after, err := f.db.Counts(ctx); err != nil || !reflect.DeepEqual(before, after) {
		t.Errorf("refused closes changed the store: %v → %v (%v)", before, after, err)
	}
	z, err := f.db.CloseShiftNaming(ctx, att, counted, terminal.OpenPassNaming{Supervisor: sup, Passes: []string{"2", a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if z.OpenPassesBy != "admin" || len(z.OpenPasses) != 2 || z.OpenPasses[0].SaleID != a.ID || z.OpenPasses[0].Operator != "SAVANNA" ||
		z.OpenPasses[1].SaleID != b.ID || z.OpenPasses[1].Phone != "+254722111222" {
		t.Errorf("Z-report open passes = %+v by %q; want passes 1 and 2 named by admin", z.OpenPasses, z.OpenPassesBy)
	}
	// The Z-report as stored and synced (shift.closed) carries them.
	evs, err := f.db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	p, err := terminal.DecodePayload(last.Type, last.Payload)
	if err != nil || last.Type != terminal.EventShiftClosed || len(p.(*terminal.ShiftClosed).OpenPasses) != 2 {
		t.Errorf("last event %s %s (%v); want shift.closed with the two open passes", last.Type, last.Payload, err)
	}
	// Still owed after the close: the terminal keeps listing them.
	if us, err := f.db.Unsettled(ctx); err != nil || len(us) != 2 {
		t.Errorf("unsettled after the close = %+v, %v; want the two passes", us, err)
	}
}
