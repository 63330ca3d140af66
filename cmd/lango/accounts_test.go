package main

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

type unsettledOut struct {
	Unsettled []struct {
		SaleID     string           `json:"sale_id"`
		Vehicle    string           `json:"vehicle"`
		Operator   string           `json:"operator"`
		Licence    string           `json:"licence"`
		Phone      string           `json:"phone"`
		Due        map[string]int64 `json:"due"`
		AgeSeconds int64            `json:"age_seconds"`
	} `json:"unsettled"`
}

// TestCLIDeferOnAccount: sell --pay defer --owed-by LICENCE --phone
// records who owes; lango unsettled --json lists it with its operator,
// phone, plate and age until it is settled; bad accounts are refused with
// one line and nothing stored.
func TestCLIDeferOnAccount(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	out := c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=2", "--item", "VAN=1", "--vehicle", "KDA 123A", "--pay", "defer",
		"--owed-by", "TRA/TO/0412", "--phone", "0722 111222", "--json")
	var sale struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Pass  string `json:"pass"`
		Owed  struct {
			Operator, Name, Licence, Phone string
			KRAPIN                         string `json:"kra_pin"`
		} `json:"owed"`
	}
	if err := json.Unmarshal([]byte(out), &sale); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if sale.State != "deferred" || sale.Owed.Operator != "SAVANNA" || sale.Owed.Licence != "TRA/TO/0412" || sale.Owed.KRAPIN != "P051234567X" || sale.Owed.Phone != "+254722111222" {
		t.Fatalf("sale = %s; want deferred, owed by SAVANNA, +254722111222", out)
	}
	var us unsettledOut
	if err := json.Unmarshal([]byte(c.ok("unsettled", "--json")), &us); err != nil {
		t.Fatal(err)
	}
	if len(us.Unsettled) != 1 {
		t.Fatalf("unsettled = %+v; want the one deferred pass", us)
	}
	if u := us.Unsettled[0]; u.SaleID != sale.ID || u.Vehicle != "KDA 123A" || u.Operator != "SAVANNA" || u.Phone != "+254722111222" || u.Due["KES"] == 0 || u.AgeSeconds < 0 {
		t.Errorf("unsettled[0] = %+v; want the pass of KDA 123A owed by SAVANNA", u)
	}
	before := c.rowCounts()
	for _, tt := range []struct{ msg, pay, owedBy, phone string }{
		{`no tour operator has the code or licence "TRA/TO/9999"`, "defer", "TRA/TO/9999", ""},
		{`phone "0812345678" is not a Kenyan mobile number`, "defer", "SAVANNA", "0812345678"},
		{"only a deferred sale", "cash", "SAVANNA", ""},
	} {
		c.refused(1, tt.msg, "sell", "--as", "admin", "--item", "EAC-ADULT=1", "--item", "CAR=1", "--vehicle", "KCB 456Z", "--pay", tt.pay, "--owed-by", tt.owedBy, "--phone", tt.phone)
	}
	if after := c.rowCounts(); !maps.Equal(before, after) {
		t.Errorf("refused sales changed the store: %v → %v", before, after)
	}
	c.ok("settle", "--as", "admin", sale.Pass, "--pay", "cash", "--json")
	us = unsettledOut{}
	if err := json.Unmarshal([]byte(c.ok("unsettled", "--json")), &us); err != nil || len(us.Unsettled) != 0 {
		t.Errorf("after settling: unsettled = %+v, %v; want none", us, err)
	}
}

// TestUnsettledThroughHub: over loopback HTTP with a real hub, a deferred
// pass on account appears in the entry lane's `unsettled` and the hub
// report's `unsettled` with operator, phone, plate and age; once the exit
// lane settles it and both sync, it is in neither.
func TestUnsettledThroughHub(t *testing.T) {
	h, url := newHubServer(t)
	ctx := context.Background()
	entry, exit := newCLI(t), newCLI(t)
	entry.initNNP()
	exit.ok("init", "--site", "NNP", "--terminal", "exit-1", "--catalogue", catalogue("kws.json"))
	for _, c := range []struct {
		cli  *cli
		name string
	}{{entry, "gate-1"}, {exit, "exit-1"}} {
		tok, err := h.AddTerminal(ctx, "NNP", c.name)
		if err != nil {
			t.Fatal(err)
		}
		c.cli.ok("enroll", "--hub", url, "--token", tok)
		c.cli.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	}
	var sale struct{ ID, Pass string }
	if err := json.Unmarshal([]byte(entry.ok("sell", "--as", "admin", "--item", "INT-ADULT=2", "--item", "TOUR-VAN=1",
		"--vehicle", "KDA 123A", "--pay", "defer", "--owed-by", "NDOVU", "--phone", "+254 110 123456", "--json")), &sale); err != nil {
		t.Fatal(err)
	}
	entry.ok("sync", "--once")
	rep, err := h.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unsettled) != 1 {
		t.Fatalf("hub unsettled = %+v; want the pass of KDA 123A", rep.Unsettled)
	}
	u := rep.Unsettled[0]
	if u.SaleID != sale.ID || u.Terminal != "gate-1" || u.Vehicle != "KDA 123A" || u.Operator != "NDOVU" || u.Licence != "TRA/TO/1187" ||
		u.KRAPIN != "P052468013K" || u.Phone != "+254110123456" || u.Due["USD"] == 0 || u.AgeSeconds < 0 {
		t.Errorf("hub unsettled[0] = %+v; want KDA 123A owed by NDOVU, +254110123456", u)
	}
	// The report as JSON names the fields as the terminal does.
	b, _ := json.Marshal(rep)
	for _, k := range []string{`"operator":"NDOVU"`, `"phone":"+254110123456"`, `"vehicle":"KDA 123A"`, `"age_seconds":`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("hub report has no %s: %s", k, b)
		}
	}
	var us unsettledOut
	json.Unmarshal([]byte(entry.ok("unsettled", "--json")), &us)
	if len(us.Unsettled) != 1 || us.Unsettled[0].Operator != "NDOVU" {
		t.Errorf("entry lane unsettled = %+v; want the NDOVU pass", us)
	}

	exit.ok("settle", "--as", "admin", sale.Pass, "--pay", "cash", "--json")
	exit.ok("sync", "--once")
	entry.ok("sync", "--once")
	if rep, err = h.Report(ctx); err != nil || len(rep.Unsettled) != 0 {
		t.Errorf("hub unsettled after the settlement = %+v, %v; want none", rep.Unsettled, err)
	}
	us = unsettledOut{}
	json.Unmarshal([]byte(entry.ok("unsettled", "--json")), &us)
	if len(us.Unsettled) != 0 {
		t.Errorf("entry lane unsettled after the feed brought the settlement = %+v; want none", us)
	}
}

// TestCLIShiftCloseWithOpenPasses: lango shift close refuses (exit 1,
// listing the passes) while deferred passes of the shift are owed; with
// --supervisor (PIN from LANGO_SUPERVISOR_PIN) and --open-passes naming
// each, it closes and the Z-report lists them.
func TestCLIShiftCloseWithOpenPasses(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.env["LANGO_NEW_PIN"] = "8642"
	c.ok("operator", "add", "--as", "admin", "--name", "kamau", "--role", "attendant")
	c.env["LANGO_PIN"] = "8642"
	c.ok("shift", "open", "--as", "kamau", "--float", "KES=1000")
	var sale struct{ ID string }
	json.Unmarshal([]byte(c.ok("sell", "--as", "kamau", "--item", "EAC-ADULT=2", "--item", "VAN=1", "--vehicle", "KDA 123A", "--pay", "defer",
		"--owed-by", "SAVANNA", "--phone", "0722111222", "--json")), &sale)
	before := c.rowCounts()
	c.refused(1, "1 deferred passes of this shift are still owed: 1 KDA 123A, Savanna Trails Safaris Ltd", "shift", "close", "--as", "kamau", "--counted", "KES=1000")
	c.refused(2, "LANGO_SUPERVISOR_PIN", "shift", "close", "--as", "kamau", "--counted", "KES=1000", "--supervisor", "admin", "--open-passes", "1")
	c.env["LANGO_SUPERVISOR_PIN"] = "0000"
	c.refused(1, "", "shift", "close", "--as", "kamau", "--counted", "KES=1000", "--supervisor", "admin", "--open-passes", "1")
	c.env["LANGO_SUPERVISOR_PIN"] = "1234"
	c.refused(1, `"7" is not a deferred pass of this shift still owed`, "shift", "close", "--as", "kamau", "--counted", "KES=1000", "--supervisor", "admin", "--open-passes", "1,7")
	c.refused(2, "--open-passes needs --supervisor", "shift", "close", "--as", "kamau", "--counted", "KES=1000", "--open-passes", "1")
	after := c.rowCounts()
	delete(before, "operators") // a wrong supervisor PIN counts a failure
	delete(after, "operators")
	if !maps.Equal(before, after) {
		t.Errorf("refused closes changed the store: %v → %v", before, after)
	}
	var z struct {
		OpenPassesBy string `json:"open_passes_by"`
		OpenPasses   []struct {
			SaleID   string `json:"sale_id"`
			Number   int64  `json:"number"`
			Operator string `json:"operator"`
			Phone    string `json:"phone"`
			Vehicle  string `json:"vehicle"`
		} `json:"open_passes"`
	}
	out := c.ok("shift", "close", "--as", "kamau", "--counted", "KES=1000", "--supervisor", "admin", "--open-passes", "1", "--json")
	if err := json.Unmarshal([]byte(out), &z); err != nil {
		t.Fatal(err)
	}
	if z.OpenPassesBy != "admin" || len(z.OpenPasses) != 1 || z.OpenPasses[0].SaleID != sale.ID || z.OpenPasses[0].Operator != "SAVANNA" ||
		z.OpenPasses[0].Phone != "+254722111222" || z.OpenPasses[0].Vehicle != "KDA 123A" {
		t.Errorf("Z-report = %s; want pass 1 of KDA 123A named by admin", out)
	}
}

// TestCLIShiftReport: lango shift report --json and --csv list one
// shift's takings, which are its Z-report's tenders, and each tender sale
// by sale (a voided sale listed, not counted; a refund negative; a
// deferred pass with its due and who owes; its settlement); an unknown
// shift is refused.
func TestCLIShiftReport(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=2", "--pay", "cash:KES=5000")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "mpesa:SAB1234567")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "bank:KCB:FT24003ABC12")
	c.ok("sell", "--as", "admin", "--item", "EAC-CHILD=1", "--pay", "cash")
	c.ok("void", "--as", "admin", "4", "--reason", "keyed twice")
	c.ok("sell", "--as", "admin", "--item", "EAC-CHILD=2", "--pay", "cash")
	c.ok("refund", "--as", "admin", "5", "--reason", "road closed")
	var owed, plain struct{ ID, Pass string }
	json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--item", "CAR=1", "--vehicle", "KDA 123A", "--pay", "defer", "--owed-by", "KIBO", "--phone", "0722111222", "--json")), &owed)
	json.Unmarshal([]byte(c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--item", "CAR=1", "--vehicle", "KCB 456Z", "--pay", "defer", "--json")), &plain)
	c.ok("settle", "--as", "admin", plain.Pass, "--pay", "cash")

	type sheet struct {
		ShiftID string `json:"shift_id"`
		Takings []struct {
			Tender, Currency string
			Amount           int64
			Count            int
		} `json:"takings"`
		Sales []struct {
			Kind, State, Tender, Currency, Reference string
			SaleID                                   string `json:"sale_id"`
			Settles                                  string
			Amount, Due                              int64
			TourOperator                             string `json:"tour_operator"`
			Phone                                    string
		} `json:"sales"`
	}
	var sh sheet
	if err := json.Unmarshal([]byte(c.ok("shift", "report", "--json")), &sh); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, tk := range sh.Takings {
		got[tk.Tender+"/"+tk.Currency] = tk.Amount
	}
	// cash 4,000 + (child 500 refunded: 0) + settlement 2,300; M-PESA 2,000; bank 2,000.
	want := map[string]int64{"cash/KES": 400000 + 230000, "mpesa/KES": 200000, "bank/KES": 200000}
	if !maps.Equal(got, want) {
		t.Errorf("takings = %v; want %v", got, want)
	}
	kinds := map[string]int{}
	for _, r := range sh.Sales {
		kinds[r.Kind+"/"+r.State+"/"+r.Tender]++
		if r.SaleID == owed.ID && (r.Tender != "defer" || r.Due != 230000 || r.TourOperator != "KIBO" || r.Phone != "+254722111222") {
			t.Errorf("the pass on account: %+v; want a defer row of KES 2,300 owed by KIBO", r)
		}
		if r.Kind == "settlement" && (r.Settles != plain.ID || r.Amount != 230000) {
			t.Errorf("settlement row %+v; want KES 2,300 settling %s", r, plain.ID)
		}
	}
	wantKinds := map[string]int{"sale/paid/cash": 2, "sale/paid/mpesa": 1, "sale/paid/bank": 1, "sale/voided/cash": 1, "refund/refund/cash": 1,
		"sale/deferred/defer": 1, "sale/settled/defer": 1, "settlement/settled/cash": 1}
	if !maps.Equal(kinds, wantKinds) {
		t.Errorf("rows by kind/state/tender = %v; want %v", kinds, wantKinds)
	}
	csvOut := c.ok("shift", "report", "--shift", sh.ShiftID, "--csv")
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(lines) != 1+len(sh.Takings)+len(sh.Sales) || !strings.HasPrefix(lines[0], "record,shift_id,terminal,tender,currency,amount,count,") ||
		!strings.Contains(csvOut, "\ntaking,"+sh.ShiftID+",gate-1,cash,KES,6300.00,") {
		t.Errorf("CSV:\n%s\nwant a header, %d takings and %d rows, cash KES 6300.00", csvOut, len(sh.Takings), len(sh.Sales))
	}
	// The Z-report at close counts what the report said.
	var z struct {
		Tenders []struct {
			Tender, Currency string
			Amount           int64
		}
	}
	json.Unmarshal([]byte(c.ok("shift", "close", "--as", "admin", "--counted", "KES=7300", "--supervisor", "admin", "--open-passes", owed.ID, "--json")), &z)
	zt := map[string]int64{}
	for _, tt := range z.Tenders {
		zt[tt.Tender+"/"+tt.Currency] = tt.Amount
	}
	if !maps.Equal(zt, got) {
		t.Errorf("Z-report tenders %v; shift report %v", zt, got)
	}
	c.refused(1, `no shift "nope" at this terminal`, "shift", "report", "--shift", "nope", "--json")
	c.refused(2, "--json or --csv, not both", "shift", "report", "--json", "--csv")
}
