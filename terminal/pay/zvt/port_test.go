package zvt

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"golang.org/x/sys/unix"
)

// TestEmulatorOverPlainReadWriter runs both sides over plain
// io.ReadWriters without deadlines (the reader-goroutine adapter).
func TestEmulatorOverPlainReadWriter(t *testing.T) {
	r1, w1, err := os.Pipe() // till → PDQ
	if err != nil {
		t.Fatal(err)
	}
	r2, w2, err := os.Pipe() // PDQ → till
	if err != nil {
		t.Fatal(err)
	}
	type rw struct {
		io.Reader
		io.Writer
	}
	e, err := NewEmulator(EmulatorConfig{Think: 10 * time.Millisecond, Timeouts: testTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, rw{r1, w2}) }()
	port, release, err := AdaptPort(rw{r2, w1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := port.(*streamPort); !ok {
		t.Fatalf("AdaptPort gave %T; want the reader-goroutine adapter", port)
	}
	c, err := NewClient(port, Config{Timeouts: testTimeouts()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Authorize(context.Background(), Request{Amount: kes(100000)})
	if err != nil || !r.Approved {
		t.Fatalf("Authorize = %+v, %v", r, err)
	}
	for e.Busy() {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	release()
	for _, f := range []*os.File{r1, w1, r2, w2} {
		f.Close()
	}
}

// TestAdaptPortFile: an *os.File gets read timeouts that return (0, nil),
// like go.bug.st/serial.
func TestAdaptPortFile(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	p, release, err := AdaptPort(r)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	p.SetReadTimeout(30 * time.Millisecond)
	start := time.Now()
	n, err := p.Read(make([]byte, 4))
	if n != 0 || err != nil || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("Read on an empty pipe = %d, %v after %v; want a timeout as (0, nil)", n, err, time.Since(start))
	}
	w.Write([]byte{1, 2})
	if n, err := p.Read(make([]byte, 4)); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v; want 2 bytes", n, err)
	}
}

// TestAdaptPortPtyMaster: a pty master (blocking, no deadlines) is served
// through a non-blocking duplicate; reads time out as (0, nil), EIO while
// no one has the terminal side open reads as silence, and release gives
// the master back its blocking mode.
func TestAdaptPortPtyMaster(t *testing.T) {
	p, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	port, release, err := AdaptPort(p.Master)
	if err != nil {
		t.Fatal(err)
	}
	port.SetReadTimeout(30 * time.Millisecond)
	if n, err := port.Read(make([]byte, 4)); n != 0 || err != nil {
		t.Fatalf("Read with the terminal side closed = %d, %v; want (0, nil)", n, err)
	}
	if n, err := port.Write([]byte{1}); n != 1 || err != nil {
		t.Fatalf("Write with the terminal side closed = %d, %v", n, err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	flags, err := unix.FcntlInt(p.Master.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Fatal("pty master left non-blocking")
	}
}
