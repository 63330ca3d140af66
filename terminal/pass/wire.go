package pass

import (
	"errors"
	"fmt"
)

// Low-level pieces of the v1 binary form; docs/PASS-FORMAT.md §Binary form.

// codeDict is v1's dictionary of catalogue codes: a code field holding
// 0x80|i means codeDict[i]. It is frozen for v1 (a decoder must know it);
// any other code is spelled out. Entries are the catalogue's common codes.
var codeDict = [...]string{
	"EAC", "RES", "AFR", "INT", // visitor categories
	"ADULT", "CHILD", "UNDER5", // age bands
	"CAR", "VAN", "TOUR-CAR", "TOUR-VAN", "BUS", // vehicle (seat) bands
}

func dictIndex(s string) int {
	for i, c := range codeDict {
		if c == s {
			return i
		}
	}
	return -1
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendStr(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// appendCode writes a catalogue code: one dictionary byte, or its length
// and characters.
func appendCode(b []byte, s string) []byte {
	if i := dictIndex(s); i >= 0 {
		return append(b, 0x80|byte(i))
	}
	return appendStr(b, s)
}

// errShort is the error of a reader that ran out of bytes.
var errShort = errors.New("truncated")

// reader reads the binary form. The first error sticks; later reads return
// zero values, so a parser can read a whole structure and check once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("%s: %w", what, errShort)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8(what string) byte {
	s := r.bytes(1, what)
	if s == nil {
		return 0
	}
	return s[0]
}

// keyID reads four bytes, big-endian.
func (r *reader) keyID(what string) KeyID {
	s := r.bytes(4, what)
	if s == nil {
		return 0
	}
	return KeyID(uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3]))
}

// uvarint reads a minimal LEB128 unsigned integer in [lo, hi].
func (r *reader) uvarint(what string, lo, hi uint64) uint64 {
	var v uint64
	for i := 0; ; i++ {
		c := r.u8(what)
		if r.err != nil {
			return 0
		}
		if i == 9 {
			r.fail("%s: integer too long", what)
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				r.fail("%s: integer not in its shortest form", what)
				return 0
			}
			break
		}
	}
	if v < lo || v > hi {
		r.fail("%s: %d out of range %d–%d", what, v, lo, hi)
		return 0
	}
	return v
}

// str reads a length-prefixed string of 1 to max bytes that ok accepts.
func (r *reader) str(what string, max int, ok func(string) bool) string {
	n := int(r.u8(what))
	if r.err != nil {
		return ""
	}
	if n == 0 || n > max {
		r.fail("%s: length %d out of range 1–%d", what, n, max)
		return ""
	}
	s := string(r.bytes(n, what))
	if r.err == nil && !ok(s) {
		r.fail("%s: %q has characters a %s cannot have", what, s, what)
		return ""
	}
	return s
}

// code reads a catalogue code: a dictionary byte or a spelled-out code that
// is not in the dictionary (each code has exactly one encoding).
func (r *reader) code(what string) string {
	if r.err != nil || r.off >= len(r.b) {
		r.u8(what)
		return ""
	}
	if c := r.b[r.off]; c&0x80 != 0 {
		r.off++
		i := int(c & 0x7f)
		if i >= len(codeDict) {
			r.fail("%s: dictionary entry %d does not exist", what, i)
			return ""
		}
		return codeDict[i]
	}
	s := r.str(what, maxCodeLen, isCode)
	if r.err == nil && dictIndex(s) >= 0 {
		r.fail("%s: %q must use its dictionary byte", what, s)
		return ""
	}
	return s
}

// seatBand reads the seat band of a vehicle: a code, or the byte 0x00 for a
// vehicle that paid no vehicle fee (no band).
func (r *reader) seatBand() string {
	if r.err == nil && r.off < len(r.b) && r.b[r.off] == 0 {
		r.off++
		return ""
	}
	return r.code("seat band")
}
