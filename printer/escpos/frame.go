package escpos

import (
	"errors"
	"fmt"
)

// Control bytes that start commands.
const (
	NUL = 0x00
	HT  = 0x09
	LF  = 0x0A
	FF  = 0x0C
	CR  = 0x0D
	DLE = 0x10
	XON = 0x11
	XOF = 0x13 // XOFF
	CAN = 0x18
	ESC = 0x1B
	FS  = 0x1C
	GS  = 0x1D
)

// Op names a command by its prefix byte, its command byte and, for the
// families that have one (GS ( k, GS 8 L, GS v 0, FS ( A…), a function
// byte: Op(GS<<16 | '('<<8 | 'k').
type Op uint32

// MakeOp builds the Op of prefix, code and sub (0 when none).
func MakeOp(prefix, code, sub byte) Op {
	return Op(uint32(prefix)<<16 | uint32(code)<<8 | uint32(sub))
}

// Ops that are not prefixed commands.
const (
	OpText    Op = 1 // a run of printable bytes
	OpControl Op = 2 // a single control byte (LF, CR, HT, FF, CAN, NUL, other)
)

// The commands Lango and the emulator act on.
const (
	OpInit         = Op(ESC<<16 | '@'<<8)
	OpPrintMode    = Op(ESC<<16 | '!'<<8)
	OpCharSpacing  = Op(ESC<<16 | ' '<<8)
	OpAbsPos       = Op(ESC<<16 | '$'<<8)
	OpBitImage     = Op(ESC<<16 | '*'<<8)
	OpUnderline    = Op(ESC<<16 | '-'<<8)
	OpLineSpacing6 = Op(ESC<<16 | '2'<<8)
	OpLineSpacing  = Op(ESC<<16 | '3'<<8)
	OpTabs         = Op(ESC<<16 | 'D'<<8)
	OpBold         = Op(ESC<<16 | 'E'<<8)
	OpDoubleStrike = Op(ESC<<16 | 'G'<<8)
	OpFeedDots     = Op(ESC<<16 | 'J'<<8)
	OpFont         = Op(ESC<<16 | 'M'<<8)
	OpRelPos       = Op(ESC<<16 | '\\'<<8)
	OpAlign        = Op(ESC<<16 | 'a'<<8)
	OpFeedLines    = Op(ESC<<16 | 'd'<<8)
	OpDrawerKick   = Op(ESC<<16 | 'p'<<8)
	OpCodePage     = Op(ESC<<16 | 't'<<8)
	OpUpsideDown   = Op(ESC<<16 | '{'<<8)
	OpCharSize     = Op(GS<<16 | '!'<<8)
	OpReverse      = Op(GS<<16 | 'B'<<8)
	OpLeftMargin   = Op(GS<<16 | 'L'<<8)
	OpCut          = Op(GS<<16 | 'V'<<8)
	OpAreaWidth    = Op(GS<<16 | 'W'<<8)
	OpASB          = Op(GS<<16 | 'a'<<8)
	OpStatusGSr    = Op(GS<<16 | 'r'<<8)
	OpBarcode      = Op(GS<<16 | 'k'<<8)
	OpRaster       = Op(GS<<16 | 'v'<<8 | '0')
	OpGraphics     = Op(GS<<16 | '('<<8 | 'L')
	OpGraphicsLong = Op(GS<<16 | '8'<<8 | 'L')
	OpSymbol       = Op(GS<<16 | '('<<8 | 'k')
	OpStatusEOT    = Op(DLE<<16 | 0x04<<8)
	OpRealtimeReq  = Op(DLE<<16 | 0x05<<8)
	OpRealtimeDC4  = Op(DLE<<16 | 0x14<<8)
	OpKanjiOn      = Op(FS<<16 | '&'<<8)
	OpKanjiOff     = Op(FS<<16 | '.'<<8)
	OpPrinterID    = Op(GS<<16 | 'I'<<8)
)

var prefixNames = map[byte]string{ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}

// String spells o the way manuals do: "GS ( k", "ESC a", "DLE 0x04".
func (o Op) String() string {
	switch o {
	case OpText:
		return "text"
	case OpControl:
		return "control"
	}
	p, c, s := byte(o>>16), byte(o>>8), byte(o)
	name, ok := prefixNames[p]
	if !ok {
		return fmt.Sprintf("0x%02X", p)
	}
	str := name + " " + printable(c)
	if s != 0 {
		str += " " + printable(s)
	}
	return str
}

func printable(b byte) string {
	if b > 0x20 && b < 0x7F {
		return string(rune(b))
	}
	return fmt.Sprintf("0x%02X", b)
}

// Command is one command, or one run of text, cut from a stream.
type Command struct {
	Op Op
	// Raw is every byte of the command, including its data.
	Raw []byte
	// Args are the bytes after the opcode (and, for the length-prefixed
	// families, after the length): parameters and data.
	Args []byte
	// Known is false for a command this package does not recognise; Raw is
	// then its prefix and command byte only, as a printer would skip them.
	Known bool
}

// ErrShort means the buffer ends inside a command: read more bytes (or, at
// the end of a stream, the command is truncated).
var ErrShort = errors.New("escpos: command incomplete")

// ErrTooLarge means a command declares more data than MaxCommand.
var ErrTooLarge = errors.New("escpos: command declares too much data")

// MaxCommand bounds the bytes one command may declare (16 MiB: a 576-dot
// image 230,000 rows long), so a corrupt length cannot make a reader buffer
// without end.
const MaxCommand = 16 << 20

// TooLarge is returned with ErrTooLarge: the command's header and the
// number of bytes it declares in total, which a reader should discard.
type TooLarge struct {
	Op       Op
	Header   int
	Declared int64
}

func (e *TooLarge) Error() string {
	return fmt.Sprintf("%s declares %d bytes (limit %d)", e.Op, e.Declared, MaxCommand)
}

func (e *TooLarge) Unwrap() error { return ErrTooLarge }

// Next cuts the first command from b. It returns ErrShort when b ends inside
// it and a *TooLarge when its declared length exceeds MaxCommand. It never
// reads past b and never panics, whatever the bytes.
func Next(b []byte) (Command, error) {
	if len(b) == 0 {
		return Command{}, ErrShort
	}
	c := b[0]
	if c >= 0x20 {
		n := 1
		for n < len(b) && b[n] >= 0x20 {
			n++
		}
		return Command{Op: OpText, Raw: b[:n], Args: b[:n], Known: true}, nil
	}
	switch c {
	case ESC:
		return nextESC(b)
	case GS:
		return nextGS(b)
	case FS:
		return nextFS(b)
	case DLE:
		return nextDLE(b)
	case LF, CR, HT, FF, CAN, NUL:
		return Command{Op: OpControl, Raw: b[:1], Args: b[:1], Known: true}, nil
	}
	return Command{Op: OpControl, Raw: b[:1], Args: b[:1], Known: false}, nil
}

// fixed returns a command of total length n whose opcode is ops bytes long.
func fixed(b []byte, op Op, ops, n int) (Command, error) {
	if len(b) < n {
		return Command{}, ErrShort
	}
	return Command{Op: op, Raw: b[:n], Args: b[ops:n], Known: true}, nil
}

func unknown(b []byte, op Op, n int) (Command, error) {
	if len(b) < n {
		return Command{}, ErrShort
	}
	return Command{Op: op, Raw: b[:n], Args: b[n:n], Known: false}, nil
}

// sized returns a command whose header is hdr bytes long followed by data
// bytes; Args starts after ops opcode bytes.
func sized(b []byte, op Op, ops, hdr int, data int64) (Command, error) {
	total := int64(hdr) + data
	if total > MaxCommand {
		return Command{}, &TooLarge{Op: op, Header: hdr, Declared: total}
	}
	if int64(len(b)) < total {
		return Command{}, ErrShort
	}
	return Command{Op: op, Raw: b[:total], Args: b[ops:total], Known: true}, nil
}

// le16 reads a little-endian 16-bit value at b[i].
func le16(b []byte, i int) int64 { return int64(b[i]) | int64(b[i+1])<<8 }

func nextESC(b []byte) (Command, error) {
	if len(b) < 2 {
		return Command{}, ErrShort
	}
	op := MakeOp(ESC, b[1], 0)
	switch b[1] {
	case '@', '2', '<', 'i', 'm', FF, 'L', 'S', 'v':
		return fixed(b, op, 2, 2)
	case ' ', '!', '%', '-', '3', 'E', 'G', 'J', 'K', 'M', 'R', 'T', 'U', 'V',
		'a', 'd', 'e', 'r', 't', '{', '?', '=', 'u', 'I', 'O':
		return fixed(b, op, 2, 3)
	case '$', '\\', 'B':
		return fixed(b, op, 2, 4)
	case 'p':
		return fixed(b, op, 2, 5)
	case 'W':
		return fixed(b, op, 2, 10)
	case 'c': // ESC c 3 n, ESC c 4 n, ESC c 5 n: panel and sensor settings
		if len(b) < 3 {
			return Command{}, ErrShort
		}
		return fixed(b, MakeOp(ESC, 'c', b[2]), 3, 4)
	case '*': // ESC * m nL nH d…
		if len(b) < 5 {
			return Command{}, ErrShort
		}
		per := int64(1)
		if b[2] == 32 || b[2] == 33 {
			per = 3
		}
		return sized(b, op, 2, 5, per*le16(b, 3))
	case 'D': // ESC D n1 … nk NUL, at most 32 stops
		for i := 2; i < len(b) && i < 2+33; i++ {
			if b[i] == NUL {
				return fixed(b, op, 2, i+1)
			}
		}
		if len(b) >= 2+33 {
			return Command{Op: op, Raw: b[:2+32], Args: b[2 : 2+32], Known: true}, nil
		}
		return Command{}, ErrShort
	case '&': // ESC & y c1 c2 [x d1…d(y×x)]…
		if len(b) < 5 {
			return Command{}, ErrShort
		}
		y, c1, c2 := int(b[2]), int(b[3]), int(b[4])
		i := 5
		for ch := c1; ch <= c2 && ch-c1 < 256; ch++ {
			if i >= len(b) {
				return Command{}, ErrShort
			}
			i += 1 + y*int(b[i])
			if i > len(b) {
				return Command{}, ErrShort
			}
		}
		return fixed(b, op, 2, i)
	case '(': // ESC ( A / ESC ( Y pL pH …
		if len(b) < 5 {
			return Command{}, ErrShort
		}
		return sized(b, MakeOp(ESC, '(', b[2]), 5, 5, le16(b, 3))
	}
	return unknown(b, op, 2)
}

func nextGS(b []byte) (Command, error) {
	if len(b) < 2 {
		return Command{}, ErrShort
	}
	op := MakeOp(GS, b[1], 0)
	switch b[1] {
	case ':':
		return fixed(b, op, 2, 2)
	case '!', 'B', 'H', 'I', 'T', 'a', 'b', 'f', 'h', 'r', 'w', '/', 'E', 'c':
		return fixed(b, op, 2, 3)
	case 'L', 'W', '$', '\\', 'P':
		return fixed(b, op, 2, 4)
	case '^':
		return fixed(b, op, 2, 5)
	case 'V': // GS V m, or GS V m n for the feed-and-cut forms
		if len(b) < 3 {
			return Command{}, ErrShort
		}
		switch b[2] {
		case 0, 1, '0', '1':
			return fixed(b, op, 2, 3)
		}
		return fixed(b, op, 2, 4)
	case 'v': // GS v 0 m xL xH yL yH d…
		if len(b) < 3 {
			return Command{}, ErrShort
		}
		if b[2] != '0' {
			return unknown(b, MakeOp(GS, 'v', b[2]), 3)
		}
		if len(b) < 8 {
			return Command{}, ErrShort
		}
		return sized(b, OpRaster, 3, 8, le16(b, 4)*le16(b, 6))
	case '*': // GS * x y d(x×y×8)
		if len(b) < 4 {
			return Command{}, ErrShort
		}
		return sized(b, op, 2, 4, int64(b[2])*int64(b[3])*8)
	case '(': // GS ( X pL pH …
		if len(b) < 5 {
			return Command{}, ErrShort
		}
		return sized(b, MakeOp(GS, '(', b[2]), 5, 5, le16(b, 3))
	case '8': // GS 8 L p1 p2 p3 p4 …
		if len(b) < 7 {
			return Command{}, ErrShort
		}
		if b[2] != 'L' {
			return unknown(b, MakeOp(GS, '8', b[2]), 3)
		}
		n := int64(b[3]) | int64(b[4])<<8 | int64(b[5])<<16 | int64(b[6])<<24
		return sized(b, OpGraphicsLong, 7, 7, n)
	case 'k': // GS k m d… NUL (m 0–6) or GS k m n d1…dn (m 65–79)
		if len(b) < 3 {
			return Command{}, ErrShort
		}
		if b[2] <= 6 {
			for i := 3; i < len(b); i++ {
				if b[i] == NUL {
					return fixed(b, op, 2, i+1)
				}
				if i-3 > 255 {
					return fixed(b, op, 2, i+1)
				}
			}
			return Command{}, ErrShort
		}
		if len(b) < 4 {
			return Command{}, ErrShort
		}
		return sized(b, op, 2, 4, int64(b[3]))
	}
	return unknown(b, op, 2)
}

func nextFS(b []byte) (Command, error) {
	if len(b) < 2 {
		return Command{}, ErrShort
	}
	op := MakeOp(FS, b[1], 0)
	switch b[1] {
	case '&', '.':
		return fixed(b, op, 2, 2)
	case '!', '-', 'C', 'W':
		return fixed(b, op, 2, 3)
	case 'S', '?', 'p':
		return fixed(b, op, 2, 4)
	case '2': // FS 2 c1 c2 d1…d72: user-defined Kanji
		return fixed(b, op, 2, 4+72)
	case '(':
		if len(b) < 5 {
			return Command{}, ErrShort
		}
		return sized(b, MakeOp(FS, '(', b[2]), 5, 5, le16(b, 3))
	case 'q': // FS q n [xL xH yL yH d1…dk]1…n: define NV bit images
		if len(b) < 3 {
			return Command{}, ErrShort
		}
		i := int64(3)
		for k := 0; k < int(b[2]); k++ {
			if int64(len(b)) < i+4 {
				return Command{}, ErrShort
			}
			i += 4 + le16(b, int(i))*le16(b, int(i)+2)*8
			if i > MaxCommand {
				return Command{}, &TooLarge{Op: op, Header: 3, Declared: i}
			}
		}
		return sized(b, op, 2, 0, i)
	}
	return unknown(b, op, 2)
}

func nextDLE(b []byte) (Command, error) {
	if len(b) < 2 {
		return Command{}, ErrShort
	}
	op := MakeOp(DLE, b[1], 0)
	switch b[1] {
	case 0x04: // DLE EOT n (n 7 and 8 take one more byte)
		if len(b) < 3 {
			return Command{}, ErrShort
		}
		if b[2] == 7 || b[2] == 8 {
			return fixed(b, op, 2, 4)
		}
		return fixed(b, op, 2, 3)
	case 0x05:
		return fixed(b, op, 2, 3)
	case 0x14: // DLE DC4 fn …
		if len(b) < 3 {
			return Command{}, ErrShort
		}
		switch b[2] {
		case 1, 2:
			return fixed(b, op, 2, 5)
		case 7:
			return fixed(b, op, 2, 4)
		case 8:
			return fixed(b, op, 2, 10)
		}
		return fixed(b, op, 2, 3)
	}
	// A lone DLE is not a command: a printer skips the byte.
	return Command{Op: OpControl, Raw: b[:1], Args: b[:1], Known: false}, nil
}

// Validate checks that job is a whole number of commands: it does not end
// inside one and declares nothing absurd. A job that passes leaves the
// printer between commands, where a status query is safe.
func Validate(job []byte) error {
	for off := 0; off < len(job); {
		c, err := Next(job[off:])
		if errors.Is(err, ErrShort) {
			return fmt.Errorf("job ends inside a command at byte %d of %d", off, len(job))
		}
		if err != nil {
			return fmt.Errorf("byte %d: %w", off, err)
		}
		off += len(c.Raw)
	}
	return nil
}

// CommandEnd returns the offset just past the command that contains byte
// off of job (off itself when off is at a command boundary), or len(job).
func CommandEnd(job []byte, off int) int {
	pos := 0
	for pos < off && pos < len(job) {
		c, err := Next(job[pos:])
		if err != nil {
			return len(job)
		}
		pos += len(c.Raw)
	}
	return min(pos, len(job))
}
