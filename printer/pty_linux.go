//go:build linux

package printer

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/printer/emulator"
)

// ServePTY runs em on a new pseudo-terminal whose terminal side is linked
// at link (as socat's pty,link= does), until ctx is done. A program then
// opens link as a serial printer: serial:LINK?profile=NAME.
func ServePTY(ctx context.Context, link string, em *emulator.Emulator) error {
	p, err := pty.Open()
	if err != nil {
		return deviceError(err, "cannot create a pseudo-terminal")
	}
	defer p.Close()
	if err := p.Link(link); err != nil {
		return deviceError(err, "cannot create %s", link)
	}
	return ServePair(ctx, p, em)
}

// ServePair runs em on the device side of an open pseudo-terminal pair
// until ctx is done.
func ServePair(ctx context.Context, p *pty.Pair, em *emulator.Emulator) error {
	// Hold the terminal side open, so that the device side does not read
	// EIO between the programs that open and close the port.
	hold, err := os.OpenFile(p.Path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return deviceError(err, "cannot open %s", p.Path)
	}
	defer hold.Close()
	master, err := pollable(p.Master)
	if err != nil {
		return deviceError(err, "pseudo-terminal")
	}
	defer master.Close()
	if err := em.Serve(ctx, master); err != nil {
		return deviceError(err, "printer emulator stopped")
	}
	return nil
}

// pollable returns a non-blocking duplicate of f that the runtime poller
// serves, so that a read can be interrupted with a deadline.
func pollable(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	var dup int
	var derr error
	if err := rc.Control(func(fd uintptr) {
		dup, derr = unix.Dup(int(fd))
	}); err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("pty: dup: %w", derr)
	}
	unix.CloseOnExec(dup)
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("pty: non-blocking: %w", err)
	}
	return os.NewFile(uintptr(dup), f.Name()), nil
}
