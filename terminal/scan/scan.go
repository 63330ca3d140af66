// Package scan reads a serial barcode scanner: each scan is a line of text
// ended by CR, LF or both, as the scanners sold for gates send by default.
// It is the alternative to a keyboard-wedge scanner at the exit lane.
package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"go.bug.st/serial"

	"github.com/lango-pos/lango/terminal"
)

// MaxScan bounds one scan: a Lango pass is under 1,000 characters; anything
// longer is noise or another kind of code.
const MaxScan = 2048

// Port is what the scanner reads from; a serial.Port satisfies it.
type Port interface {
	io.Reader
	SetReadTimeout(time.Duration) error
}

// Setting is a parsed `scanner serial:PATH[?baud=N]` setting.
type Setting struct {
	Path string
	Baud int
}

// ParseSetting parses a scanner setting of the serial kind.
func ParseSetting(s string) (Setting, error) {
	path, baud, err := terminal.ParseSerial("scanner", "serial", s, 9600)
	return Setting{Path: path, Baud: baud}, err
}

// Scanner delivers scans from a port to a callback, one goroutine, until
// Close. Lines that are not text (binary noise, a baud mismatch, an overlong
// line) are refused and logged; they never reach the callback.
type Scanner struct {
	port   Port
	onScan func(string)
	log    *slog.Logger

	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
	// Refused counts lines refused as noise.
	refused int
}

// New returns a scanner reading port; Start begins reading.
func New(port Port, onScan func(string), log *slog.Logger) *Scanner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scanner{port: port, onScan: onScan, log: log, stop: make(chan struct{})}
}

// Open opens the serial port of a setting.
func Open(s Setting) (serial.Port, error) {
	p, err := serial.Open(s.Path, &serial.Mode{BaudRate: s.Baud})
	if err != nil {
		return nil, &terminal.Error{Kind: terminal.EDEVICE, Message: fmt.Sprintf("cannot open the scanner on %s: check the cable and the scanner setting", s.Path), Err: err}
	}
	return p, nil
}

// Start reads scans in the background until ctx is done or Close.
func (s *Scanner) Start(ctx context.Context) {
	_ = s.port.SetReadTimeout(100 * time.Millisecond)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.run(ctx)
	}()
}

// Close stops reading and waits for the reader.
func (s *Scanner) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
	return nil
}

// Err is why reading stopped, if it did.
func (s *Scanner) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Refused is the number of lines refused as noise.
func (s *Scanner) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Scanner) run(ctx context.Context) {
	var line []byte
	overlong := false
	buf := make([]byte, 256)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		default:
		}
		n, err := s.port.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			s.mu.Lock()
			s.err = &terminal.Error{Kind: terminal.EDEVICE, Message: "the scanner stopped answering", Err: err}
			s.mu.Unlock()
			return
		}
		for _, b := range buf[:n] {
			if b != '\r' && b != '\n' {
				if len(line) < MaxScan {
					line = append(line, b)
				} else {
					overlong = true
				}
				continue
			}
			if len(line) > 0 || overlong {
				s.deliver(line, overlong)
			}
			line, overlong = line[:0], false
		}
	}
}

func (s *Scanner) deliver(line []byte, overlong bool) {
	text := string(bytes.TrimSpace(line))
	reason := ""
	switch {
	case overlong:
		reason = "longer than a pass"
	case !utf8.ValidString(text):
		reason = "not text"
	default:
		for _, r := range text {
			if r < 0x20 || r == 0x7f {
				reason = "control characters"
				break
			}
		}
	}
	if reason != "" {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		s.log.Warn("scanner: refused a scan", "reason", reason, "bytes", len(line))
		return
	}
	if text != "" {
		s.onScan(text)
	}
}
