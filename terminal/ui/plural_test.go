package ui

import (
	"strings"
	"testing"
)

// TestPluralsInEnglish: counts are said in the right number at 1 and 2:
// the entry gate's "1 visitor" and "2 visitors", the sign-in's "1 try
// left" and "2 tries left".
func TestPluralsInEnglish(t *testing.T) {
	h := newHarness(t)
	k := h.k
	// four wrong PINs of five: 2 tries left after the third, 1 after the fourth
	for i, want := range []string{"", "", "2 tries left", "1 try left"} {
		h.login(attendant, "0000")
		if want != "" {
			contains(t, "wrong PIN message", k.login.msg.Text, want)
		}
		if i == 3 && strings.Contains(k.login.msg.Text, "tries") {
			t.Errorf("wrong PIN message = %q; want no \"tries\" with 1 left", k.login.msg.Text)
		}
	}
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	h.plus("EAC-ADULT", 1)
	if got := k.entry.summary.Text; !strings.HasPrefix(got, "1 visitor") || strings.HasPrefix(got, "1 visitors") {
		t.Errorf("summary with one visitor = %q; want \"1 visitor\"", got)
	}
	h.plus("EAC-ADULT", 1)
	if got := k.entry.summary.Text; !strings.HasPrefix(got, "2 visitors") {
		t.Errorf("summary with two visitors = %q; want \"2 visitors\"", got)
	}
}

// TestPluralsInSwahili: "Mgeni 1", "Wageni 2".
func TestPluralsInSwahili(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Lang = "sw" })
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	h.plus("EAC-ADULT", 1)
	contains(t, "summary", h.k.entry.summary.Text, "Mgeni 1")
	h.plus("EAC-ADULT", 1)
	contains(t, "summary", h.k.entry.summary.Text, "Wageni 2")
}
