package ui

import (
	"testing"
)

// TestSupervisorUnlocksOperator: an attendant locked out by five wrong
// PINs is listed on the supervisor screen with the lock's end in site
// time; the supervisor's Unlock lets the right PIN sign in at once.
func TestSupervisorUnlocksOperator(t *testing.T) {
	h := newHarness(t)
	k := h.k
	for range 5 {
		h.login(attendant, "0000")
	}
	h.login(attendant, attendantPIN)
	if k.op != nil {
		t.Fatalf("%s signed in while locked out", attendant)
	}
	contains(t, "login message", k.login.msg.Text, "locked")

	h.login("admin", adminPIN)
	sup := h.superScreen()
	b := sup.unlocks[attendant]
	if b == nil {
		t.Fatalf("%s is not listed as locked out: %v", attendant, sup.unlocks)
	}
	if len(sup.unlocks) != 1 {
		t.Errorf("%d operators listed as locked; want 1", len(sup.unlocks))
	}
	contains(t, "unlock button", b.Text, "EAT") // the site's time, with its zone
	before := h.counts()
	h.tap(b)
	contains(t, "after the unlock", sup.msg.Text, attendant+" is unlocked")
	if len(sup.unlocks) != 0 {
		t.Errorf("still listed as locked after the unlock: %v", sup.unlocks)
	}
	if after := h.counts(); after["events"] != before["events"]+1 {
		t.Errorf("events %d → %d; want one more (operator.unlocked)", before["events"], after["events"])
	}
	h.tap(sup.done)
	k.logout()
	h.login(attendant, attendantPIN)
	if k.op == nil || k.op.Name != attendant {
		t.Fatalf("the right PIN is refused after the unlock: %q", k.login.msg.Text)
	}
}
