package printing_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// TestStationReconfigure: the station prints on the printer of the
// setting, moves to another when told, and keeps the one it has when the
// new setting does not open.
func TestStationReconfigure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := t.TempDir(), t.TempDir()
	db, admin := sqlitetest.NewTerminal(t, map[string]string{"printer": "emulator:" + a})
	var mu sync.Mutex
	var states []printer.State
	st, err := printing.OpenStation(ctx, db, printing.StationOptions{OnState: func(s printer.State) {
		mu.Lock()
		states = append(states, s)
		mu.Unlock()
	},
		Spool: printer.SpoolOptions{MinBackoff: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mu.Lock()
	if len(states) == 0 || !states[0].Status.Ready() {
		t.Errorf("no ready state from the printer as it opened: %+v", states)
	}
	mu.Unlock()
	sell := func() {
		t.Helper()
		if _, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}},
			Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, nil); err != nil {
			t.Fatal(err)
		}
		st.Notify()
	}
	printed := func(dir string, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m, _ := filepath.Glob(filepath.Join(dir, "*.png"))
			if len(m) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s holds %d printed jobs; want %d", dir, len(m), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sell()
	printed(a, 1)
	if err := st.Reconfigure("emulator:" + b); err != nil {
		t.Fatal(err)
	}
	sell()
	printed(b, 1)
	printed(a, 1)
	if err := st.Reconfigure("serial:/dev/ttyUSB0?profile=nope"); err == nil {
		t.Fatal("a printer with an unknown profile was taken")
	}
	if got := st.Spec(); got != "emulator:"+b {
		t.Errorf("after a refused change the station prints with %q", got)
	}
	sell()
	printed(b, 2)
}
