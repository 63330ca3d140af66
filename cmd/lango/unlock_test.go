package main

import (
	"strings"
	"testing"
)

// TestOperatorUnlock: `lango operator unlock` lifts a PIN lockout at once
// (no waiting out the 15 minutes); it is refused for an operator who is
// not locked out, and to an attendant.
func TestOperatorUnlock(t *testing.T) {
	c := newCLI(t)
	c.initNNP("--printer", "none")
	c.env["LANGO_NEW_PIN"] = "2468"
	c.ok("operator", "add", "--as", "admin", "--name", "kamau", "--role", "attendant")
	c.refused(1, "is not locked out", "operator", "unlock", "--as", "admin", "--name", "kamau")
	c.env["LANGO_PIN"] = "2468"
	c.refused(1, "only a supervisor can unlock", "operator", "unlock", "--as", "kamau", "--name", "kamau")
	c.env["LANGO_PIN"] = "0000"
	for range 5 {
		c.run("shift", "open", "--as", "kamau", "--float", "KES=100")
	}
	c.env["LANGO_PIN"] = "2468"
	c.refused(1, "is locked", "shift", "open", "--as", "kamau", "--float", "KES=100")
	c.env["LANGO_PIN"] = "1234"
	if out := c.ok("operator", "unlock", "--as", "admin", "--name", "kamau"); !strings.Contains(out, "operator kamau unlocked") {
		t.Errorf("operator unlock: %q", out)
	}
	c.env["LANGO_PIN"] = "2468"
	c.ok("shift", "open", "--as", "kamau", "--float", "KES=100")
}
