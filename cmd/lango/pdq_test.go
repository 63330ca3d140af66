package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/pay/zvt/zvttest"
)

func TestCLICardThroughPDQ(t *testing.T) {
	em, link := zvttest.OnPTY(t, zvt.ModeApprove)
	c := newCLI(t)
	c.initNNP()
	c.ok("config", "set", "pdq", "zvt:"+link)
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	var s struct {
		State   string
		Tenders []struct {
			Kind      string
			Amount    map[string]int64
			Reference string
			CardLast4 string `json:"card_last4"`
		}
	}
	// USD 80 + KES 2,000; the card pays the KES converted total.
	code, out, errs := c.run("sell", "--as", "admin", "--item", "INT-ADULT=1", "--item", "EAC-ADULT=1", "--pay", "card", "--json")
	if code != 0 || errs != "" {
		t.Fatalf("card sale: exit %d, stderr %q; want 0 and nothing on stderr", code, errs)
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.State != "paid" || len(s.Tenders) != 1 || s.Tenders[0].Kind != "card" || s.Tenders[0].Amount["KES"] != 1236000 || s.Tenders[0].Reference == "" {
		t.Fatalf("card sale = %+v; want paid by card KES 12,360.00 with the PDQ's approval", s)
	}
	charges := em.Charges()
	if len(charges) != 1 || charges[0].Amount != 1236000 {
		t.Fatalf("PDQ charges = %+v; want one of KES 12,360.00", charges)
	}
	// Declined: a clear message, no sale, no second charge.
	em.SetMode(zvt.ModeDecline)
	before := c.rowCounts()
	code, _, errs = c.run("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "card")
	if code != 1 || !strings.HasPrefix(errs, "lango: ") || !strings.Contains(strings.ToLower(errs), "declined") {
		t.Errorf("declined card: exit %d %q; want 1 and a message saying declined", code, errs)
	}
	if after := c.rowCounts(); after["sales"] != before["sales"] || after["events"] != before["events"] {
		t.Errorf("declined card changed the store: %v → %v", before, after)
	}
	if n := len(em.Charges()); n != 1 {
		t.Errorf("PDQ charges = %d; want still 1", n)
	}
}

// TestCLICardKilledMidAuthorisation kills the terminal while the PDQ has
// charged the card but not yet answered; on restart the interrupted payment
// is recovered from the PDQ: exactly one charge, exactly one sale.
func TestCLICardKilledMidAuthorisation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills a child process")
	}
	em, link := zvttest.OnPTY(t, zvt.ModeTimeout) // charges, then never answers
	c := newCLI(t)
	c.initNNP()
	c.ok("config", "set", "pdq", "zvt:"+link)
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")

	cmd := exec.Command(os.Args[0], "--data", c.data, "sell", "--as", "admin", "--item", "EAC-ADULT=2", "--pay", "card", "--json")
	cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1", "LANGO_PIN=1234")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(em.Charges()) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the PDQ was never asked to charge")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if n := c.rowCounts()["sales"]; n != 0 {
		t.Fatalf("%d sales before recovery; want 0 (killed before the commit)", n)
	}
	em.SetMode(zvt.ModeApprove)
	var rec struct {
		Outcome string
		Sale    struct {
			State   string
			Tenders []struct{ Kind, Reference string }
		}
	}
	if err := json.Unmarshal([]byte(c.ok("pdq", "recover", "--as", "admin", "--json")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Outcome != "charged" || rec.Sale.State != "paid" || rec.Sale.Tenders[0].Kind != "card" {
		t.Fatalf("recover = %+v; want the charged sale completed", rec)
	}
	// Recovering again, or selling again, neither charges nor sells twice.
	c.ok("pdq", "recover", "--as", "admin", "--json")
	if n := c.rowCounts()["sales"]; n != 1 {
		t.Errorf("%d sales; want exactly 1", n)
	}
	if n := len(em.Charges()); n != 1 {
		t.Errorf("%d charges; want exactly 1", n)
	}
}
