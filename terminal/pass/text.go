package pass

import (
	"fmt"
	"strings"
)

// The text form of a pass, which its QR code holds: TextPrefix, then the
// binary form written in decimal, seven bytes at a time. Decimal digits put
// the QR code in numeric mode (10 bits per 3 digits, 8.1 bits per byte of
// pass, against 8.25 for Base45 in alphanumeric mode and 8 to 16 for byte
// mode), and digits pass through every keyboard-wedge scanner: they have no
// case and sit on the same keys in every Latin layout used in Kenya.
const TextPrefix = "LG1:"

// textPrefixLower is TextPrefix as a scanner with Caps Lock on, or set to
// send lower case, types it. Only the all-upper or all-lower prefix is
// accepted, so no single changed bit of a valid text is.
const textPrefixLower = "lg1:"

// digitsFor[k] is the number of decimal digits that hold k bytes: the
// fewest d with 10^d ≥ 256^k. bytesFor is its inverse (-1: no such k).
var (
	digitsFor = [8]int{0, 3, 5, 8, 10, 13, 15, 17}
	bytesFor  = [18]int{0, -1, -1, 1, -1, 2, -1, -1, 3, -1, 4, -1, -1, 5, -1, 6, -1, 7}
)

// maxTextDigits is the number of digits of a MaxBinary-byte pass.
const maxTextDigits = MaxBinary/7*17 + (MaxBinary%7)*3

// EncodeText returns the text form of the binary form b.
func EncodeText(b []byte) string {
	var s strings.Builder
	s.Grow(len(TextPrefix) + len(b)/7*17 + digitsFor[len(b)%7])
	s.WriteString(TextPrefix)
	var buf [17]byte
	for len(b) > 0 {
		k := min(7, len(b))
		var v uint64
		for _, c := range b[:k] {
			v = v<<8 | uint64(c)
		}
		d := digitsFor[k]
		for i := d - 1; i >= 0; i-- {
			buf[i] = byte('0' + v%10)
			v /= 10
		}
		s.Write(buf[:d])
		b = b[k:]
	}
	return s.String()
}

// DecodeText returns the binary form of the text form s. It accepts what a
// scanner types: surrounding spaces, tabs and line ends are ignored and the
// prefix may be all lower case. Anything else that is not exactly a text
// form EncodeText writes is refused as malformed.
func DecodeText(s string) ([]byte, error) {
	return decodeText(s, 0)
}

// decodeText decodes s into a new slice whose first reserve bytes are left
// free (for the signature context) and returns the whole slice.
func decodeText(s string, reserve int) ([]byte, error) {
	bad := func(format string, args ...any) ([]byte, error) {
		return nil, refuse(Malformed, fmt.Errorf(format, args...))
	}
	s = strings.Trim(s, " \t\r\n")
	if len(s) > len(TextPrefix)+maxTextDigits {
		return bad("%d characters; a pass has at most %d", len(s), len(TextPrefix)+maxTextDigits)
	}
	if !strings.HasPrefix(s, TextPrefix) && !strings.HasPrefix(s, textPrefixLower) {
		return bad("does not start with %q: not a Lango pass", TextPrefix)
	}
	s = s[len(TextPrefix):]
	full, rest := len(s)/17, len(s)%17
	tail := bytesFor[rest]
	if tail < 0 {
		return bad("%d digits: not a whole number of bytes (truncated?)", len(s))
	}
	out := make([]byte, reserve, reserve+full*7+tail)
	for pos := len(TextPrefix); len(s) > 0; pos += 17 {
		d := min(17, len(s))
		k := bytesFor[d]
		var v uint64
		for i := 0; i < d; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return bad("character %q at %d: a pass has digits only", c, pos+i)
			}
			v = v*10 + uint64(c-'0')
		}
		if v>>(8*k) != 0 {
			return bad("digit group %q is too large for %d bytes", s[:d], k)
		}
		for i := k - 1; i >= 0; i-- {
			out = append(out, byte(v>>(8*i)))
		}
		s = s[d:]
	}
	return out, nil
}
