// Package pty opens Unix pseudo-terminal pairs, so that emulated serial
// devices (the printer and PDQ emulators) sit behind a real device path that
// go.bug.st/serial opens like any other port.
package pty

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Pair is an open pseudo-terminal: the device side (Master) is what an
// emulator reads and writes; Path is the terminal side that the program under
// test opens as its serial port.
type Pair struct {
	Master *os.File
	Path   string
	link   string
}

// Open opens a new pair in raw mode (no echo, no line discipline, no CR/LF
// translation), so bytes pass through unchanged in both directions.
func Open() (*Pair, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("pty number: %w", err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	// Raw mode on the terminal side, so the line discipline never rewrites
	// bytes written by the emulator before the program reads them.
	sfd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	t, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err == nil {
		cfmakeraw(t)
		err = unix.IoctlSetTermios(sfd, unix.TCSETS, t)
	}
	unix.Close(sfd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("raw mode on %s: %w", path, err)
	}
	return &Pair{Master: os.NewFile(uintptr(fd), "/dev/ptmx"), Path: path}, nil
}

// Link makes a symbolic link at link pointing to the terminal side, as
// `socat pty,link=…` does, replacing a stale link. Close removes it.
func (p *Pair) Link(link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return fmt.Errorf("link dir: %w", err)
	}
	_ = os.Remove(link)
	if err := os.Symlink(p.Path, link); err != nil {
		return fmt.Errorf("link %s → %s: %w", link, p.Path, err)
	}
	p.link = link
	return nil
}

// Close closes the device side and removes the link, if any.
func (p *Pair) Close() error {
	if p.link != "" {
		_ = os.Remove(p.link)
	}
	return p.Master.Close()
}

func cfmakeraw(t *unix.Termios) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
}
