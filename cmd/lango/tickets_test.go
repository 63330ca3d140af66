package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/ticket"
)

// putTickets gives the terminal a ticket list as its feed would.
func (c *cli) putTickets(page ...ticket.Change) {
	c.t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(c.data, "lango.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	if err := db.ApplyTickets(ctx, "hub", page); err != nil {
		c.t.Fatal(err)
	}
}

func todayTicket(no string, n int64, status string, from, to time.Duration) ticket.Change {
	now := time.Now()
	return ticket.Change{N: n, Day: now.Format("2006-01-02"), Ticket: ticket.Ticket{No: no, Site: "NNP", Status: status,
		ValidFrom: now.Add(from), ValidTo: now.Add(to),
		Party:   []ticket.Group{{Category: "citizen", AgeBand: "adult", Count: 2}},
		Vehicle: &ticket.Vehicle{Plate: "KDA123A", Band: "car"}}}
}

// TestCLIPrepaidTickets: `lango pass verify|use ECT:…` shows the party and
// vehicle of a valid ticket, lets it in once, refuses the rest with the
// pass reasons (exit 1), and sells the difference of a larger party.
func TestCLIPrepaidTickets(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=0")
	c.putTickets(todayTicket("KWS-1", 1, "valid", -time.Hour, 10*time.Hour), todayTicket("KWS-2", 2, "cancelled", -time.Hour, 10*time.Hour),
		todayTicket("KWS-3", 3, "valid", -20*time.Hour, -time.Hour), todayTicket("KWS-4", 4, "valid", 20*time.Hour, 30*time.Hour),
		todayTicket("KWS-5", 5, "valid", -time.Hour, 10*time.Hour), todayTicket("KWS-6", 6, "valid", -time.Hour, 10*time.Hour))

	out := c.ok("pass", "verify", "ECT:KWS-1")
	if !strings.Contains(out, "2 x citizen adult") || !strings.Contains(out, "KDA123A") {
		t.Fatalf("verify: %q; want the party and the vehicle", out)
	}
	var v ticketOut
	if err := json.Unmarshal([]byte(c.ok("pass", "verify", "--json", "ECT:KWS-1")), &v); err != nil || !v.Valid || v.Ticket == nil || v.Ticket.Vehicle.Plate != "KDA123A" || v.Ticket.Party[0].Count != 2 {
		t.Fatalf("verify --json: %+v, %v", v, err)
	}
	before := c.rowCounts()
	if out := c.ok("pass", "use", "--as", "admin", "ECT:KWS-1"); !strings.HasPrefix(out, "let in: ticket KWS-1") {
		t.Fatalf("use: %q", out)
	}
	if after := c.rowCounts(); after["events"] != before["events"]+1 {
		t.Fatalf("events %d → %d; want one ticket.redeemed", before["events"], after["events"])
	}
	c.refused(1, "already_used", "pass", "use", "--as", "admin", "ECT:KWS-1")
	code, jout, _ := c.run("pass", "verify", "--json", "ECT:KWS-1")
	if err := json.Unmarshal([]byte(jout), &v); err != nil || code != 1 || v.Valid || v.Reason != "already_used" || len(v.Uses) != 1 || v.Uses[0].Gate != "gate-1" {
		t.Fatalf("verify of a used ticket: %d %s", code, jout)
	}
	for code, reason := range map[string]string{"ECT:KWS-2": "revoked", "ECT:KWS-3": "expired", "ECT:KWS-4": "not_yet_valid", "ECT:KWS-404": "unknown_issuer", "ECT:%%": "malformed"} {
		c.refused(1, reason, "pass", "verify", code)
		c.refused(1, reason, "pass", "use", "--as", "admin", code)
	}
	// Wrong site: a ticket of the list held for another site.
	db, err := sql.Open("sqlite", filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE tickets SET site = 'AMB' WHERE no = 'KWS-6'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c.refused(1, "wrong_site", "pass", "use", "--as", "admin", "ECT:KWS-6")

	// A party of three adults, a child and the car on a ticket for two
	// adults and the car: the rest is sold.
	before = c.rowCounts()
	c.refused(1, "1 x EAC-ADULT, 1 x EAC-CHILD to pay", "pass", "use", "--as", "admin", "ECT:KWS-5", "--party", "EAC-ADULT=3", "--party", "EAC-CHILD=1", "--party", "CAR=1")
	c.refused(1, "not CODE=QTY", "pass", "use", "--as", "admin", "ECT:KWS-5", "--party", "EAC-ADULT", "--pay", "cash")
	if after := c.rowCounts(); after["events"] != before["events"] || after["sales"] != before["sales"] {
		t.Fatalf("a refused use stored something: %v → %v", before, after)
	}
	var u ticketOut
	if err := json.Unmarshal([]byte(c.ok("pass", "use", "--as", "admin", "--json", "ECT:KWS-5", "--party", "EAC-ADULT=3", "--party", "EAC-CHILD=1", "--party", "CAR=1", "--vehicle", "KDA 123A", "--pay", "cash")), &u); err != nil {
		t.Fatal(err)
	}
	if !u.Valid || u.Sale == nil || len(u.Sale.Lines) != 2 || u.Sale.Totals["KES"] <= 0 {
		t.Fatalf("use with the rest sold: %+v", u)
	}
	if after := c.rowCounts(); after["sales"] != before["sales"]+1 {
		t.Fatalf("sales %d → %d; want one sale of the difference", before["sales"], after["sales"])
	}
	c.refused(2, "for a prepaid ticket", "pass", "verify", "--party", "EAC-ADULT=1", "not-a-ticket")

	// sync status says what list is held.
	var st struct {
		Queued  int64       `json:"queued"`
		Tickets listSummary `json:"tickets"`
	}
	if err := json.Unmarshal([]byte(c.ok("sync", "status", "--json")), &st); err != nil || st.Tickets.Held != 6 || st.Queued == 0 {
		t.Fatalf("sync status: %+v, %v; want 6 tickets held beside the contract's keys", st, err)
	}
}
