package main

import (
	"encoding/json"
	"testing"
)

// TestPaybillSwitchCommand: `lango config set --as SUPERVISOR
// mpesa_paybill_use spare` switches the lane to the site's spare paybill
// (a supervisor's PIN; without --as it is a usage error, an attendant is
// refused), and `lango sell --json` shows the M-PESA tender for it.
func TestPaybillSwitchCommand(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("config", "set", "mpesa_paybill", "222222 333333")
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	c.refused(2, "--as SUPERVISOR", "config", "set", "mpesa_paybill_use", "spare")
	c.env["LANGO_NEW_PIN"] = "8642"
	c.ok("operator", "add", "--as", "admin", "--name", "kamau", "--role", "attendant")
	c.env["LANGO_PIN"] = "8642"
	c.refused(1, "supervisor", "config", "set", "--as", "kamau", "mpesa_paybill_use", "spare")
	c.env["LANGO_PIN"] = "1234"
	c.refused(1, "main or spare", "config", "set", "--as", "admin", "mpesa_paybill_use", "backup")
	c.ok("config", "set", "--as", "admin", "mpesa_paybill_use", "spare")
	var sale struct {
		Tenders []struct {
			Kind    string `json:"kind"`
			Paybill string `json:"paybill"`
		} `json:"tenders"`
	}
	out := c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "mpesa:SCLI000001", "--json")
	if err := json.Unmarshal([]byte(out), &sale); err != nil {
		t.Fatal(err)
	}
	if len(sale.Tenders) != 1 || sale.Tenders[0].Paybill != "333333" {
		t.Errorf("tenders %+v; want the M-PESA tender for the spare paybill 333333", sale.Tenders)
	}
	var settings map[string]string
	if err := json.Unmarshal([]byte(c.ok("config", "show", "--json")), &settings); err != nil {
		t.Fatal(err)
	}
	if settings["mpesa_paybill"] != "222222 333333" || settings["mpesa_paybill_use"] != "spare" {
		t.Errorf("settings %v; want the paybills and spare in use", settings)
	}
}
