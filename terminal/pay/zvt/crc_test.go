package zvt

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCRCKnownVector checks the CRC against the published check value of
// CRC-16/KERMIT (reflected 0x8408, init 0, no final XOR): 0x2189 for
// "123456789".
func TestCRCKnownVector(t *testing.T) {
	if got := crc16(0, []byte("123456789")); got != 0x2189 {
		t.Fatalf("crc16(123456789) = %#04x; want 0x2189", got)
	}
}

// TestCRCByHand recomputes a frame's CRC with a plain shift register written
// here from the polynomial, independent of crc16.
func TestCRCByHand(t *testing.T) {
	for _, apdu := range [][]byte{
		{0x80, 0x00, 0x00},
		{0x06, 0x00, 0x06, 0x00, 0x00, 0x00, 0x08, 0x04, 0x04},
		{0x06, 0x1E, 0x01, 0x05},
	} {
		want := crcByHand(append(append([]byte(nil), apdu...), etx))
		if got := frameCRC(apdu); got != want {
			t.Errorf("frameCRC(% x) = %#04x; want %#04x", apdu, got, want)
		}
	}
}

// TestPositiveAckFrame is the frame every ZVT trace is full of: 80 00 00,
// whose CRC is F5 1F (low byte first).
func TestPositiveAckFrame(t *testing.T) {
	want := []byte{0x10, 0x02, 0x80, 0x00, 0x00, 0x10, 0x03, 0xF5, 0x1F}
	if got := EncodeFrame([]byte{0x80, 0x00, 0x00}); !bytes.Equal(got, want) {
		t.Fatalf("EncodeFrame(80 00 00) = % X; want % X", got, want)
	}
}

// crcByHand is the CRC as a bit-serial shift register: each data bit, least
// significant first, is XORed into the register's low bit; if the result is
// 1 the register shifts and takes the reflected polynomial 0x8408.
func crcByHand(data []byte) uint16 {
	var reg uint16
	for _, b := range data {
		for i := 0; i < 8; i++ {
			bit := (uint16(b) >> i) & 1
			fb := (reg ^ bit) & 1
			reg >>= 1
			if fb == 1 {
				reg ^= 0x8408
			}
		}
	}
	return reg
}

// TestConversationFrames checks every frame of the recorded conversations
// with crcByHand: DLE doubling undone, CRC over APDU+ETX, low byte first.
// Only frames recorded as deliberately corrupted may fail.
func TestConversationFrames(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(convDir, "*.conv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations in %s: %v", convDir, err)
	}
	checked := 0
	for _, f := range files {
		for _, s := range loadConversation(t, f) {
			if len(s.data) == 1 {
				continue // ACK or NAK
			}
			b := s.data
			if b[0] != 0x10 || b[1] != 0x02 || b[len(b)-4] != 0x10 || b[len(b)-3] != 0x03 {
				t.Errorf("%s:%d: not DLE STX … DLE ETX crc crc: % X", f, s.line, b)
				continue
			}
			var apdu []byte
			for i := 2; i < len(b)-4; i++ {
				apdu = append(apdu, b[i])
				if b[i] == 0x10 {
					i++ // doubled DLE
				}
			}
			want := crcByHand(append(apdu, 0x03))
			got := uint16(b[len(b)-2]) | uint16(b[len(b)-1])<<8
			corrupt := strings.Contains(s.note, "bad frame")
			if (got == want) == corrupt {
				t.Errorf("%s:%d: CRC %04X, by hand %04X (recorded as corrupt: %v)", f, s.line, got, want, corrupt)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d frames", checked)
	}
}
