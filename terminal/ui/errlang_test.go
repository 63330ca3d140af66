package ui

import (
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestStoreMessagesInSwahili: what the store refuses reaches a Swahili
// kiosk in Swahili (a wrong PIN, a tender short of the total), with the
// store's values in it; an error with no translation keeps the store's
// English rather than showing a key.
func TestStoreMessagesInSwahili(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Lang = "sw" })
	k := h.k
	h.login(attendant, "9999")
	if got := k.login.msg.Text; !strings.HasPrefix(got, "PIN si sahihi (majaribio 4 yamebaki") {
		t.Errorf("a wrong PIN in Swahili: %q", got)
	}
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := k.entry
	h.plus("EAC-ADULT", 1)
	h.tap(e.tender.btn[terminal.TenderCash])
	h.typeIn(e.tender.cashGiven, "100")
	if got := e.tender.preview.Text; !strings.HasPrefix(got, "Pungufu ya jumla: bado KES ") {
		t.Errorf("a tender short of the total in Swahili: %q", got)
	}
	if got := errText(terminal.Errorf(terminal.EINVALID, "no such thing").WithID("not_translated", nil)); got != "no such thing" {
		t.Errorf("an id with no translation: %q; want the English message", got)
	}
}
