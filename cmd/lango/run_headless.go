//go:build headless

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/lango-pos/lango/terminal"
)

// kioskBinary is the program that holds the kiosk in a headless build.
const kioskBinary = "lango-kiosk"

// cmdRun of the headless build (go build -tags headless), which links no
// GUI and so starts where there is no X11 or GL: the kiosk is its own
// program, lango-kiosk, beside this one or on the PATH, and `lango run`
// becomes it with the same arguments.
func (m *Main) cmdRun(ctx context.Context, args []string) error {
	path := ""
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), kioskBinary); isExecutable(p) {
			path = p
		}
	}
	if path == "" {
		p, err := exec.LookPath(kioskBinary)
		if err != nil {
			return terminal.Errorf(terminal.EDEVICE, "this lango has no kiosk (the headless build): install lango-kiosk beside it, or use the command line")
		}
		path = p
	}
	argv := []string{path}
	if m.dataDir != "" {
		argv = append(argv, "--data", m.dataDir)
	}
	argv = append(append(argv, "run"), args...)
	if err := syscall.Exec(path, argv, os.Environ()); err != nil {
		return terminal.Errorf(terminal.EDEVICE, "cannot start the kiosk %s: %v", path, err)
	}
	return nil // not reached: the kiosk has taken this process
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
