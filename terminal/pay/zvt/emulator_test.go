package zvt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// TestEmulatorJournalPersists: an emulator restarted on the same journal
// file still answers with its last transaction and continues numbering.
func TestEmulatorJournalPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pdq.json")
	rig := startEmulator(t, EmulatorConfig{Mode: ModeApprove, JournalPath: path})
	c, _ := rig.open(Config{})
	r, err := c.Authorize(context.Background(), Request{Amount: kes(77700)})
	if err != nil {
		t.Fatal(err)
	}
	rig.waitIdle()

	rig2 := startEmulator(t, EmulatorConfig{Mode: ModeApprove, JournalPath: path})
	if j := rig2.emu.Journal(); len(j) != 1 || j[0].Trace != r.Trace || j[0].Approval != r.Approval || !j[0].Delivered {
		t.Fatalf("reloaded journal %+v; want the sale %+v", j, r)
	}
	c2, _ := rig2.open(Config{})
	last, found, err := c2.LastResult(context.Background())
	if err != nil || !found || last.Trace != r.Trace || last.Approval != r.Approval {
		t.Fatalf("LastResult = %+v, %v, %v", last, found, err)
	}
	r2, err := c2.Authorize(context.Background(), Request{Amount: kes(100)})
	if err != nil || r2.Trace != r.Trace+1 || r2.Receipt != r.Receipt+1 {
		t.Fatalf("next sale %+v, %v; want trace %d", r2, err, r.Trace+1)
	}
}

func TestEmulatorJournalRefusesBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pdq.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEmulator(EmulatorConfig{JournalPath: path}); err == nil {
		t.Fatal("NewEmulator with a corrupt journal: want error")
	}
}

func TestEmulatorConfig(t *testing.T) {
	for _, cfg := range []EmulatorConfig{
		{Mode: "maybe"},
		{Password: "12"},
		{TerminalID: "12AB"},
		{Card: Card{PAN: "4111-1111"}},
	} {
		if _, err := NewEmulator(cfg); terminal.ErrorKind(err) != terminal.EINVALID {
			t.Errorf("NewEmulator(%+v): err = %v; want EINVALID", cfg, err)
		}
	}
	if m, err := ParseMode("timeout"); err != nil || m != ModeTimeout {
		t.Fatalf("ParseMode(timeout) = %q, %v", m, err)
	}
}

func TestLastResultEmptyPDQ(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{})
	c, _ := rig.open(Config{})
	_, found, err := c.LastResult(context.Background())
	if err != nil || found {
		t.Fatalf("LastResult on an empty PDQ: found=%v err=%v", found, err)
	}
	rec, err := c.Recover(context.Background(), Pending{Amount: kes(100), Started: time.Now()})
	if err != nil || rec.Outcome != OutcomeNotCharged {
		t.Fatalf("Recover = %+v, %v", rec, err)
	}
}

func TestWrongPassword(t *testing.T) {
	rig := startEmulator(t, EmulatorConfig{Password: "123456"})
	c, _ := rig.open(Config{Password: "000000"})
	_, err := c.Register(context.Background())
	if !errors.Is(err, ErrRefused) || terminal.ErrorKind(err) != terminal.EDEVICE {
		t.Fatalf("Register with a wrong password: %v", err)
	}
	if _, _, err := c.LastResult(context.Background()); !errors.Is(err, ErrRefused) {
		t.Fatalf("LastResult with a wrong password: %v", err)
	}
}

// TestAuthorizeRefusesBadInput: nothing is written to the PDQ.
func TestAuthorizeRefusesBadInput(t *testing.T) {
	c, err := NewClient(newScriptPort(t, nil), Config{Timeouts: testTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []terminal.Money{kes(0), kes(-5), kes(maxAmount + 1), {Currency: "XAU", Minor: 100}} {
		if _, err := c.Authorize(context.Background(), Request{Amount: m}); terminal.ErrorKind(err) != terminal.EINVALID {
			t.Errorf("Authorize(%v): err = %v; want EINVALID", m, err)
		}
	}
	if _, err := NewClient(newScriptPort(t, nil), Config{Password: "abc"}); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Fatalf("bad password: %v", err)
	}
}
