package zvt

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// dumbPDQ ACKs every complete frame the till writes and, after the n-th
// one, makes chunk n readable. It checks nothing: it lets the till meet
// whatever bytes a broken PDQ might send.
type dumbPDQ struct {
	mu      sync.Mutex
	parser  frameParser
	chunks  [][]byte
	pending []byte
	timeout time.Duration
}

func (p *dumbPDQ) SetReadTimeout(d time.Duration) error {
	p.mu.Lock()
	p.timeout = d
	p.mu.Unlock()
	return nil
}

func (p *dumbPDQ) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range b {
		if ev, _ := p.parser.feed(c); ev == evFrame {
			p.pending = append(p.pending, ack)
			if len(p.chunks) > 0 {
				p.pending = append(p.pending, p.chunks[0]...)
				p.chunks = p.chunks[1:]
			}
		}
	}
	return len(b), nil
}

func (p *dumbPDQ) Read(b []byte) (int, error) {
	p.mu.Lock()
	if len(p.pending) == 0 {
		d := min(max(p.timeout, 0), 50*time.Millisecond)
		p.mu.Unlock()
		time.Sleep(d)
		return 0, nil
	}
	defer p.mu.Unlock()
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

func TestGarbageFromPDQNeverApproves(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	noise := make([]byte, 2048)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	noise = bytes.ReplaceAll(noise, []byte{dle, stx}, []byte{dle, dle}) // no frame starts
	badCRC := frameOf(t, "80 00 00")
	badCRC[len(badCRC)-1] ^= 0x55
	ok := frameOf(t, "80 00 00")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	huge := append([]byte{dle, stx}, bytes.Repeat([]byte{0x41}, maxAPDU+10)...)
	tests := []struct {
		name    string
		chunks  [][]byte
		want    error
		wantNAK bool
	}{
		{"noise instead of an answer", [][]byte{noise}, ErrTimeout, false},
		{"bad CRC three times", [][]byte{cat(badCRC, badCRC, badCRC)}, ErrBadFrame, true},
		{"malformed APDU", [][]byte{frameOf(t, "80 00 05 01")}, ErrBadAPDU, false},
		{"unexpected answer", [][]byte{frameOf(t, "06 0F 00")}, ErrBadAPDU, false},
		{"frame too long (NAKed, never resent)", [][]byte{huge}, ErrTimeout, true},
		{"truncated status information", [][]byte{cat(ok, frameOf(t, "04 0F 04 27 00 04 00")), frameOf(t, "06 0F 00")}, ErrBadAPDU, false},
		{"approval followed by an unknown field", [][]byte{cat(ok, frameOf(t, "04 0F 04 27 00 7F 01")), frameOf(t, "06 0F 00")}, ErrBadAPDU, false},
		{"status information not BCD", [][]byte{cat(ok, frameOf(t, "04 0F 09 27 00 04 00 00 00 AB 00 00")), frameOf(t, "06 0F 00")}, ErrBadAPDU, false},
		{"completion without a result", [][]byte{cat(ok, frameOf(t, "06 0F 00"))}, ErrOutcomeUnknown, false},
		{"status without a result code", [][]byte{cat(ok, frameOf(t, "04 0F 07 04 00 00 00 10 00 00")), frameOf(t, "06 0F 00")}, ErrOutcomeUnknown, false},
		{"noise after acceptance", [][]byte{cat(ok, noise)}, ErrTimeout, false},
		{"approved then aborted", [][]byte{cat(ok, frameOf(t, "04 0F 02 27 00")), frameOf(t, "06 1E 01 6C")}, ErrDeclined, false},
		{"abort without a code", [][]byte{cat(ok, frameOf(t, "06 1E 00"))}, ErrDeclined, false},
		{"intermediate status without data", [][]byte{cat(ok, frameOf(t, "04 FF 00")), frameOf(t, "06 0F 00")}, ErrOutcomeUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := testTimeouts()
			tm.Idle = 300 * time.Millisecond
			c, err := NewClient(&dumbPDQ{chunks: tt.chunks}, Config{Timeouts: tm})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Authorize(context.Background(), Request{Amount: kes(100000)})
			if err == nil || r.Approved {
				t.Fatalf("Authorize = %+v, %v; want an error and no approval", r, err)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			if k := terminal.ErrorKind(err); k != terminal.EDEVICE && k != terminal.EINVALID {
				t.Fatalf("kind %q", k)
			}
			if nak := c.Stats().NAKsSent; (nak > 0) != tt.wantNAK {
				t.Fatalf("%d NAKs sent; want NAK: %v", nak, tt.wantNAK)
			}
		})
	}
}

func TestApprovedAmountMismatch(t *testing.T) {
	si, _ := appendBMP(nil, bmpResultCode, []byte{0})
	si, _ = appendBMP(si, bmpAmount, mustBCD(50000, 6))
	raw, _ := APDU{Class: 0x04, Instr: 0x0F, Data: si}.Encode()
	c, _ := NewClient(&dumbPDQ{chunks: [][]byte{
		append(frameOf(t, "80 00 00"), EncodeFrame(raw)...), frameOf(t, "06 0F 00"),
	}}, Config{Timeouts: testTimeouts()})
	r, err := c.Authorize(context.Background(), Request{Amount: kes(100000)})
	if !r.Approved || !errors.Is(err, ErrAmountMismatch) || r.Amount != kes(50000) {
		t.Fatalf("Authorize = %+v, %v; want approved KES 500.00 with ErrAmountMismatch", r, err)
	}
}

// TestApprovalWithoutCompletion: the PDQ reported the approval and got the
// till's 80 00 00, then the completion never came: the money is taken.
func TestApprovalWithoutCompletion(t *testing.T) {
	si, _ := appendBMP(nil, bmpResultCode, []byte{0})
	si, _ = appendBMP(si, bmpAmount, mustBCD(100000, 6))
	si, _ = appendBMP(si, bmpTrace, mustBCD(9, 3))
	raw, _ := APDU{Class: 0x04, Instr: 0x0F, Data: si}.Encode()
	tm := testTimeouts()
	tm.Idle = 200 * time.Millisecond
	c, _ := NewClient(&dumbPDQ{chunks: [][]byte{append(frameOf(t, "80 00 00"), EncodeFrame(raw)...)}}, Config{Timeouts: tm})
	r, err := c.Authorize(context.Background(), Request{Amount: kes(100000)})
	if err != nil || !r.Approved || r.Trace != 9 || r.Amount != kes(100000) {
		t.Fatalf("Authorize = %+v, %v; want approved trace 9", r, err)
	}
}
