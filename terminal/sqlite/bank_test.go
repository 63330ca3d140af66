package sqlite_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// TestBankReferenceOncePerTerminal: a bank tender is recorded with its
// bank.used event in the sale's transaction; the same reference at the same
// bank is refused afterwards, for a sale or a settlement, changing nothing;
// the same reference at another bank is another transfer.
func TestBankReferenceOncePerTerminal(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	auth, err := pass.NewAuthority(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enroll(t, f, auth, "gate-1")
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "bank:kcb:ft24003abc12=3000", "cash")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sale
	if len(s.Tenders) != 2 || s.Tenders[0] != (terminal.Tender{Kind: terminal.TenderBank, Currency: "KES", Amount: 300000, Bank: "KCB", Reference: "FT24003ABC12"}) {
		t.Fatalf("tenders = %+v; want KCB FT24003ABC12 KES 3,000 first", s.Tenders)
	}
	got, err := f.db.Sale(ctx, s.ID)
	if err != nil || got.Tenders[0].Bank != "KCB" {
		t.Fatalf("stored sale: %+v, %v; want its bank tender kept", got, err)
	}
	evs, err := f.db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var used []terminal.BankUsed
	for _, e := range evs {
		if e.Type == terminal.EventBankUsed {
			var p terminal.BankUsed
			if err := json.Unmarshal(e.Payload, &p); err != nil {
				t.Fatal(err)
			}
			used = append(used, p)
		}
	}
	if len(used) != 1 || used[0] != (terminal.BankUsed{Bank: "KCB", Reference: "FT24003ABC12", Currency: "KES", Amount: 300000, SaleID: s.ID}) {
		t.Errorf("bank.used events = %+v; want one for the sale", used)
	}

	deferred := sellPass(t, f, "defer")
	before, _ := f.db.Counts(ctx)
	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"sale", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "bank:KCB:FT24003ABC12")}, nil)
			return err
		}},
		{"settlement", func() error {
			_, err := f.db.Settle(ctx, f.admin, deferred.Pass, mustTender(t, "bank:KCB:FT 2400 3ABC12"))
			return err
		}},
	} {
		err := c.do()
		if terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "KCB FT24003ABC12 was already used on sale 1") {
			t.Errorf("%s with a used reference: %v; want ECONFLICT naming sale 1", c.name, err)
		}
		if after, _ := f.db.Counts(ctx); !maps.Equal(before, after) {
			t.Errorf("%s: the refused tender changed the store: %v → %v", c.name, before, after)
		}
	}
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "bank:EQTY:FT24003ABC12")}, nil); err != nil {
		t.Errorf("the same reference at another bank: %v", err)
	}
	if _, err := f.db.Settle(ctx, f.admin, deferred.Pass, mustTender(t, "bank:COOP:DS-000042")); err != nil {
		t.Fatalf("settling by bank: %v", err)
	}
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "bank:COOP:DS-000042")}, nil); terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "to settle a pass") {
		t.Errorf("a settlement's reference again: %v; want ECONFLICT", err)
	}
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "bank:DTB:FT99999999")}, nil); terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), "not one the site accepts") {
		t.Errorf("a bank the catalogue does not list: %v; want EINVALID", err)
	}
}

// TestDeposit: a supervisor banks a closed shift's cash takings (counted
// less the float) once, with a slip reference taken once per site; every
// wrong deposit is refused, changing nothing.
func TestDeposit(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil) // float KES 5,000
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "bank:KCB:FT24003ABC12")}, nil); err != nil {
		t.Fatal(err)
	}
	clerk, err := f.db.AddOperator(ctx, f.admin, "wanjiru", "attendant", "5678")
	if err != nil {
		t.Fatal(err)
	}
	open, err := f.db.OpenShift(ctx, clerk, terminal.Totals{"KES": 100000})
	if err != nil {
		t.Fatal(err)
	}
	z, err := f.db.CloseShift(ctx, f.admin, terminal.Totals{"KES": 1030000}) // KES 5,300 of takings
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.db.Counts(ctx)
	for _, c := range []struct {
		name          string
		op            *terminal.Operator
		shift, b, ref string
		kind, want    string
	}{
		{"an attendant", clerk, z.ShiftID, "KCB", "DS-0001", terminal.EUNAUTHORIZED, "only a supervisor"},
		{"an open shift", f.admin, open.ID, "KCB", "DS-0001", terminal.ECONFLICT, "still open"},
		{"an unknown shift", f.admin, "0190aaaa-0000-7000-8000-000000000000", "KCB", "DS-0001", terminal.ENOTFOUND, "no shift"},
		{"a bank the site does not take", f.admin, z.ShiftID, "DTB", "DS-0001", terminal.EINVALID, "not one the site accepts"},
		{"a malformed slip", f.admin, z.ShiftID, "KCB", "D;1", terminal.EINVALID, "bank reference"},
		{"a sale's reference", f.admin, z.ShiftID, "KCB", "FT24003ABC12", terminal.ECONFLICT, "already used on sale 1"},
	} {
		_, err := f.db.Deposit(ctx, c.op, c.shift, c.b, c.ref)
		if terminal.ErrorKind(err) != c.kind || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %s containing %q", c.name, err, c.kind, c.want)
		}
	}
	if after, _ := f.db.Counts(ctx); !maps.Equal(before, after) {
		t.Errorf("refused deposits changed the store: %v → %v", before, after)
	}
	d, err := f.db.Deposit(ctx, f.admin, z.ShiftID, "eqty", "ds 000042")
	if err != nil {
		t.Fatal(err)
	}
	if d.Amount != 530000 || d.Currency != "KES" || d.Bank != "EQTY" || d.Reference != "DS000042" || d.ShiftID != z.ShiftID {
		t.Errorf("deposit = %+v; want EQTY DS000042 KES 5,300.00 (counted less the float)", d)
	}
	evs, _ := f.db.Events(ctx, 0, 1000)
	last := evs[len(evs)-1]
	var p terminal.BankUsed
	if last.Type != terminal.EventBankUsed || json.Unmarshal(last.Payload, &p) != nil || p.DepositID != d.ID || p.ShiftID != z.ShiftID || p.Amount != 530000 {
		t.Errorf("last event %s %s; want bank.used of the deposit", last.Type, last.Payload)
	}
	if _, err := f.db.Deposit(ctx, f.admin, z.ShiftID, "KCB", "DS-0002"); terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "already banked (EQTY DS000042)") {
		t.Errorf("the shift banked twice: %v; want ECONFLICT", err)
	}
	if _, err := f.db.OpenShift(ctx, f.admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "bank:EQTY:DS000042")}, nil); terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(err.Error(), "shift's cash deposit") {
		t.Errorf("the deposit slip's reference as a sale's tender: %v; want ECONFLICT", err)
	}
}
