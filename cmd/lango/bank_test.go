package main

import (
	"encoding/json"
	"maps"
	"testing"
)

// TestCLIBankTender: --pay bank:BANK:REFERENCE[=AMOUNT] records the bank
// and its reference on the sale; a reference used once, a bank the
// catalogue does not list and a malformed reference are refused (exit 1,
// one line, nothing stored).
func TestCLIBankTender(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	out := c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=2", "--pay", "bank:kcb:FT24003ABC12=3000", "--pay", "cash", "--json")
	var res struct {
		State   string `json:"state"`
		Tenders []struct {
			Kind      string           `json:"kind"`
			Amount    map[string]int64 `json:"amount"`
			Bank      string           `json:"bank"`
			Reference string           `json:"reference"`
		} `json:"tenders"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.State != "paid" || len(res.Tenders) != 2 || res.Tenders[0].Kind != "bank" || res.Tenders[0].Bank != "KCB" ||
		res.Tenders[0].Reference != "FT24003ABC12" || res.Tenders[0].Amount["KES"] != 300000 || res.Tenders[1].Kind != "cash" {
		t.Fatalf("sale = %s; want KCB FT24003ABC12 KES 3,000 then cash", out)
	}
	before := c.rowCounts()
	for _, tt := range []struct{ msg, pay string }{
		{"KCB FT24003ABC12 was already used on sale 1", "bank:KCB:ft24003abc12"},
		{"bank DTB is not one the site accepts", "bank:DTB:FT24003ABC13"},
		{`bank reference "FT;1" is not valid`, "bank:KCB:FT;1"},
		{"bank:BANK:REFERENCE", "bank:KCB"},
	} {
		c.refused(1, tt.msg, "sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", tt.pay)
	}
	if after := c.rowCounts(); !maps.Equal(before, after) {
		t.Errorf("refused bank tenders changed the store: %v → %v", before, after)
	}
}

// TestCLIDeposit: lango deposit banks a closed shift's takings once, by a
// supervisor, with a slip reference the catalogue's bank accepts.
func TestCLIDeposit(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=2", "--pay", "cash")
	var z struct {
		ShiftID string `json:"shift_id"`
	}
	if out := c.ok("shift", "close", "--as", "admin", "--counted", "KES=5000", "--json"); json.Unmarshal([]byte(out), &z) != nil || z.ShiftID == "" {
		t.Fatalf("Z-report without shift_id: %s", out)
	}
	c.refused(1, "no shift", "deposit", "--as", "admin", "--shift", "0190aaaa-0000-7000-8000-000000000000", "--bank", "KCB", "--reference", "DS-0001")
	c.refused(1, "not one the site accepts", "deposit", "--as", "admin", "--shift", z.ShiftID, "--bank", "DTB", "--reference", "DS-0001")
	c.refused(2, "deposit --as SUPERVISOR --shift ID --bank BANK --reference REF", "deposit", "--as", "admin", "--shift", z.ShiftID)
	out := c.ok("deposit", "--as", "admin", "--shift", z.ShiftID, "--bank", "kcb", "--reference", "DS-0001", "--json")
	var d struct {
		Bank      string           `json:"bank"`
		Reference string           `json:"reference"`
		Amount    map[string]int64 `json:"amount"`
	}
	if json.Unmarshal([]byte(out), &d) != nil || d.Bank != "KCB" || d.Reference != "DS-0001" || d.Amount["KES"] != 400000 {
		t.Errorf("deposit = %s; want KCB DS-0001 {KES: 400000} (counted 5,000 less the 1,000 float)", out)
	}
	c.refused(1, "already banked", "deposit", "--as", "admin", "--shift", z.ShiftID, "--bank", "KCB", "--reference", "DS-0002")
}
