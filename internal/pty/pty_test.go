package pty

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
	"time"

	"go.bug.st/serial"
)

// TestSerialRoundTrip opens the terminal side with go.bug.st/serial, as the
// drivers do, and checks that every byte value crosses both ways unchanged
// (no CR/LF translation, no XON/XOFF swallowing, no echo).
func TestSerialRoundTrip(t *testing.T) {
	p, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	link := filepath.Join(t.TempDir(), "ttyV0")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	port, err := serial.Open(link, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatalf("serial.Open(%s): %v", link, err)
	}
	defer port.Close()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	// program → device
	if _, err := port.Write(all); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(all))
	if _, err := io.ReadFull(p.Master, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, all) {
		t.Fatalf("program→device: got % x; want % x", got, all)
	}
	// device → program
	if _, err := p.Master.Write(all); err != nil {
		t.Fatal(err)
	}
	port.SetReadTimeout(2 * time.Second)
	got = got[:0]
	buf := make([]byte, 256)
	for len(got) < len(all) {
		n, err := port.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("timeout after %d bytes", len(got))
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, all) {
		t.Fatalf("device→program: got % x; want % x", got, all)
	}
}
