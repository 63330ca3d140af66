// Package escpos writes and frames ESC/POS, the command language of receipt
// printers: an Encoder for the subset Lango prints with, Next to cut a byte
// stream into commands (shared by the serial transport and the emulator, so
// both agree on where a command ends), code pages with transliteration,
// 1-bit bitmaps for raster images and QR codes, and the status bytes.
package escpos

import (
	"errors"
	"fmt"
	"io"
)

// Align is a justification for ESC a.
type Align byte

// Justifications.
const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// ECLevel is a QR error-correction level as GS ( k numbers it.
type ECLevel byte

// QR error-correction levels: about 7, 15, 25 and 30 % of the symbol may be
// damaged and still read.
const (
	ECLow     ECLevel = 48
	ECMedium  ECLevel = 49
	ECQuart   ECLevel = 50
	ECHighest ECLevel = 51
)

// MaxQRData is the most bytes a model 2 QR code holds (version 40, level L,
// byte mode is 2,953; GS ( k accepts up to 7,089 for numeric data).
const MaxQRData = 2953

// RasterBandBytes is the default size of one GS v 0 band: big images are
// sent as several bands so that no single command overruns a small receive
// buffer, and so a cancelled job can stop at the end of a band.
const RasterBandBytes = 4096

// Encoder writes ESC/POS to w. Like bufio.Writer it keeps the first error,
// after which every call does nothing; check Err when done.
type Encoder struct {
	w   io.Writer
	cp  CodePage
	err error
	n   int64
	// lazy: mode commands wait until something prints (see SetLazy);
	// have is what the printer was last told, want what the next printing
	// command needs.
	lazy       bool
	have, want modes
}

// modes are the print modes the lazy encoder tracks. Their zero value is
// the printer's state after ESC @.
type modes struct {
	align     Align
	bold      bool
	underline byte
	reverse   bool
	size      byte // GS ! n
}

// SetLazy makes the encoder hold alignment, emphasis, underline, reverse
// and size until text, an image or a QR code prints, and then send only
// those that differ from what the printer was last told: "bold off, bold
// on" between two bold lines, or "left, centre" between two centred ones,
// cost bytes on a slow serial line and change nothing on paper. Init
// resets the tracked state (ESC @ resets the printer's). Modes still
// pending at the end of a job are never sent.
func (e *Encoder) SetLazy(on bool) { e.lazy = on }

// syncAlign sends a pending alignment, the one mode an image or a QR
// code obeys (emphasis, underline, reverse and size apply to characters).
func (e *Encoder) syncAlign() {
	if !e.lazy || e.have.align == e.want.align {
		return
	}
	e.Raw(ESC, 'a', byte(e.want.align))
	e.have.align = e.want.align
}

// sync sends the pending mode commands that differ from the printer's.
func (e *Encoder) sync() {
	if !e.lazy || e.have == e.want {
		return
	}
	w, h := e.want, e.have
	if w.align != h.align {
		e.Raw(ESC, 'a', byte(w.align))
	}
	if w.bold != h.bold {
		e.Raw(ESC, 'E', bit(w.bold))
	}
	if w.underline != h.underline {
		e.Raw(ESC, '-', w.underline)
	}
	if w.reverse != h.reverse {
		e.Raw(GS, 'B', bit(w.reverse))
	}
	if w.size != h.size {
		e.Raw(GS, '!', w.size)
	}
	e.have = e.want
}

// NewEncoder returns an encoder writing text in code page cp. Call Init to
// reset the printer and select cp on it.
func NewEncoder(w io.Writer, cp CodePage) *Encoder {
	return &Encoder{w: w, cp: cp}
}

// Err returns the first write or argument error.
func (e *Encoder) Err() error { return e.err }

// Written is the number of bytes written so far.
func (e *Encoder) Written() int64 { return e.n }

// CodePage is the page text is encoded in.
func (e *Encoder) CodePage() CodePage { return e.cp }

func (e *Encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Raw writes bytes unchanged.
func (e *Encoder) Raw(b ...byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(b)
	e.n += int64(n)
	if err != nil {
		e.fail(fmt.Errorf("escpos: write: %w", err))
	}
}

func bit(on bool) byte {
	if on {
		return 1
	}
	return 0
}

// Init resets the printer (ESC @: modes, alignment and line buffer) and
// selects the encoder's code page.
func (e *Encoder) Init() {
	e.have, e.want = modes{}, modes{}
	e.Raw(ESC, '@')
	e.Raw(ESC, 't', e.cp.Number)
}

// SelectCodePage switches the printer and the encoder to cp (ESC t n).
func (e *Encoder) SelectCodePage(cp CodePage) {
	e.cp = cp
	e.Raw(ESC, 't', cp.Number)
}

// Text writes s in the current code page, folding what the page lacks to
// ASCII. Control characters in s become spaces: text never carries commands.
func (e *Encoder) Text(s string) {
	if s == "" {
		return
	}
	e.sync()
	e.Raw(e.cp.Encode(s)...)
}

// Line writes s and a line feed, which prints the line.
func (e *Encoder) Line(s string) {
	e.Text(s)
	e.Raw(LF)
}

// AbsPos moves the print position to dots from the start of the line
// (ESC $ nL nH), for the text that follows on this line.
func (e *Encoder) AbsPos(dots int) {
	if dots < 0 || dots > 0xFFFF {
		e.fail(fmt.Errorf("escpos: position %d dots", dots))
		return
	}
	e.Raw(ESC, '$', byte(dots), byte(dots>>8))
}

// LF prints the line buffer and feeds one line.
func (e *Encoder) LF() { e.Raw(LF) }

// Bold turns emphasis on or off (ESC E n).
func (e *Encoder) Bold(on bool) {
	if e.lazy {
		e.want.bold = on
		return
	}
	e.Raw(ESC, 'E', bit(on))
}

// Underline sets underlining: 0 off, 1 thin, 2 thick (ESC - n).
func (e *Encoder) Underline(n int) {
	if n < 0 || n > 2 {
		e.fail(fmt.Errorf("escpos: underline %d: want 0, 1 or 2", n))
		return
	}
	if e.lazy {
		e.want.underline = byte(n)
		return
	}
	e.Raw(ESC, '-', byte(n))
}

// Reverse turns white-on-black printing on or off (GS B n).
func (e *Encoder) Reverse(on bool) {
	if e.lazy {
		e.want.reverse = on
		return
	}
	e.Raw(GS, 'B', bit(on))
}

// Size sets the character magnification, 1–8 in each direction (GS ! n).
func (e *Encoder) Size(width, height int) {
	if width < 1 || width > 8 || height < 1 || height > 8 {
		e.fail(fmt.Errorf("escpos: character size %d×%d: want 1–8", width, height))
		return
	}
	n := byte(width-1)<<4 | byte(height-1)
	if e.lazy {
		e.want.size = n
		return
	}
	e.Raw(GS, '!', n)
}

// Align sets the justification of the lines and images that follow (ESC a
// n); it takes effect at the start of a line.
func (e *Encoder) Align(a Align) {
	if a > Right {
		e.fail(fmt.Errorf("escpos: alignment %d", a))
		return
	}
	if e.lazy {
		e.want.align = a
		return
	}
	e.Raw(ESC, 'a', byte(a))
}

// LineSpacing sets the line feed to n dots (ESC 3 n); a line taller than
// that (large characters) still feeds its own height.
func (e *Encoder) LineSpacing(n int) {
	if n < 0 || n > 255 {
		e.fail(fmt.Errorf("escpos: line spacing %d dots: want 0–255", n))
		return
	}
	e.Raw(ESC, '3', byte(n))
}

// DefaultLineSpacing restores the 1/6-inch line feed (ESC 2).
func (e *Encoder) DefaultLineSpacing() { e.Raw(ESC, '2') }

// Feed prints the line buffer and feeds n lines (ESC d n), n ≤ 255.
func (e *Encoder) Feed(n int) {
	if n < 0 || n > 255 {
		e.fail(fmt.Errorf("escpos: feed %d lines: want 0–255", n))
		return
	}
	e.Raw(ESC, 'd', byte(n))
}

// FeedDots prints the line buffer and feeds n dots (ESC J n).
func (e *Encoder) FeedDots(n int) {
	if n < 0 || n > 255 {
		e.fail(fmt.Errorf("escpos: feed %d dots: want 0–255", n))
		return
	}
	e.Raw(ESC, 'J', byte(n))
}

// Cut feeds n lines' worth of paper past the cutter and cuts: GS V 65 n
// (full) or GS V 66 n (partial, leaving a hinge). n = 0 cuts at once.
func (e *Encoder) Cut(partial bool, feed int) {
	if feed < 0 || feed > 255 {
		e.fail(fmt.Errorf("escpos: cut feed %d: want 0–255", feed))
		return
	}
	m := byte(65)
	if partial {
		m = 66
	}
	e.Raw(GS, 'V', m, byte(feed))
}

// KickDrawer pulses the cash-drawer connector: pin 0 (connector pin 2) or
// 1 (pin 5), on and off times in milliseconds (rounded to 2 ms, at most 510).
func (e *Encoder) KickDrawer(pin, onMS, offMS int) {
	if pin != 0 && pin != 1 || onMS < 2 || onMS > 510 || offMS < 2 || offMS > 510 {
		e.fail(fmt.Errorf("escpos: drawer kick pin %d %d/%d ms", pin, onMS, offMS))
		return
	}
	e.Raw(ESC, 'p', byte(pin), byte(onMS/2), byte(offMS/2))
}

// NativeQR prints a QR code with the printer's own encoder (GS ( k, model
// 2): module size in dots (1–16), error correction, store, print. The
// symbol follows the current alignment. Only for printers whose profile has
// native QR.
func (e *Encoder) NativeQR(data string, module int, ec ECLevel) {
	switch {
	case module < 1 || module > 16:
		e.fail(fmt.Errorf("escpos: QR module %d dots: want 1–16", module))
		return
	case ec < ECLow || ec > ECHighest:
		e.fail(fmt.Errorf("escpos: QR error correction %d", ec))
		return
	case len(data) == 0:
		e.fail(errors.New("escpos: QR data is empty"))
		return
	case len(data) > MaxQRData:
		e.fail(fmt.Errorf("escpos: QR data is %d bytes: at most %d", len(data), MaxQRData))
		return
	}
	e.syncAlign()
	e.Raw(GS, '(', 'k', 4, 0, 49, 65, 50, 0) // model 2
	e.Raw(GS, '(', 'k', 3, 0, 49, 67, byte(module))
	e.Raw(GS, '(', 'k', 3, 0, 49, 69, byte(ec))
	n := len(data) + 3
	e.Raw(GS, '(', 'k', byte(n), byte(n>>8), 49, 80, 48)
	e.Raw([]byte(data)...)
	e.Raw(GS, '(', 'k', 3, 0, 49, 81, 48)
}

// Raster prints b with GS v 0 in bands of at most bandBytes bytes (0 means
// RasterBandBytes). The line buffer must be empty: call after a line feed.
// The image follows the current alignment.
func (e *Encoder) Raster(b *Bitmap, bandBytes int) { e.RasterScaled(b, 1, bandBytes) }

// RasterScaled prints b magnified by scale 1 or 2 in both directions (GS
// v 0 mode 0 or 3), which sends a quarter of the bytes for images made of
// 2×2 blocks, such as QR codes with even module sizes. Some clones ignore
// the mode, so only profiles known to honour it should use scale 2.
func (e *Encoder) RasterScaled(b *Bitmap, scale, bandBytes int) {
	if b == nil || b.Width == 0 || b.Height == 0 {
		return
	}
	if bandBytes <= 0 {
		bandBytes = RasterBandBytes
	}
	if b.Stride > 0xFFFF || b.Height > 0xFFFF {
		e.fail(fmt.Errorf("escpos: image %d×%d is too large", b.Width, b.Height))
		return
	}
	var m byte
	switch scale {
	case 1:
	case 2:
		m = 3
	default:
		e.fail(fmt.Errorf("escpos: raster scale %d: want 1 or 2", scale))
		return
	}
	e.syncAlign()
	rows := max(1, bandBytes/b.Stride)
	for y := 0; y < b.Height; y += rows {
		h := min(rows, b.Height-y)
		e.Raw(GS, 'v', '0', m, byte(b.Stride), byte(b.Stride>>8), byte(h), byte(h>>8))
		e.Raw(b.Bits[y*b.Stride : (y+h)*b.Stride]...)
	}
}

// BitImageLines prints b as ESC * 8-dot double-density lines (m = 1):
// each line carries 8 rows of b, and the printer draws every bit 3 dots
// tall and 1 dot wide (8-dot modes print at a third of the vertical
// density), so each column is repeated xRepeat times: with xRepeat 3 a
// pixel of b is a 3×3-dot square, for a third of the bytes GS v 0 needs.
// Line spacing is 24 dots while the lines print, so they abut; the
// default spacing (ESC 2) is restored after. The line buffer must be
// empty; the image follows the current alignment.
func (e *Encoder) BitImageLines(b *Bitmap, xRepeat int) {
	if b == nil || b.Width == 0 || b.Height == 0 {
		return
	}
	n := b.Width * xRepeat
	if xRepeat < 1 || n > 0xFFFF {
		e.fail(fmt.Errorf("escpos: bit image %d×%d repeated %d", b.Width, b.Height, xRepeat))
		return
	}
	e.syncAlign()
	e.LineSpacing(24)
	col := make([]byte, 0, n)
	for y := 0; y < b.Height; y += 8 {
		col = col[:0]
		for x := 0; x < b.Width; x++ {
			var c byte
			for r := 0; r < 8 && y+r < b.Height; r++ {
				if b.At(x, y+r) {
					c |= 0x80 >> r
				}
			}
			for range xRepeat {
				col = append(col, c)
			}
		}
		e.Raw(ESC, '*', 1, byte(n), byte(n>>8))
		e.Raw(col...)
		e.LF()
	}
	e.DefaultLineSpacing()
}
