package ui

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
)

// TestPrinterChangedFromSettings: a supervisor points the kiosk at another
// printer (a spare plugged in at 6 am) and the next pass prints there,
// with no restart; the kiosk says the setting is saved, not that it waits
// for a restart. A hub change still waits for one, and says so.
func TestPrinterChangedFromSettings(t *testing.T) {
	first, spare := t.TempDir(), t.TempDir()
	db := newStore(t, "kws.json", "NNP", map[string]string{"printer": "emulator:" + first})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := printing.OpenStation(ctx, db, printing.StationOptions{Spool: printer.SpoolOptions{MinBackoff: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := newHarnessOn(t, db, first, func(o *Options) {
		o.Notify = st.Notify
		o.Reconfigure = func(key, value string) bool { return key == "printer" && st.Reconfigure(value) == nil }
	})
	k := h.k
	h.tap(k.nav.super)
	h.typeIn(k.gate.name, "admin")
	h.pin(k.gate.pad, adminPIN)
	h.tap(k.super.setBtn)
	p := k.super.settings
	h.typeIn(p.fields["printer"], "emulator:"+spare+"?profile=epson-tm-t20")
	h.tap(p.save["printer"])
	if p.msgs["printer"].Text != T("settings.saved") {
		t.Errorf("printer saved: %q; want %q", p.msgs["printer"].Text, T("settings.saved"))
	}
	if got := st.Spec(); got != "emulator:"+spare+"?profile=epson-tm-t20" {
		t.Errorf("the station prints with %q", got)
	}
	h.typeIn(p.fields["hub"], "http://127.0.0.1:8420")
	h.tap(p.save["hub"])
	if p.msgs["hub"].Text != T("settings.saved_restart") {
		t.Errorf("hub saved: %q; want %q", p.msgs["hub"].Text, T("settings.saved_restart"))
	}

	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := k.entry
	h.plus("EAC-ADULT", 1)
	h.tap(e.tender.btn[terminal.TenderCash])
	h.tap(e.complete)
	if e.last == nil {
		t.Fatalf("no sale: %s", e.msg.Text)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(pngs(t, spare)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(pngs(t, spare)); n != 1 {
		t.Errorf("the spare printer printed %d jobs; want the pass", n)
	}
	if n := len(pngs(t, first)); n != 0 {
		t.Errorf("the first printer printed %d jobs after the change", n)
	}
}

func pngs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
