package terminal_test

import (
	"errors"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

func TestSaleCanVoid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sale   terminal.Sale
		closed bool
		want   string // "" when it can be voided
	}{
		{"paid, shift open", terminal.Sale{Number: 1, Kind: "sale", State: terminal.SalePaid}, false, ""},
		{"deferred, shift open", terminal.Sale{Number: 2, Kind: "sale", State: terminal.SaleDeferred}, false, ""},
		{"already voided", terminal.Sale{Number: 3, Kind: "sale", State: terminal.SaleVoided}, false, "sale 3 is already voided"},
		{"a refund", terminal.Sale{Number: 4, Kind: "refund", State: terminal.SalePaid}, false, "sale 4 is a refund; refunds cannot be voided"},
		{"settled at exit", terminal.Sale{Number: 5, Kind: "sale", State: terminal.SaleSettled}, false, "sale 5 was settled at exit; refund it instead"},
		{"shift closed", terminal.Sale{Number: 6, Kind: "sale", State: terminal.SalePaid}, true, "sale 6 belongs to a closed shift: refund it instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sale.CanVoid(tc.closed)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if terminal.ErrorKind(err) != terminal.ECONFLICT || err.Error() != tc.want {
				t.Fatalf("got %v (%s), want ECONFLICT %q", err, terminal.ErrorKind(err), tc.want)
			}
		})
	}
}

func TestSaleReversal(t *testing.T) {
	at := time.Date(2025, 1, 3, 9, 0, 0, 0, time.UTC)
	paid := terminal.Sale{ID: "s1", Number: 7, Kind: "sale", State: terminal.SalePaid, Terminal: "t1", Site: "NNP", Vehicle: "KDA 123A", CatalogueVersion: "v1",
		Lines:   []terminal.Line{{Code: "CIT-ADULT", Qty: 2, Currency: "KES", Total: 100000}, {Code: "VEH-6", Qty: 1, Currency: "KES", Total: 50000}},
		Totals:  terminal.Totals{"KES": 150000},
		Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: 200000, Change: 50000}, {Kind: terminal.TenderCard, Currency: "KES", Amount: 0, Reference: "A1", CardLast4: "4242"}}}
	rf, err := paid.Reversal("r1", "sh2", "wanjiru", at)
	if err != nil {
		t.Fatal(err)
	}
	if rf.Kind != "refund" || rf.RefundOf != "s1" || rf.ShiftID != "sh2" || rf.Operator != "wanjiru" || !rf.At.Equal(at) || rf.State != terminal.SalePaid || rf.Vehicle != "KDA 123A" {
		t.Errorf("refund %+v", rf)
	}
	if rf.Totals["KES"] != -150000 || len(rf.Lines) != 2 || rf.Lines[0].Qty != -2 || rf.Lines[0].Total != -100000 || rf.Lines[1].Total != -50000 {
		t.Errorf("refund lines %+v totals %v", rf.Lines, rf.Totals)
	}
	// The cash tender gives back what the drawer kept: 2,000 less 500 change.
	if rf.Tenders[0].Amount != -150000 || rf.Tenders[0].Change != 0 || rf.Tenders[1].Reference != "A1" || rf.Tenders[1].CardLast4 != "4242" {
		t.Errorf("refund tenders %+v", rf.Tenders)
	}
	if paid.Totals["KES"] != 150000 || paid.Lines[0].Qty != 2 {
		t.Error("the original was changed")
	}
	for _, s := range []terminal.Sale{
		{Number: 8, Kind: "sale", State: terminal.SaleDeferred},
		{Number: 9, Kind: "sale", State: terminal.SaleVoided},
		{Number: 10, Kind: "refund", State: terminal.SalePaid},
	} {
		if _, err := s.Reversal("r", "sh", "w", at); terminal.ErrorKind(err) != terminal.ECONFLICT {
			t.Errorf("sale %d %s %s: %v, want ECONFLICT", s.Number, s.Kind, s.State, err)
		}
	}
}

func TestQuoteSettlement(t *testing.T) {
	cat := loadCatalogue(t, "kws.json")
	issued := time.Date(2025, 1, 3, 6, 0, 0, 0, time.UTC)
	until := issued.Add(24 * time.Hour)
	deferred := func(site string) *terminal.PassCheck {
		return &terminal.PassCheck{State: "deferred", Pass: terminal.Pass{Site: site, IssuedAt: issued, ValidUntil: until,
			Party: []terminal.PartyLine{{Category: "EAC", Band: "ADULT", Count: 2}}, Due: terminal.Amounts{{Currency: "KES", Minor: 100000}}}}
	}
	expired := func(site string) *terminal.PassCheck {
		pc := deferred(site)
		pc.Refusal = terminal.RefusePass(terminal.PassExpired, "valid until %s", until)
		return pc
	}
	// What one adult citizen pays a day at Nairobi, as the catalogue prices
	// a sale: the overstay is that per visitor and day.
	dayFee := func(at time.Time) int64 {
		p, err := cat.Price(at, "NNP", []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return p.Totals["KES"]
	}
	for _, tc := range []struct {
		name     string
		pc       *terminal.PassCheck
		now      time.Time
		reason   terminal.PassReason // the refusal's reason, if refused so
		kind     string              // or its kind
		overstay int                 // visitor-days of overstay
	}{
		{"within validity", deferred("NNP"), until.Add(-time.Hour), "", "", 0},
		{"within the grace", expired("NNP"), until.Add(59 * time.Minute), "", "", 0},
		{"past the grace: one day", expired("NNP"), until.Add(61 * time.Minute), "", "", 2},
		{"three days over", expired("NNP"), until.Add(2*24*time.Hour + time.Hour + time.Minute), "", "", 6},
		{"expired, no overstay rule", expired("AMB"), until.Add(2 * time.Hour), terminal.PassExpired, "", 0},
		{"already settled", func() *terminal.PassCheck { pc := deferred("NNP"); pc.State = "settled"; return pc }(), until, terminal.PassAlreadyUsed, "", 0},
		{"bad signature", func() *terminal.PassCheck {
			pc := deferred("NNP")
			pc.Refusal = terminal.RefusePass(terminal.PassBadSignature, "x")
			return pc
		}(), until, terminal.PassBadSignature, "", 0},
		{"paid at entry", func() *terminal.PassCheck {
			pc := deferred("NNP")
			pc.State, pc.Pass.Paid, pc.Pass.Due = "paid", true, nil
			return pc
		}(), until.Add(-time.Hour), "", terminal.ECONFLICT, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := terminal.QuoteSettlement(cat, tc.pc, tc.now)
			switch {
			case tc.reason != "":
				if terminal.PassReasonOf(err) != tc.reason {
					t.Fatalf("got %v, want refusal %s", err, tc.reason)
				}
				return
			case tc.kind != "":
				if terminal.ErrorKind(err) != tc.kind {
					t.Fatalf("got %v, want %s", err, tc.kind)
				}
				return
			case err != nil:
				t.Fatalf("refused: %v", err)
			}
			if q.Check.Refusal != nil {
				t.Error("a quoted pass keeps its expiry refusal")
			}
			want := int64(100000)
			if tc.overstay > 0 {
				if len(q.Overstay) != 1 || q.Overstay[0].Qty != tc.overstay {
					t.Fatalf("overstay %+v, want %d visitor-days", q.Overstay, tc.overstay)
				}
				want += int64(tc.overstay) * dayFee(tc.now)
			} else if len(q.Overstay) != 0 {
				t.Fatalf("overstay %+v, want none", q.Overstay)
			}
			if q.Due["KES"] != 100000 || q.Totals["KES"] != want || len(q.Totals) != 1 {
				t.Errorf("due %v totals %v, want KES 1,000.00 due and %d in all", q.Due, q.Totals, want)
			}
		})
	}
}

func TestPINLockSignIn(t *testing.T) {
	now := time.Date(2025, 1, 3, 6, 0, 0, 0, time.UTC)
	eat := time.FixedZone("EAT", 3*3600)
	for _, tc := range []struct {
		name      string
		lock      terminal.PINLock
		ok        bool
		next      terminal.PINLock
		lockedNow bool
		id        string // the refusal's message id, "" when signed in
	}{
		{"right PIN", terminal.PINLock{}, true, terminal.PINLock{}, false, ""},
		{"right PIN clears the count", terminal.PINLock{Failures: 3}, true, terminal.PINLock{}, false, ""},
		{"first wrong PIN", terminal.PINLock{}, false, terminal.PINLock{Failures: 1}, false, "wrong_pin_tries"},
		{"fourth wrong PIN", terminal.PINLock{Failures: 3}, false, terminal.PINLock{Failures: 4}, false, "wrong_pin_tries"},
		{"fifth wrong PIN locks", terminal.PINLock{Failures: 4}, false, terminal.PINLock{LockedUntil: now.Add(terminal.LockoutPeriod)}, true, "locked_now"},
		{"locked: even the right PIN is refused", terminal.PINLock{LockedUntil: now.Add(time.Minute)}, true, terminal.PINLock{LockedUntil: now.Add(time.Minute)}, false, "locked"},
		{"locked: a wrong PIN changes nothing", terminal.PINLock{LockedUntil: now.Add(time.Minute)}, false, terminal.PINLock{LockedUntil: now.Add(time.Minute)}, false, "locked"},
		{"the lock has ended", terminal.PINLock{LockedUntil: now}, true, terminal.PINLock{}, false, ""},
		{"a wrong PIN after the lock starts a new count", terminal.PINLock{LockedUntil: now.Add(-time.Second)}, false, terminal.PINLock{Failures: 1}, false, "wrong_pin_tries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, lockedNow, err := tc.lock.SignIn("achieng", tc.ok, now, eat)
			if next != tc.next || lockedNow != tc.lockedNow {
				t.Errorf("next %+v locked now %v, want %+v %v", next, lockedNow, tc.next, tc.lockedNow)
			}
			var te *terminal.Error
			switch {
			case tc.id == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.id != "" && (!errors.As(err, &te) || te.ID != tc.id || te.Kind != terminal.EUNAUTHORIZED):
				t.Errorf("got %v, want EUNAUTHORIZED %s", err, tc.id)
			}
		})
	}
	_, _, err := terminal.PINLock{LockedUntil: now.Add(15 * time.Minute)}.SignIn("achieng", true, now, eat)
	if want := "achieng is locked after 5 wrong PINs until 09:15 EAT; try later or ask a supervisor"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestOperatorMerge(t *testing.T) {
	t0 := time.Date(2025, 1, 3, 6, 0, 0, 0, time.UTC)
	const a, b = "0190a000-0000-7000-8000-00000000000a", "0190a000-0000-7000-8000-00000000000b"
	for _, tc := range []struct {
		name  string
		held  terminal.HeldOperator
		id    string
		added time.Time
		keeps bool
	}{
		{"this terminal's own stays", terminal.HeldOperator{ID: b, Own: true, AddedAt: t0.Add(time.Hour)}, a, t0, true},
		{"an earlier one from elsewhere stays", terminal.HeldOperator{ID: b, AddedAt: t0}, a, t0.Add(time.Second), true},
		{"a later one gives way", terminal.HeldOperator{ID: a, AddedAt: t0.Add(time.Second)}, b, t0, false},
		{"same time: the smaller id stays", terminal.HeldOperator{ID: a, AddedAt: t0}, b, t0, true},
		{"same time: the larger id gives way", terminal.HeldOperator{ID: b, AddedAt: t0}, a, t0, false},
		{"a later one that worked here stays", terminal.HeldOperator{ID: a, AddedAt: t0.Add(time.Second), Worked: true}, b, t0, true},
	} {
		if got := tc.held.KeepsName(tc.id, tc.added); got != tc.keeps {
			t.Errorf("%s: keeps %v, want %v", tc.name, got, tc.keeps)
		}
	}
}

func TestOperatorFromFeed(t *testing.T) {
	hash, err := terminal.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	good := terminal.OperatorRecord{ID: "0190a000-0000-7000-8000-00000000000a", Name: "achieng", Role: terminal.RoleAttendant, Scope: terminal.ScopeSite, PINHash: hash}
	if !good.FromFeed(true) {
		t.Fatal("a well-formed site operator is refused")
	}
	for _, tc := range []struct {
		name    string
		edit    func(*terminal.OperatorRecord)
		withPIN bool
	}{
		{"a terminal's own operator", func(r *terminal.OperatorRecord) { r.Scope = terminal.ScopeTerminal }, false},
		{"not a UUID", func(r *terminal.OperatorRecord) { r.ID = "admin" }, false},
		{"a name ValidateName would change", func(r *terminal.OperatorRecord) { r.Name = " Achieng" }, false},
		{"no name", func(r *terminal.OperatorRecord) { r.Name = "" }, false},
		{"an unknown role", func(r *terminal.OperatorRecord) { r.Role = "root" }, false},
		{"a PIN hash HashPIN would not make", func(r *terminal.OperatorRecord) { r.PINHash = "1234" }, true},
	} {
		r := good
		tc.edit(&r)
		if r.FromFeed(tc.withPIN) {
			t.Errorf("%s: accepted from the feed", tc.name)
		}
	}
	if noPIN := good; !func() bool { noPIN.PINHash = ""; return noPIN.FromFeed(false) }() {
		t.Error("a disabled operator (no PIN) is refused where no PIN is needed")
	}
}
