package zvt

import (
	"fmt"
	"strings"

	"github.com/lango-pos/lango/terminal"
)

// BMP is one data field ("bitmap") of an APDU: a one-byte tag and its value.
// For variable-length fields Value excludes the length prefix.
type BMP struct {
	Tag   byte
	Value []byte
}

// BMP tags used by this package (a subset; DecodeBMPs also knows the length
// of the other tags of the ZVT field summary so it can skip them).
const (
	bmpTimeout     = 0x01 // binary, 1: seconds
	bmpAmount      = 0x04 // BCD, 6: minor units, 12 digits
	bmpTLV         = 0x06 // TLV container, BER length
	bmpTrace       = 0x0B // BCD, 3: trace number
	bmpTime        = 0x0C // BCD, 3: HHMMSS
	bmpDate        = 0x0D // BCD, 2: MMDD
	bmpPaymentType = 0x19 // binary, 1
	bmpPAN         = 0x22 // LLVAR BCD: card number, E = masked digit, F = pad
	bmpResultCode  = 0x27 // binary, 1
	bmpTerminalID  = 0x29 // BCD, 4: 8-digit terminal id
	bmpOrigTrace   = 0x37 // BCD, 3: trace of the transaction a reversal undoes
	bmpAID         = 0x3B // 8 bytes: authorisation attribute (approval code)
	bmpCurrency    = 0x49 // BCD, 2: ISO 4217 numeric
	bmpReceipt     = 0x87 // BCD, 2: receipt number
	bmpCardName    = 0x8B // LLVAR ASCII
	bmpDateFull    = 0xAA // BCD, 3: YYMMDD
)

type bmpKind int

const (
	kindFixed  bmpKind = iota
	kindLLVAR          // length as two bytes F0–F9 F0–F9
	kindLLLVAR         // length as three bytes F0–F9
	kindTLV            // BER-TLV container: 1–3 length bytes
)

type bmpFormat struct {
	kind bmpKind
	size int // for kindFixed
}

// bmpFormatOf returns the wire format of tag, from the ZVT summary of
// utilised BMPs. An unknown tag cannot be skipped (its length is unknown),
// so it makes the whole APDU unreadable.
func bmpFormatOf(tag byte) (bmpFormat, bool) {
	fixed := func(n int) (bmpFormat, bool) { return bmpFormat{kindFixed, n}, true }
	switch tag {
	case 0x01, 0x02, 0x03, 0x05, 0x19, 0x27, 0x8A, 0x8C, 0xA0, 0xD0, 0xD2,
		0xD3, 0xE0, 0xE9, 0xEA, 0xF0, 0xF9, 0xFA, 0xFB, 0xFC:
		return fixed(1)
	case 0x0D, 0x0E, 0x17, 0x3A, 0x49, 0x87:
		return fixed(2)
	case 0x0B, 0x0C, 0x37, 0x3D, 0x88, 0xAA:
		return fixed(3)
	case 0x29:
		return fixed(4)
	case 0xBA:
		return fixed(5)
	case 0x04:
		return fixed(6)
	case 0x3B, 0xEB:
		return fixed(8)
	case 0x2A:
		return fixed(15)
	case 0x22, 0x23, 0x2D, 0x8B, 0xA7, 0xD1,
		0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8,
		0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8:
		return bmpFormat{kind: kindLLVAR}, true
	case 0x24, 0x2E, 0x3C, 0x60, 0x92, 0x9A, 0xAF:
		return bmpFormat{kind: kindLLLVAR}, true
	case 0x06:
		return bmpFormat{kind: kindTLV}, true
	}
	return bmpFormat{}, false
}

// DecodeBMPs parses a sequence of BMPs (the data of a status information,
// an authorisation, a completion…). It refuses unknown tags, bad length
// prefixes and truncated values.
func DecodeBMPs(b []byte) ([]BMP, error) {
	var out []BMP
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		f, ok := bmpFormatOf(tag)
		if !ok {
			return out, fmt.Errorf("%w: unknown BMP 0x%02X at offset %d", ErrBadAPDU, tag, i-1)
		}
		var n int
		switch f.kind {
		case kindFixed:
			n = f.size
		case kindLLVAR, kindLLLVAR:
			digits := 2
			if f.kind == kindLLLVAR {
				digits = 3
			}
			if len(b)-i < digits {
				return out, fmt.Errorf("%w: BMP 0x%02X length truncated", ErrBadAPDU, tag)
			}
			for _, c := range b[i : i+digits] {
				if c&0xF0 != 0xF0 || c&0x0F > 9 {
					return out, fmt.Errorf("%w: BMP 0x%02X bad length byte 0x%02X", ErrBadAPDU, tag, c)
				}
				n = n*10 + int(c&0x0F)
			}
			i += digits
		case kindTLV:
			if i >= len(b) {
				return out, fmt.Errorf("%w: TLV length truncated", ErrBadAPDU)
			}
			switch l := b[i]; {
			case l < 0x80:
				n, i = int(l), i+1
			case l == 0x81 && len(b)-i >= 2:
				n, i = int(b[i+1]), i+2
			case l == 0x82 && len(b)-i >= 3:
				n, i = int(b[i+1])<<8|int(b[i+2]), i+3
			default:
				return out, fmt.Errorf("%w: TLV bad length", ErrBadAPDU)
			}
		}
		if len(b)-i < n {
			return out, fmt.Errorf("%w: BMP 0x%02X needs %d bytes, %d left", ErrBadAPDU, tag, n, len(b)-i)
		}
		out = append(out, BMP{Tag: tag, Value: b[i : i+n]})
		i += n
	}
	return out, nil
}

// appendBMP appends tag and value in the tag's wire format. On error dst
// is returned unchanged.
func appendBMP(dst []byte, tag byte, v []byte) ([]byte, error) {
	f, ok := bmpFormatOf(tag)
	if !ok {
		return dst, fmt.Errorf("%w: unknown BMP 0x%02X", ErrBadAPDU, tag)
	}
	var prefix []byte
	switch n := len(v); f.kind {
	case kindFixed:
		if n != f.size {
			return dst, fmt.Errorf("%w: BMP 0x%02X takes %d bytes, got %d", ErrBadAPDU, tag, f.size, n)
		}
	case kindLLVAR:
		if n > 99 {
			return dst, fmt.Errorf("%w: BMP 0x%02X longer than 99 bytes", ErrBadAPDU, tag)
		}
		prefix = []byte{0xF0 | byte(n/10), 0xF0 | byte(n%10)}
	case kindLLLVAR:
		if n > 999 {
			return dst, fmt.Errorf("%w: BMP 0x%02X longer than 999 bytes", ErrBadAPDU, tag)
		}
		prefix = []byte{0xF0 | byte(n/100), 0xF0 | byte(n/10%10), 0xF0 | byte(n%10)}
	case kindTLV:
		switch {
		case n < 0x80:
			prefix = []byte{byte(n)}
		case n <= 0xFF:
			prefix = []byte{0x81, byte(n)}
		case n <= 0xFFFF:
			prefix = []byte{0x82, byte(n >> 8), byte(n)}
		default:
			return dst, fmt.Errorf("%w: TLV container too long", ErrBadAPDU)
		}
	}
	dst = append(dst, tag)
	dst = append(dst, prefix...)
	return append(dst, v...), nil
}

// encodeBCD writes v as size bytes of packed BCD, most significant first.
func encodeBCD(v int64, size int) ([]byte, error) {
	if v < 0 {
		return nil, fmt.Errorf("%w: negative BCD value %d", ErrBadAPDU, v)
	}
	out := make([]byte, size)
	for i := size - 1; i >= 0; i-- {
		out[i] = byte(v%10) | byte(v/10%10)<<4
		v /= 100
	}
	if v != 0 {
		return nil, fmt.Errorf("%w: value does not fit %d BCD bytes", ErrBadAPDU, size)
	}
	return out, nil
}

// decodeBCD reads packed BCD, refusing nibbles above 9.
func decodeBCD(b []byte) (int64, error) {
	var v int64
	for _, c := range b {
		hi, lo := c>>4, c&0x0F
		if hi > 9 || lo > 9 {
			return 0, fmt.Errorf("%w: 0x%02X is not BCD", ErrBadAPDU, c)
		}
		v = v*100 + int64(hi)*10 + int64(lo)
	}
	return v, nil
}

// mustBCD is encodeBCD for values the caller has already range-checked.
func mustBCD(v int64, size int) []byte {
	b, err := encodeBCD(v, size)
	if err != nil {
		panic(err) // a bug in this package, never outside input
	}
	return b
}

// decodePAN reads a BCD card number: digits, E for a masked digit, F as
// padding at the end. Masked digits come back as '*'.
func decodePAN(b []byte) (string, error) {
	var s strings.Builder
	pad := false
	for _, c := range b {
		for _, nib := range [2]byte{c >> 4, c & 0x0F} {
			switch {
			case nib == 0x0F:
				pad = true
			case pad:
				return "", fmt.Errorf("%w: card number digit after padding", ErrBadAPDU)
			case nib <= 9:
				s.WriteByte('0' + nib)
			case nib == 0x0E:
				s.WriteByte('*')
			default:
				return "", fmt.Errorf("%w: card number nibble 0x%X", ErrBadAPDU, nib)
			}
		}
	}
	return s.String(), nil
}

// encodePAN is the reverse of decodePAN ('*' → E, odd length padded with F).
func encodePAN(pan string) ([]byte, error) {
	nibs := make([]byte, 0, len(pan)+1)
	for _, r := range pan {
		switch {
		case r >= '0' && r <= '9':
			nibs = append(nibs, byte(r-'0'))
		case r == '*':
			nibs = append(nibs, 0x0E)
		default:
			return nil, fmt.Errorf("%w: card number %q: only digits and *", ErrBadAPDU, pan)
		}
	}
	if len(nibs)%2 == 1 {
		nibs = append(nibs, 0x0F)
	}
	out := make([]byte, len(nibs)/2)
	for i := range out {
		out[i] = nibs[2*i]<<4 | nibs[2*i+1]
	}
	return out, nil
}

// printable keeps the printable ASCII of a PDQ text field, dropping NUL
// padding and trailing spaces, so nothing odd reaches a screen or receipt.
func printable(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch {
		case c == 0:
		case c >= 0x20 && c < 0x7F:
			s.WriteByte(c)
		default:
			s.WriteByte('?')
		}
	}
	return strings.TrimSpace(s.String())
}

// isoNumeric maps the currencies Lango prices in to ISO 4217 numeric codes
// (BMP 49 carries them as 2 BCD bytes: KES 404 → 04 04).
func isoNumeric(c terminal.Currency) (int, bool) {
	switch c {
	case "KES":
		return 404, true
	case "USD":
		return 840, true
	case "EUR":
		return 978, true
	case "GBP":
		return 826, true
	case "UGX":
		return 800, true
	case "TZS":
		return 834, true
	case "RWF":
		return 646, true
	}
	return 0, false
}

// currencyOf is the reverse of isoNumeric; "" for a code Lango does not use.
func currencyOf(n int) terminal.Currency {
	for _, c := range []terminal.Currency{"KES", "USD", "EUR", "GBP", "UGX", "TZS", "RWF"} {
		if m, _ := isoNumeric(c); m == n {
			return c
		}
	}
	return ""
}
