package zvt

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestEncodeFrameDoublesDLE(t *testing.T) {
	apdu := []byte{0x06, 0x01, 0x03, 0x10, 0x00, 0x10}
	got := EncodeFrame(apdu)
	wantBody := []byte{0x10, 0x02, 0x06, 0x01, 0x03, 0x10, 0x10, 0x00, 0x10, 0x10, 0x10, 0x03}
	if !bytes.Equal(got[:len(got)-2], wantBody) {
		t.Fatalf("frame = % X; want % X + CRC", got, wantBody)
	}
	crc := frameCRC(apdu) // over the unstuffed APDU
	if got[len(got)-2] != byte(crc) || got[len(got)-1] != byte(crc>>8) {
		t.Fatalf("CRC bytes % X; want %02X %02X", got[len(got)-2:], byte(crc), byte(crc>>8))
	}
	back, n, err := DecodeFrame(got)
	if err != nil || n != len(got) || !bytes.Equal(back, apdu) {
		t.Fatalf("DecodeFrame = % X, %d, %v; want % X, %d, nil", back, n, err, apdu, len(got))
	}
}

func TestDecodeFrame(t *testing.T) {
	good := EncodeFrame([]byte{0x80, 0x00, 0x00})
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		n       int
		wantErr error
	}{
		{"plain", good, []byte{0x80, 0x00, 0x00}, len(good), nil},
		{"garbage first", append([]byte{0xFF, 0x00, 0x10, 0x41, 0x02, 0x06}, good...), []byte{0x80, 0x00, 0x00}, len(good) + 6, nil},
		{"double DLE before STX", append([]byte{0x10}, good...), []byte{0x80, 0x00, 0x00}, len(good) + 1, nil},
		{"bad CRC", badCRC, nil, len(badCRC), errBadCRC},
		{"bad DLE", []byte{0x10, 0x02, 0x80, 0x10, 0x41}, nil, 5, errFraming},
		{"truncated", good[:5], nil, 0, errIncomplete},
		{"only garbage", []byte{1, 2, 3}, nil, 3, errIncomplete},
		{"empty", nil, nil, 0, errIncomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := DecodeFrame(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr != nil && !errors.Is(err, ErrBadFrame)) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) || n != tt.n {
				t.Fatalf("got % X, n=%d; want % X, n=%d", got, n, tt.want, tt.n)
			}
		})
	}
}

func TestFrameTooLong(t *testing.T) {
	in := append([]byte{0x10, 0x02}, make([]byte, maxAPDU+1)...)
	_, _, err := DecodeFrame(in)
	if !errors.Is(err, errTooLong) {
		t.Fatalf("err = %v; want too long", err)
	}
}

func TestAPDULength(t *testing.T) {
	for _, n := range []int{0, 1, 254, 255, 256, 1000, 65535} {
		a := APDU{Class: 0x04, Instr: 0x0F, Data: bytes.Repeat([]byte{0x10}, n)}
		b, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		hdr := 3
		if n >= 255 {
			hdr = 5
			if b[2] != 0xFF || int(b[3])|int(b[4])<<8 != n {
				t.Fatalf("n=%d: long length % X; want FF %02X %02X", n, b[2:5], byte(n), byte(n>>8))
			}
		} else if int(b[2]) != n {
			t.Fatalf("n=%d: length byte %d", n, b[2])
		}
		if len(b) != hdr+n {
			t.Fatalf("n=%d: %d bytes; want %d", n, len(b), hdr+n)
		}
		back, err := DecodeAPDU(b)
		if err != nil || back.Class != 0x04 || back.Instr != 0x0F || len(back.Data) != n {
			t.Fatalf("n=%d: round trip %v, %v", n, back, err)
		}
	}
	if _, err := (APDU{Data: make([]byte, 65536)}).Encode(); !errors.Is(err, ErrBadAPDU) {
		t.Fatalf("65536 data bytes: err = %v; want ErrBadAPDU", err)
	}
	for _, bad := range [][]byte{{}, {0x80, 0x00}, {0x80, 0x00, 0x01}, {0x80, 0x00, 0x00, 0x01}, {0x04, 0x0F, 0xFF, 0x01}} {
		if _, err := DecodeAPDU(bad); !errors.Is(err, ErrBadAPDU) {
			t.Errorf("DecodeAPDU(% X): err = %v; want ErrBadAPDU", bad, err)
		}
	}
}

func TestBCD(t *testing.T) {
	b, err := encodeBCD(100000, 6)
	if err != nil || !bytes.Equal(b, []byte{0, 0, 0, 0x10, 0, 0}) {
		t.Fatalf("encodeBCD(100000, 6) = % X, %v", b, err)
	}
	if v, err := decodeBCD([]byte{0x04, 0x04}); err != nil || v != 404 {
		t.Fatalf("decodeBCD(04 04) = %d, %v; want 404", v, err)
	}
	if _, err := encodeBCD(1000000, 3); err == nil {
		t.Fatal("encodeBCD(1000000, 3): want overflow error")
	}
	if _, err := encodeBCD(-1, 3); err == nil {
		t.Fatal("encodeBCD(-1, 3): want error")
	}
	if _, err := decodeBCD([]byte{0x1A}); err == nil {
		t.Fatal("decodeBCD(1A): want error")
	}
}

func TestBMPs(t *testing.T) {
	var d []byte
	var err error
	add := func(tag byte, v []byte) {
		t.Helper()
		if d, err = appendBMP(d, tag, v); err != nil {
			t.Fatal(err)
		}
	}
	pan, _ := encodePAN("476173******0119")
	add(bmpResultCode, []byte{0})
	add(bmpAmount, mustBCD(400000, 6))
	add(bmpPAN, pan)
	add(bmpCardName, []byte("VISA"))
	add(bmpTLV, []byte{0x1F, 0x10, 0x01, 0x00})
	add(0x3C, bytes.Repeat([]byte{'x'}, 120)) // LLLVAR
	// spot-check the length prefixes
	if !bytes.Contains(d, []byte{0x22, 0xF0, 0xF8, 0x47, 0x61, 0x73, 0xEE, 0xEE, 0xEE, 0x01, 0x19}) {
		t.Fatalf("PAN LLVAR not as expected in % X", d)
	}
	if !bytes.Contains(d, []byte{0x3C, 0xF1, 0xF2, 0xF0}) {
		t.Fatalf("LLLVAR prefix not as expected in % X", d)
	}
	bmps, err := DecodeBMPs(d)
	if err != nil {
		t.Fatal(err)
	}
	tags := []byte{}
	for _, b := range bmps {
		tags = append(tags, b.Tag)
	}
	if !bytes.Equal(tags, []byte{0x27, 0x04, 0x22, 0x8B, 0x06, 0x3C}) {
		t.Fatalf("tags % X", tags)
	}
	if got, _ := decodePAN(bmps[2].Value); got != "476173******0119" {
		t.Fatalf("PAN %q", got)
	}
	if _, err := appendBMP(nil, 0x8B, make([]byte, 100)); err == nil {
		t.Fatal("LLVAR of 100 bytes: want error")
	}
	for _, bad := range [][]byte{
		{0x04, 0x00},             // truncated amount
		{0x22, 0xF0},             // truncated LLVAR length
		{0x22, 0xF1, 0x0A},       // bad LLVAR length byte
		{0x22, 0xF0, 0xF5, 0x01}, // LLVAR longer than data
		{0x7F, 0x00},             // unknown tag
		{0x06, 0x83, 0, 0, 0},    // TLV length form not supported
	} {
		if _, err := DecodeBMPs(bad); !errors.Is(err, ErrBadAPDU) {
			t.Errorf("DecodeBMPs(% X): err = %v; want ErrBadAPDU", bad, err)
		}
	}
}

func TestDecodeStatusInfo(t *testing.T) {
	loc := time.UTC
	e, err := NewEmulator(EmulatorConfig{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 9, 14, 3, 7, 0, loc)
	txn := Txn{Trace: 12, Receipt: 34, Amount: 100000, Currency: "KES", Approved: true, Approval: "A1B2C3", PAN: "476173******0119", CardName: "VISA", Time: at}
	a := e.statusInfo(txn)
	s, err := decodeStatusInfo(a.Data, at.Add(time.Hour), loc)
	if err != nil {
		t.Fatal(err)
	}
	r := s.result(at)
	if r.ReversalOf != 0 {
		t.Fatalf("ReversalOf %d", r.ReversalOf)
	}
	rev, _ := appendBMP(a.Data, bmpOrigTrace, mustBCD(11, 3))
	if s, err := decodeStatusInfo(rev, at, loc); err != nil || s.result(at).ReversalOf != 11 {
		t.Fatalf("reversal: %+v, %v", s, err)
	}
	if !r.Approved || r.Amount.Minor != 100000 || r.Amount.Currency != "KES" || r.Trace != 12 || r.Receipt != 34 ||
		r.Approval != "A1B2C3" || r.CardLast4 != "0119" || r.CardName != "VISA" || r.TerminalID != "52000001" || !r.Time.Equal(at) {
		t.Fatalf("result = %+v", r)
	}
}

func TestPDQTimeYearFromReference(t *testing.T) {
	loc := time.UTC
	ref := time.Date(2026, 1, 1, 0, 5, 0, 0, loc)
	// 31 December 23:59:00 without a year is the day before ref, not 2026-12-31.
	got, err := pdqTime(235900, 1231, -1, ref, loc)
	if err != nil || !got.Equal(time.Date(2025, 12, 31, 23, 59, 0, 0, loc)) {
		t.Fatalf("pdqTime = %v, %v; want 2025-12-31 23:59", got, err)
	}
	if _, err := pdqTime(250000, 101, -1, ref, loc); err == nil {
		t.Fatal("hour 25: want error")
	}
	if _, err := pdqTime(120000, 1301, -1, ref, loc); err == nil {
		t.Fatal("month 13: want error")
	}
	if got, err := pdqTime(120000, -1, -1, ref, loc); err != nil || !got.IsZero() {
		t.Fatalf("no date: %v, %v; want zero time", got, err)
	}
}

func TestParseSetting(t *testing.T) {
	tests := []struct {
		in   string
		want Setting
		ok   bool
	}{
		{"zvt:/dev/ttyUSB0", Setting{"/dev/ttyUSB0", 9600}, true},
		{"zvt:/dev/ttyS1?baud=19200", Setting{"/dev/ttyS1", 19200}, true},
		{"zvt:/dev/ttyS1?baud=123", Setting{}, false},
		{"zvt:/dev/ttyS1?parity=odd", Setting{}, false},
		{"zvt:", Setting{}, false},
		{"manual", Setting{}, false},
	}
	for _, tt := range tests {
		got, err := ParseSetting(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSetting(%q) = %+v, %v; want %+v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestMessages(t *testing.T) {
	if got := ResultMessage(0x6C); got == "" {
		t.Fatal("empty message")
	}
	if got := ResultMessage(0x07); got != "declined by the card's bank (code 7)" {
		t.Fatalf("ResultMessage(7) = %q", got)
	}
	if got := StatusText(0x55); got != "Wrong PIN — remove the card" {
		t.Fatalf("StatusText(55) = %q", got)
	}
}
