package zvt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// Seeds for every target live in testdata/fuzz/<Target>/: frames, APDUs,
// field lists and PDQ byte streams taken from the recorded conversations,
// plus hand-made edge cases.

func FuzzDecodeFrame(f *testing.F) {
	f.Add(EncodeFrame([]byte{0x80, 0x00, 0x00}))
	f.Fuzz(func(t *testing.T, b []byte) {
		apdu, n, err := DecodeFrame(b)
		if n < 0 || n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		if err != nil {
			if !errors.Is(err, ErrBadFrame) || apdu != nil {
				t.Fatalf("err = %v, apdu % X", err, apdu)
			}
			return
		}
		again := EncodeFrame(apdu)
		back, m, err := DecodeFrame(again)
		if err != nil || m != len(again) || !bytes.Equal(back, apdu) {
			t.Fatalf("re-encoded frame does not decode: % X → % X, %v", apdu, back, err)
		}
	})
}

func FuzzDecodeAPDU(f *testing.F) {
	f.Add([]byte{0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAPDU(b)
		if err != nil {
			if !errors.Is(err, ErrBadAPDU) {
				t.Fatalf("err = %v", err)
			}
			return
		}
		enc, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeAPDU(enc)
		if err != nil || back.Class != a.Class || back.Instr != a.Instr || !bytes.Equal(back.Data, a.Data) {
			t.Fatalf("round trip %v → %v, %v", a, back, err)
		}
	})
}

// FuzzDecodeBMPs covers the field decoder and everything built on it: status
// information (with the date logic), intermediate status and the
// emulator's authorisation parser.
func FuzzDecodeBMPs(f *testing.F) {
	f.Add([]byte{0x27, 0x00, 0x04, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00})
	ref := time.Date(2026, 1, 9, 14, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		bmps, err := DecodeBMPs(b)
		if err == nil {
			var re []byte
			for _, m := range bmps {
				if re, err = appendBMP(re, m.Tag, m.Value); err != nil {
					t.Fatalf("decoded field 0x%02X does not re-encode: %v", m.Tag, err)
				}
			}
			back, err := DecodeBMPs(re)
			if err != nil || len(back) != len(bmps) {
				t.Fatalf("re-encoded fields: %v", err)
			}
			for i := range back {
				if back[i].Tag != bmps[i].Tag || !bytes.Equal(back[i].Value, bmps[i].Value) {
					t.Fatalf("field %d changed: %v → %v", i, bmps[i], back[i])
				}
			}
		} else if !errors.Is(err, ErrBadAPDU) {
			t.Fatalf("err = %v", err)
		}
		if s, err := decodeStatusInfo(b, ref, time.UTC); err == nil {
			r := s.result(ref)
			if r.Approved && !s.hasResult {
				t.Fatal("approved without a result code")
			}
		}
		_, _ = decodeIntermediate(b)
		_, _, _ = parseAuthorisation(b)
	})
}

// eofPort serves data in small reads, then io.EOF; writes are discarded.
type eofPort struct{ data []byte }

func (p *eofPort) SetReadTimeout(time.Duration) error { return nil }
func (p *eofPort) Write(b []byte) (int, error)        { return len(b), nil }
func (p *eofPort) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := copy(b[:min(len(b), 7)], p.data)
	p.data = p.data[n:]
	return n, nil
}

func fuzzTimeouts() Timeouts {
	return Timeouts{Byte: 10 * time.Millisecond, Ack: 10 * time.Millisecond, Tries: 3,
		Response: 10 * time.Millisecond, Idle: 10 * time.Millisecond, Transaction: time.Second, Poll: time.Millisecond}
}

// FuzzLinkReceive feeds a byte stream to the link's receiver.
func FuzzLinkReceive(f *testing.F) {
	f.Add(append([]byte{0x00, 0x06}, EncodeFrame([]byte{0x04, 0xFF, 0x01, 0x0A})...))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := NewLink(&eofPort{data: b}, fuzzTimeouts(), nil)
		for range 1000 {
			a, err := l.Receive(context.Background(), time.Second)
			if err == nil {
				if _, err := a.Encode(); err != nil {
					t.Fatalf("received APDU does not encode: %v", err)
				}
				continue
			}
			if errors.Is(err, ErrBadFrame) || errors.Is(err, ErrBadAPDU) {
				continue
			}
			return // EOF
		}
	})
}

// FuzzAuthorize plays a PDQ byte stream against a whole authorisation: it
// must never panic, and a nil error always means an approval with the
// amount asked.
func FuzzAuthorize(f *testing.F) {
	f.Add([]byte{ack})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := NewClient(&eofPort{data: b}, Config{Timeouts: fuzzTimeouts(), Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Authorize(context.Background(), Request{Amount: kes(100000)})
		if err == nil && (!r.Approved || r.ResultCode != 0) {
			t.Fatalf("nil error without approval: %+v", r)
		}
		if r.Approved && err == nil && r.Amount.Minor != 0 && r.Amount != kes(100000) {
			t.Fatalf("approved another amount without error: %+v", r)
		}
		_, _, _ = c.LastResult(context.Background())
	})
}
