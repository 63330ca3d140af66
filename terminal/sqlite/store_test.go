package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// outageDay is 06:00 in Nairobi on the day the national platform went down.
var outageDay = time.Date(2024, 1, 3, 3, 0, 0, 0, time.UTC)

// fakeClock starts at outageDay and advances a second each reading.
func fakeClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return outageDay.Add(time.Duration(n.Add(1)) * time.Second) }
}

type fixture struct {
	db    *sqlite.DB
	admin *terminal.Operator
	path  string
}

func readCatalogue(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "catalogues", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTerminal makes a terminal at Nairobi NP with its admin's shift open.
func newTerminal(t testing.TB, settings map[string]string) *fixture {
	t.Helper()
	return newTerminalAt(t, "kws.json", "NNP", settings)
}

func newTerminalNamed(t testing.TB, name string) *fixture {
	t.Helper()
	return newTerminalFull(t, "kws.json", "NNP", name, nil)
}

func newTerminalAt(t testing.TB, catalogue, site string, settings map[string]string) *fixture {
	t.Helper()
	return newTerminalFull(t, catalogue, site, "gate-1", settings)
}

func newTerminalFull(t testing.TB, catalogue, site, name string, settings map[string]string) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lango.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = fakeClock()
	return &fixture{db: db, admin: initWithShift(t, db, catalogue, site, name, settings), path: path}
}

// initWithShift initialises db at site with its admin (PIN 1234), whose
// shift it opens, and returns the admin signed in.
func initWithShift(t testing.TB, db *sqlite.DB, catalogue, site, name string, settings map[string]string) *terminal.Operator {
	t.Helper()
	ctx := context.Background()
	if _, err := db.Init(ctx, terminal.InitRequest{Site: site, Name: name, Catalogue: readCatalogue(t, catalogue), AdminPIN: "1234", Settings: settings}); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Authenticate(ctx, "admin", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 500000}); err != nil {
		t.Fatal(err)
	}
	return admin
}

func mustTender(t testing.TB, specs ...string) []terminal.TenderRequest {
	t.Helper()
	var out []terminal.TenderRequest
	for _, s := range specs {
		tr, err := terminal.ParseTender(s)
		if err != nil {
			t.Fatalf("ParseTender(%q): %v", s, err)
		}
		out = append(out, tr)
	}
	return out
}

func familyCar() []terminal.LineRequest {
	return []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "EAC-CHILD", Qty: 2}, {Code: "CAR", Qty: 1}}
}

func TestSellCashWithChange(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "kcb 123a", Tenders: mustTender(t, "cash:KES=6000")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sale
	// 2 × 2,000 + 2 × 500 + 300 = KES 5,300.00; change KES 700.00
	if s.Totals["KES"] != 530000 || s.State != terminal.SalePaid {
		t.Fatalf("sale = %v %v; want KES 5,300.00 paid", s.Totals, s.State)
	}
	if len(s.Tenders) != 1 || s.Tenders[0].Change != 70000 || s.Tenders[0].Net() != 530000 {
		t.Errorf("tenders = %+v; want KES 6,000 with KES 700 change", s.Tenders)
	}
	if s.Vehicle != "KCB 123A" {
		t.Errorf("vehicle = %q; want KCB 123A", s.Vehicle)
	}
	// Durable: a new connection to the file sees the sale and its event.
	db2, err := sqlite.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	got, err := db2.Sale(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Totals["KES"] != 530000 || got.Number != 1 {
		t.Errorf("reopened sale = %+v", got)
	}
	evs, err := db2.Events(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Type != terminal.EventSaleCreated || !strings.Contains(string(last.Payload), s.ID) {
		t.Errorf("last event = %s %s; want sale.created for %s", last.Type, last.Payload, s.ID)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: gap", i, e.Seq)
		}
	}
}

func TestSellUSDPaidInKES(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	lines := []terminal.LineRequest{{Code: "INT-ADULT", Qty: 2}, {Code: "EAC-ADULT", Qty: 1}}
	// USD 160.00 at 129.50 = KES 20,720.00, plus KES 2,000.00.
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: lines, Tenders: mustTender(t, "mpesa:SG722NMVXQ")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sale
	if len(s.Conversions) != 1 {
		t.Fatalf("conversions = %+v; want one USD→KES", s.Conversions)
	}
	c := s.Conversions[0]
	if c.From != "USD" || c.To != "KES" || c.Amount != 16000 || c.Converted != 2072000 || c.Rate != "129.50" || c.Source == "" {
		t.Errorf("conversion = %+v; want USD 160.00 → KES 20,720.00 at 129.50 with source", c)
	}
	if len(s.Tenders) != 1 || s.Tenders[0].Amount != 2272000 || s.Tenders[0].Currency != "KES" {
		t.Errorf("tenders = %+v; want one M-PESA KES 22,720.00", s.Tenders)
	}
	if s.Totals["USD"] != 16000 || s.Totals["KES"] != 200000 {
		t.Errorf("totals = %v; want USD 160 + KES 2,000 (totals stay per currency)", s.Totals)
	}
}

func TestSplitTendersAndCurrencies(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	lines := []terminal.LineRequest{{Code: "INT-ADULT", Qty: 1}, {Code: "EAC-ADULT", Qty: 2}}
	// USD 80 in dollars cash; KES 4,000 split card 1,500 + cash 3,000 (500 change).
	// A card without an amount takes all the KES left, so KES cash after it
	// has nothing to pay: refused rather than taken as change.
	_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: lines, Tenders: mustTender(t, "cash:USD=100", "card:A1B2C3/4242", "cash:KES=3000")}, nil)
	if err == nil || !strings.Contains(err.Error(), "nothing is left to pay in KES") {
		t.Fatalf("err = %v; want refusal: nothing is left to pay in KES", err)
	}
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: lines, Tenders: mustTender(t, "cash:USD=100", "cash:KES=3000", "card:A1B2C3/4242")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sale
	want := []terminal.Tender{
		{Kind: "cash", Currency: "USD", Amount: 10000, Change: 2000},
		{Kind: "cash", Currency: "KES", Amount: 300000},
		{Kind: "card", Currency: "KES", Amount: 100000, Reference: "A1B2C3", CardLast4: "4242"},
	}
	if len(s.Tenders) != len(want) {
		t.Fatalf("tenders = %+v; want %+v", s.Tenders, want)
	}
	for i := range want {
		if s.Tenders[i] != want[i] {
			t.Errorf("tender %d = %+v; want %+v", i, s.Tenders[i], want[i])
		}
	}
	if len(s.Conversions) != 0 {
		t.Errorf("conversions = %+v; want none: USD was paid in USD", s.Conversions)
	}
}

func TestDeferredSale(t *testing.T) {
	f := newTerminal(t, nil)
	res, err := f.db.Sell(context.Background(), f.admin, terminal.SaleRequest{
		Lines:   []terminal.LineRequest{{Code: "INT-ADULT", Qty: 2}, {Code: "INT-CHILD", Qty: 3}, {Code: "TOUR-VAN", Qty: 1}},
		Vehicle: "KDA 001X", Tenders: mustTender(t, "defer")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sale
	if s.State != terminal.SaleDeferred || s.Due["USD"] != 26500 || s.Due["KES"] != 150000 || len(s.Tenders) != 0 {
		t.Errorf("sale = %v due %v tenders %v; want deferred, due USD 265 + KES 1,500, no tenders", s.State, s.Due, s.Tenders)
	}
	got := s.PartyCounts()
	if len(got) != 2 || got[0] != (terminal.PartyCount{Category: "INT", Band: "ADULT", Count: 2}) || got[1].Count != 3 {
		t.Errorf("party = %+v", got)
	}
}

// TestBadInputChangesNothing feeds each kind of bad input and checks that it
// is refused with a one-line message and that no table gained or lost a row.
func TestBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "mpesa:SG722NMVXQ")}, nil); err != nil {
		t.Fatal(err)
	}
	clerk, err := f.db.AddOperator(ctx, f.admin, "wanjiru", "attendant", "5678")
	if err != nil {
		t.Fatal(err)
	}
	mpesa := func(code string) []terminal.TenderRequest {
		return []terminal.TenderRequest{{Kind: terminal.TenderMpesa, Reference: code}}
	}
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"unknown item", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "VIP-PASS", Qty: 1}}, Tenders: mustTender(t, "cash")}, nil)
			return err
		}, `unknown item "VIP-PASS"`},
		{"quantity zero", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 0}}, Tenders: mustTender(t, "cash")}, nil)
			return err
		}, "at least 1"},
		{"quantity negative", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: -3}}, Tenders: mustTender(t, "cash")}, nil)
			return err
		}, "at least 1"},
		{"quantity absurd", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1 << 30}}, Tenders: mustTender(t, "cash")}, nil)
			return err
		}, "at most 500"},
		{"malformed M-PESA code", func() error {
			_, err := terminal.ParseTender("mpesa:SG722-NMVX")
			return err
		}, "not valid: it has 10 letters and digits"},
		{"reused M-PESA code", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mpesa("SG722NMVXQ")}, nil)
			return err
		}, "already used on sale 1"},
		{"tender short of the total", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "cash:KES=5000")}, nil)
			return err
		}, "short of the total: KES 300.00 still due"},
		{"card over the total", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCard, Reference: "AB12", Amount: &terminal.Money{Currency: "KES", Minor: 600000}}}}, nil)
			return err
		}, "more than the KES 5,300.00 due"},
		{"sale without an open shift", func() error {
			_, err := f.db.Sell(ctx, clerk, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "cash")}, nil)
			return err
		}, "no open shift"},
		{"closing a shift twice", func() error {
			_, err := f.db.CloseShift(ctx, clerk, terminal.Totals{"KES": 0})
			return err
		}, "no open shift to close"},
		{"wrong PIN of an unknown operator", func() error {
			_, err := f.db.Authenticate(ctx, "nobody", "1234")
			return err
		}, "unknown operator or wrong PIN"},
		{"defer with cash", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "defer", "cash")}, nil)
			return err
		}, "cannot be combined"},
		{"bad plate", func() error {
			_, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A; DROP TABLE", Tenders: mustTender(t, "cash")}, nil)
			return err
		}, "vehicle plate"},
		{"void by an attendant", func() error {
			_, err := f.db.Void(ctx, clerk, "x", "mistake")
			return err
		}, "only a supervisor"},
		{"void with no reason", func() error {
			_, err := f.db.Void(ctx, f.admin, "x", "  ")
			return err
		}, "reason is required"},
		{"void of an unknown sale", func() error {
			_, err := f.db.Void(ctx, f.admin, "0190aaaa-0000-7000-8000-000000000000", "mistake")
			return err
		}, "no sale"},
		{"corrupt catalogue", func() error {
			b := readCatalogue(t, "kws.json")
			_, err := terminal.ParseCatalogue(b[:len(b)-40])
			return err
		}, "catalogue file is not valid"},
		{"negative float", func() error {
			_, err := f.db.OpenShift(ctx, clerk, terminal.Totals{"KES": -1})
			return err
		}, "out of range"},
		{"duplicate operator", func() error {
			_, err := f.db.AddOperator(ctx, f.admin, "Wanjiru", "attendant", "9999")
			return err
		}, "already exists"},
		{"bad setting", func() error {
			_, err := f.db.SetSetting(ctx, "admin", "printer", "serial:/dev/ttyUSB0?baud=fast")
			return err
		}, "baud"},
		{"device setting its adapter refuses", func() error {
			f.db.CheckDevice = func(key, value string) error {
				if key != "printer" {
					t.Errorf("CheckDevice asked about %s", key)
				}
				return terminal.Errorf(terminal.EINVALID, "unknown printer profile %q", "nope")
			}
			defer func() { f.db.CheckDevice = nil }()
			_, err := f.db.SetSetting(ctx, "admin", "printer", "serial:/dev/ttyUSB0?profile=nope")
			return err
		}, "unknown printer profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := f.db.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.do()
			if err == nil {
				t.Fatalf("accepted; want refusal containing %q", tt.want)
			}
			msg := terminal.ErrorMessage(err)
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("message = %q; want one line containing %q", msg, tt.want)
			}
			if k := terminal.ErrorKind(err); k == terminal.EINTERNAL {
				t.Errorf("kind = internal; want a user-facing kind")
			}
			after, err := f.db.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for table, n := range before {
				if after[table] != n {
					t.Errorf("table %s: %d rows before, %d after", table, n, after[table])
				}
			}
		})
	}
}

func TestWrongPINLockout(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	before, _ := f.db.Counts(ctx)
	_, err := f.db.Authenticate(ctx, "admin", "0000")
	if err == nil || !strings.Contains(err.Error(), "wrong PIN (4 tries left") {
		t.Fatalf("err = %v; want wrong PIN with 4 tries left", err)
	}
	after, _ := f.db.Counts(ctx)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("wrong PIN changed table %s: %d → %d rows", table, n, after[table])
		}
	}
	for i := 0; i < 3; i++ {
		f.db.Authenticate(ctx, "admin", "0000")
	}
	if _, err := f.db.Authenticate(ctx, "admin", "0000"); err == nil || !strings.Contains(err.Error(), "now locked") {
		t.Fatalf("5th wrong PIN: err = %v; want locked", err)
	}
	// Locked: even the right PIN is refused.
	if _, err := f.db.Authenticate(ctx, "admin", "1234"); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("right PIN while locked: err = %v; want locked", err)
	}
	// After the lockout period the right PIN works again.
	clock := f.db.Now
	f.db.Now = func() time.Time { return clock().Add(terminal.LockoutPeriod + time.Minute) }
	if _, err := f.db.Authenticate(ctx, "admin", "1234"); err != nil {
		t.Fatalf("after lockout: %v", err)
	}
}

func TestZReport(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	sell := func(lines []terminal.LineRequest, tenders ...string) *terminal.Sale {
		t.Helper()
		res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: lines, Tenders: mustTender(t, tenders...)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Sale
	}
	sell(familyCar(), "cash:KES=6000")                                                        // cash 5,300 (700 change)
	sell(familyCar(), "mpesa:QWERTY1234")                                                     // M-PESA 5,300
	sell([]terminal.LineRequest{{Code: "INT-ADULT", Qty: 1}}, "cash:USD=100")                 // cash USD 80 (20 change)
	voided := sell([]terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}}, "cash:KES=2000")      // voided below
	sell([]terminal.LineRequest{{Code: "INT-ADULT", Qty: 2}, {Code: "CAR", Qty: 1}}, "defer") // deferred
	sell([]terminal.LineRequest{{Code: "EAC-CHILD", Qty: 1}}, "card:XY99")                    // card 500
	if _, err := f.db.Void(ctx, f.admin, voided.ID, "keyed twice"); err != nil {
		t.Fatal(err)
	}
	// The deferred pass (sale 5) is still owed: the supervisor names it.
	z, err := f.db.CloseShiftNaming(ctx, f.admin, terminal.Totals{"KES": 1029000, "USD": 8000}, terminal.OpenPassNaming{Supervisor: f.admin, Passes: []string{"5"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"cash/KES": 530000, "cash/USD": 8000, "mpesa/KES": 530000, "card/KES": 50000}
	if len(z.Tenders) != len(want) {
		t.Errorf("tenders = %+v; want %v", z.Tenders, want)
	}
	for _, tt := range z.Tenders {
		if w := want[string(tt.Tender)+"/"+string(tt.Currency)]; tt.Amount != w {
			t.Errorf("%s %s = %d; want %d", tt.Tender, tt.Currency, tt.Amount, w)
		}
	}
	// Expected KES cash = 5,000 float + 5,300 = 10,300; counted 10,290 → −10.
	if z.Expected["KES"] != 1030000 || z.Variance["KES"] != -1000 {
		t.Errorf("KES expected %d variance %d; want 1030000, -1000", z.Expected["KES"], z.Variance["KES"])
	}
	if z.Expected["USD"] != 8000 || z.Variance["USD"] != 0 {
		t.Errorf("USD expected %d variance %d; want 8000, 0", z.Expected["USD"], z.Variance["USD"])
	}
	if z.Sales != 5 || z.Voided != 1 || z.Deferred != 1 || z.DeferredDue["USD"] != 16000 || z.DeferredDue["KES"] != 30000 {
		t.Errorf("z = sales %d voided %d deferred %d due %v; want 5, 1, 1, USD 160 + KES 300", z.Sales, z.Voided, z.Deferred, z.DeferredDue)
	}
	if _, err := f.db.CloseShift(ctx, f.admin, terminal.Totals{"KES": 0}); err == nil {
		t.Error("closing twice succeeded")
	}
}

func TestCloseShiftNeedsEveryCurrencyCounted(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "INT-ADULT", Qty: 1}}, Tenders: mustTender(t, "cash:USD=80")}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := f.db.CloseShift(ctx, f.admin, terminal.Totals{"KES": 500000})
	if err == nil || !strings.Contains(err.Error(), "count the USD cash too") {
		t.Fatalf("err = %v; want a request to count USD", err)
	}
	if _, err := f.db.CurrentShift(ctx, f.admin); err != nil {
		t.Errorf("shift closed despite refusal: %v", err)
	}
}

func TestVoidAndRefund(t *testing.T) {
	f := newTerminal(t, nil)
	ctx := context.Background()
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "mpesa:ABCDE12345")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := f.db.Refund(ctx, f.admin, res.Sale.ID, "visitor turned back: road closed")
	if err != nil {
		t.Fatal(err)
	}
	if rf.Kind != "refund" || rf.Totals["KES"] != -530000 || rf.Tenders[0].Amount != -530000 || rf.RefundOf != res.Sale.ID {
		t.Errorf("refund = %+v", rf)
	}
	orig, _ := f.db.Sale(ctx, res.Sale.ID)
	if orig.State != terminal.SalePaid || orig.Totals["KES"] != 530000 {
		t.Errorf("original edited: %+v", orig)
	}
	if _, err := f.db.Refund(ctx, f.admin, res.Sale.ID, "again"); err == nil || !strings.Contains(err.Error(), "already refunded") {
		t.Errorf("second refund: err = %v; want already refunded", err)
	}
	v, err := f.db.Void(ctx, f.admin, res.Sale.ID, "keyed twice")
	if err != nil || v.State != terminal.SaleVoided || v.Void.By != "admin" {
		t.Fatalf("void: %+v, %v", v, err)
	}
	if _, err := f.db.Void(ctx, f.admin, res.Sale.ID, "again"); err == nil || !strings.Contains(err.Error(), "already voided") {
		t.Errorf("second void: err = %v; want already voided", err)
	}
	if err := f.db.VerifyAudit(ctx); err != nil {
		t.Errorf("audit after void and refund: %v", err)
	}
}

func TestCounterSale(t *testing.T) {
	f := newTerminalAt(t, "counters.json", "HUDUMA-GPO", nil)
	ctx := context.Background()
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "BIRTH-CERT", Qty: 2}}, Tenders: mustTender(t, "mpesa:TST0000001")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sale.Totals["KES"] != 40000 {
		t.Errorf("totals = %v; want KES 400.00", res.Sale.Totals)
	}
	if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "BIRTH-CERT", Qty: 1}}, Tenders: mustTender(t, "defer")}, nil); err == nil {
		t.Error("deferred payment at a counter accepted; want refusal")
	}
	s, _ := f.db.Settings(ctx)
	if s["mode"] != "counter" {
		t.Errorf("mode = %q; want counter at a counter site", s["mode"])
	}
}

func TestPrintJobQueuedWithSale(t *testing.T) {
	f := newTerminal(t, map[string]string{"printer": "emulator:" + t.TempDir()})
	ctx := context.Background()
	res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "cash")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.PrintJob == "" {
		t.Fatal("no print job queued")
	}
	var saleID string
	if err := f.db.SQL().QueryRow(`SELECT sale_id FROM print_jobs WHERE id = ? AND printed_at IS NULL`, res.PrintJob).Scan(&saleID); err != nil || saleID != res.Sale.ID {
		t.Errorf("print job row: sale %q, %v; want pending job for %s", saleID, err, res.Sale.ID)
	}
}

func TestInitRefusals(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	good := readCatalogue(t, "kws.json")
	for _, tt := range []struct {
		name string
		req  terminal.InitRequest
		want string
	}{
		{"corrupt catalogue", terminal.InitRequest{Site: "NNP", Name: "g1", Catalogue: good[:100], AdminPIN: "1234"}, "catalogue file is not valid"},
		{"unknown site", terminal.InitRequest{Site: "MARA", Name: "g1", Catalogue: good, AdminPIN: "1234"}, "not in catalogue"},
		{"short PIN", terminal.InitRequest{Site: "NNP", Name: "g1", Catalogue: good, AdminPIN: "12"}, "4 to 12 digits"},
		{"bad name", terminal.InitRequest{Site: "NNP", Name: "gate one!", Catalogue: good, AdminPIN: "1234"}, "terminal name"},
		{"bad printer", terminal.InitRequest{Site: "NNP", Name: "g1", Catalogue: good, AdminPIN: "1234", Settings: map[string]string{"printer": "lpt1"}}, `printer setting "lpt1": use emulator:DIR`},
	} {
		_, err := db.Init(ctx, tt.req)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v; want %q", tt.name, err, tt.want)
		}
		n, _ := db.Counts(ctx)
		for table, c := range n {
			if c != 0 {
				t.Errorf("%s: table %s has %d rows after refusal", tt.name, table, c)
			}
		}
	}
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "g1", Catalogue: good, AdminPIN: "1234"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "g2", Catalogue: good, AdminPIN: "1234"}); err == nil || !strings.Contains(err.Error(), "already holds a terminal") {
		t.Errorf("second init: err = %v", err)
	}
}

// TestCheckDeviceOnlyForDevices: the adapters' check runs for printer, pdq
// and scanner settings, at Init as at SetSetting, and for nothing else.
func TestCheckDeviceOnlyForDevices(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	var asked []string
	f.db.CheckDevice = func(key, value string) error {
		asked = append(asked, key+"="+value)
		return nil
	}
	for _, kv := range [][2]string{{"language", "sw"}, {"mode", "exit"}, {"printer", "none"}, {"pdq", "manual"}, {"scanner", "keyboard"}} {
		if _, err := f.db.SetSetting(ctx, "admin", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if want := "[printer=none pdq=manual scanner=keyboard]"; fmt.Sprint(asked) != want {
		t.Errorf("CheckDevice asked about %v; want %s", asked, want)
	}

	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.CheckDevice = func(key, value string) error { return terminal.Errorf(terminal.EINVALID, "no such %s", key) }
	_, err = db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: readCatalogue(t, "kws.json"), AdminPIN: "1234",
		Settings: map[string]string{"printer": "serial:/dev/ttyUSB0"}})
	if err == nil || !strings.Contains(terminal.ErrorMessage(err), "no such printer") {
		t.Errorf("Init with a printer its adapter refuses: %v", err)
	}
	if _, err := db.Identity(ctx); err == nil {
		t.Error("a refused Init left a terminal behind")
	}
}

// TestSetOperatorPIN: a supervisor gives an operator a new PIN: the old
// one stops working, the lockout ends, and the event carries the hash for
// a site operator only. Refusals change nothing.
func TestSetOperatorPIN(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	clerk, err := f.db.AddOperator(ctx, f.admin, "achieng", "attendant", "1111")
	if err != nil {
		t.Fatal(err)
	}
	for range terminal.MaxPINFailures {
		f.db.Authenticate(ctx, "achieng", "9999")
	}
	if _, err := f.db.Authenticate(ctx, "achieng", "1111"); err == nil {
		t.Fatal("no lockout after five wrong PINs")
	}
	before, _ := f.db.Counts(ctx)
	for _, c := range []struct {
		by        *terminal.Operator
		name, pin string
		want      string
	}{
		{clerk, "achieng", "2222", "only a supervisor"},
		{f.admin, "nobody", "2222", "no operator named"},
		{f.admin, "achieng", "12", "PIN"},
	} {
		_, err := f.db.SetOperatorPIN(ctx, c.by, c.name, c.pin)
		if err == nil || !strings.Contains(terminal.ErrorMessage(err), c.want) {
			t.Errorf("SetOperatorPIN(%s, %s, %s): %v; want %q", c.by.Name, c.name, c.pin, err, c.want)
		}
	}
	if after, _ := f.db.Counts(ctx); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused PIN changes changed the store: %v → %v", before, after)
	}
	if _, err := f.db.SetOperatorPIN(ctx, f.admin, "achieng", "2222"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Authenticate(ctx, "achieng", "2222"); err != nil {
		t.Errorf("the new PIN (and the lockout's end): %v", err)
	}
	if _, err := f.db.Authenticate(ctx, "achieng", "1111"); err == nil {
		t.Error("the old PIN still works")
	}
	if _, err := f.db.SetOperatorPIN(ctx, f.admin, "admin", "5678"); err != nil {
		t.Fatal(err)
	}
	evs, err := f.db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var payloads []string
	for _, e := range evs {
		if e.Type == terminal.EventOperatorPIN {
			var m map[string]any
			json.Unmarshal(e.Payload, &m)
			_, hasHash := m["pin_hash"]
			payloads = append(payloads, fmt.Sprintf("%v/%v/%v", m["name"], m["scope"], hasHash))
		}
	}
	if got := strings.Join(payloads, " "); got != "achieng/site/true admin/terminal/false" {
		t.Errorf("operator.pin_changed events: %s; want achieng's with its hash, admin's without", got)
	}
}

// TestDisableOperator: a supervisor disables a clerk who left: the clerk
// can no longer sign in and is not offered at the login, and the record
// stays. A supervisor cannot disable themselves, an attendant cannot
// disable anyone, an operator with a shift open is not disabled, and
// refusals change nothing.
func TestDisableOperator(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	clerk, err := f.db.AddOperator(ctx, f.admin, "otieno", "attendant", "1111")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.OpenShift(ctx, clerk, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	before, _ := f.db.Counts(ctx)
	for _, c := range []struct {
		by   *terminal.Operator
		name string
		want string
	}{
		{clerk, "admin", "only a supervisor"},
		{f.admin, "admin", "cannot disable themselves"},
		{f.admin, "nobody", "no operator named"},
		{f.admin, "otieno", "close it first"},
	} {
		if _, err := f.db.DisableOperator(ctx, c.by, c.name); err == nil || !strings.Contains(terminal.ErrorMessage(err), c.want) {
			t.Errorf("DisableOperator(%s, %s): %v; want %q", c.by.Name, c.name, err, c.want)
		}
	}
	if after, _ := f.db.Counts(ctx); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refusals changed the store: %v → %v", before, after)
	}
	if _, err := f.db.CloseShift(ctx, clerk, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.DisableOperator(ctx, f.admin, "otieno"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Authenticate(ctx, "otieno", "1111"); err == nil || !strings.Contains(terminal.ErrorMessage(err), "disabled") {
		t.Errorf("a disabled clerk signs in: %v", err)
	}
	ops, _ := f.db.Operators(ctx)
	for _, o := range ops {
		if o.Name == "otieno" {
			t.Error("a disabled clerk is offered at the login")
		}
	}
	if o, err := f.db.Operator(ctx, "otieno"); err != nil || o.DisabledAt.IsZero() {
		t.Errorf("the disabled clerk's record: %+v %v", o, err)
	}
	if _, err := f.db.DisableOperator(ctx, f.admin, "otieno"); err == nil || !strings.Contains(terminal.ErrorMessage(err), "already disabled") {
		t.Errorf("disabling twice: %v", err)
	}
}
