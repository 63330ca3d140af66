// Package zvttest runs the ZVT card terminal emulator on a pseudo-terminal
// for tests of what drives a PDQ: the command line, the kiosk.
package zvttest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/terminal/pay/zvt"
)

// OnPTY starts the emulator in mode on a new pseudo-terminal and returns
// it and a link to the terminal side: the path a pdq setting names
// (zvt:LINK). Everything stops when the test ends.
func OnPTY(t testing.TB, mode zvt.Mode) (*zvt.Emulator, string) {
	t.Helper()
	em, err := zvt.NewEmulator(zvt.EmulatorConfig{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "ttyPDQ")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	// Hold the terminal side open so the emulator never reads EIO between
	// the commands that open and close the port.
	hold, err := os.OpenFile(p.Path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { em.Serve(ctx, p.Master); close(done) }()
	t.Cleanup(func() { cancel(); hold.Close(); p.Close(); <-done })
	return em, link
}
