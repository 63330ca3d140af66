package zvt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// AdaptPort makes a Port of rw, for the emulator side of a pty or for tests:
//
//   - a Port (such as a go.bug.st/serial port) is used as it is;
//   - an *os.File is duplicated into a non-blocking, pollable descriptor so
//     read deadlines work (a pty master from internal/pty is opened
//     blocking). On a pty master, EIO — "the terminal side is closed", as
//     when the till is unplugged or restarting — reads as silence and
//     writes are dropped, like bytes sent down an unplugged cable;
//   - anything with a working SetReadDeadline (net.Conn, os.Pipe) gets
//     deadlines per read;
//   - any other io.ReadWriter gets a reader goroutine.
//
// release frees what AdaptPort allocated (never closes rw itself).
func AdaptPort(rw io.ReadWriter) (p Port, release func() error, err error) {
	noop := func() error { return nil }
	switch v := rw.(type) {
	case Port:
		return v, noop, nil
	case *os.File:
		return adaptFile(v)
	case deadlineReadWriter:
		if err := v.SetReadDeadline(time.Time{}); err == nil {
			return &deadlinePort{rw: v, timeout: -1}, noop, nil
		}
	}
	sp := newStreamPort(rw)
	return sp, sp.release, nil
}

type deadlineReadWriter interface {
	io.ReadWriter
	SetReadDeadline(time.Time) error
}

// deadlinePort turns SetReadTimeout into a deadline per Read.
type deadlinePort struct {
	rw      deadlineReadWriter
	timeout time.Duration // < 0: block
	eio     bool          // EIO means "no peer": silence on read, drop on write
}

func (p *deadlinePort) SetReadTimeout(d time.Duration) error {
	p.timeout = d
	return nil
}

func (p *deadlinePort) Read(b []byte) (int, error) {
	var dl time.Time
	if p.timeout >= 0 {
		dl = time.Now().Add(p.timeout)
	}
	if err := p.rw.SetReadDeadline(dl); err != nil {
		return 0, err
	}
	n, err := p.rw.Read(b)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, nil
	case p.eio && errors.Is(err, syscall.EIO):
		// Nobody has the terminal side open; the kernel says so at once,
		// so wait a little (within the timeout) rather than spin.
		if p.timeout >= 0 {
			time.Sleep(min(p.timeout, 20*time.Millisecond))
		} else {
			time.Sleep(20 * time.Millisecond)
		}
		return 0, nil
	}
	return n, err
}

func (p *deadlinePort) Write(b []byte) (int, error) {
	n, err := p.rw.Write(b)
	if p.eio && errors.Is(err, syscall.EIO) {
		return len(b), nil
	}
	return n, err
}

// adaptFile duplicates f's descriptor and makes the copy non-blocking, so
// the runtime poller serves it and deadlines work.
func adaptFile(f *os.File) (Port, func() error, error) {
	if err := f.SetReadDeadline(time.Time{}); err == nil {
		return &deadlinePort{rw: f, timeout: -1, eio: true}, func() error { return nil }, nil
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("adapt %s: %w", f.Name(), err)
	}
	var fd int
	var dupErr error
	if err := sc.Control(func(raw uintptr) { fd, dupErr = syscall.Dup(int(raw)) }); err != nil {
		return nil, nil, fmt.Errorf("adapt %s: %w", f.Name(), err)
	}
	if dupErr != nil {
		return nil, nil, fmt.Errorf("adapt %s: dup: %w", f.Name(), dupErr)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, nil, fmt.Errorf("adapt %s: non-blocking: %w", f.Name(), err)
	}
	nf := os.NewFile(uintptr(fd), f.Name())
	release := func() error {
		// The flag is shared with f (same open file): give f back its
		// blocking mode before letting go.
		if sc, err := nf.SyscallConn(); err == nil {
			_ = sc.Control(func(raw uintptr) { _ = syscall.SetNonblock(int(raw), false) })
		}
		return nf.Close()
	}
	if err := nf.SetReadDeadline(time.Time{}); err != nil {
		release()
		return nil, nil, fmt.Errorf("adapt %s: no deadlines: %w", f.Name(), err)
	}
	return &deadlinePort{rw: nf, timeout: -1, eio: true}, release, nil
}

// streamPort reads rw in a goroutine so reads can time out. The goroutine
// ends when rw's Read returns an error after release.
type streamPort struct {
	w       io.Writer
	chunks  chan streamChunk
	done    chan struct{}
	once    sync.Once
	pending []byte
	err     error
	timeout time.Duration
}

type streamChunk struct {
	b   []byte
	err error
}

func newStreamPort(rw io.ReadWriter) *streamPort {
	p := &streamPort{w: rw, chunks: make(chan streamChunk), done: make(chan struct{}), timeout: -1}
	go func() {
		for {
			buf := make([]byte, 512)
			n, err := rw.Read(buf)
			select {
			case p.chunks <- streamChunk{buf[:n], err}:
			case <-p.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *streamPort) release() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func (p *streamPort) SetReadTimeout(d time.Duration) error {
	p.timeout = d
	return nil
}

func (p *streamPort) Write(b []byte) (int, error) { return p.w.Write(b) }

func (p *streamPort) Read(b []byte) (int, error) {
	if len(p.pending) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		var timer <-chan time.Time
		if p.timeout >= 0 {
			t := time.NewTimer(p.timeout)
			defer t.Stop()
			timer = t.C
		}
		select {
		case c := <-p.chunks:
			p.pending, p.err = c.b, c.err
		case <-timer:
			return 0, nil
		case <-p.done:
			return 0, io.ErrClosedPipe
		}
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	if n == 0 && p.err != nil {
		return 0, p.err
	}
	return n, nil
}
