// Package emulator is a virtual ESC/POS thermal printer: it consumes a
// byte stream the way a printer does, renders each job (everything up to a
// cut) to a 1-bit image the width of the paper, answers real-time status
// queries (DLE EOT n) as soon as they arrive and GS r 1 in order, and can be
// told that its paper ran out or its cover is open, when it reports so and
// prints nothing.
//
// Commands it does not know are counted and skipped, truncated or
// oversized ones are reported as malformed; no input makes it panic.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lango-pos/lango/printer/escpos"
	"github.com/skip2/go-qrcode"
)

// Page is one rendered job.
type Page struct {
	Seq   int // 1 for the emulator's first job
	Image *image.Paletted
}

// Sink receives each rendered job; DirSink writes them as PNG files.
type Sink func(Page) error

// Config describes the emulated printer.
type Config struct {
	// WidthDots is the printable width: 384 (58 mm), 512 or 576 (80 mm).
	WidthDots int
	// MarginDots of blank paper are drawn left and right of the printable
	// width, so that pictures show the paper as it comes out (and the
	// quiet zone the paper margin gives a QR code).
	MarginDots int
	// Sink receives the jobs; nil keeps only the count.
	Sink Sink
	// Logger gets unknown and malformed commands at debug and warn level.
	Logger *slog.Logger

	// A slow mechanism, for Serve: the receive buffer in bytes and the rate
	// at which the printer takes bytes from it. Zero rate: instant.
	BufferBytes    int
	BytesPerSecond int
	// XonXoff makes the printer send XOFF when its buffer is three quarters
	// full and XON when it has drained to a quarter.
	XonXoff bool

	// Identity is what the printer answers to GS I and to the native QR
	// probe; the zero value answers nothing, as many clones do.
	Identity Identity
}

// Identity is a printer's answers to GS I n and whether it draws QR codes
// itself (then it answers GS ( k fn 82, "transmit the size of the stored
// symbol", which `lango printer detect` uses as the native QR probe).
type Identity struct {
	ModelID  byte   // GS I 1; 0: no answer
	TypeID   byte   // GS I 2; 0: no answer
	Firmware string // GS I 65
	Maker    string // GS I 66
	Model    string // GS I 67
	NativeQR bool
}

// Stats counts what the emulator saw.
type Stats struct {
	Bytes         int64          `json:"bytes"`
	Commands      int            `json:"commands"`
	Jobs          int            `json:"jobs"`
	Dropped       int            `json:"dropped"` // jobs not printed: paper out, cover open
	StatusQueries int            `json:"status_queries"`
	DrawerKicks   int            `json:"drawer_kicks"`
	Overrun       int64          `json:"overrun"` // bytes lost to a full receive buffer
	Cleared       int            `json:"cleared"` // DLE DC4 8: buffers cleared
	Unknown       map[string]int `json:"unknown,omitempty"`
	Unrendered    map[string]int `json:"unrendered,omitempty"` // understood, not drawn (barcodes, NV images)
	Malformed     []string       `json:"malformed,omitempty"`
}

const maxMalformed = 100

// Emulator is one virtual printer. Its methods are safe for concurrent use.
type Emulator struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	state   escpos.Status
	pending []byte // bytes of an incomplete command
	skip    int64  // bytes still to discard of an oversized command
	rt      rtScan
	mode    mode
	line    line
	paper   paper
	lost    bool // the current job hit paper out or an open cover
	glyphs  *glyphs
	qr      qrState
	graph   *graphic // GS 8 L / GS ( L print buffer graphic
	kanji   int      // first byte of a pending two-byte character, or -1
	stats   Stats
	seq     int
	replies []byte
}

type qrState struct {
	module int
	ec     escpos.ECLevel
	data   []byte
}

type graphic struct {
	w, h, sx, sy int
	stride       int
	data         []byte
}

// New returns an emulator with paper loaded and the cover closed.
func New(cfg Config) (*Emulator, error) {
	if cfg.WidthDots < 64 || cfg.WidthDots > 4096 || cfg.MarginDots < 0 || cfg.MarginDots > 512 {
		return nil, fmt.Errorf("emulator: paper width %d dots, margins %d", cfg.WidthDots, cfg.MarginDots)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BufferBytes <= 0 {
		cfg.BufferBytes = 4096
	}
	g, err := newGlyphs()
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	e := &Emulator{cfg: cfg, log: cfg.Logger, glyphs: g, kanji: -1}
	e.state = escpos.Status{Reachable: true}
	e.reset()
	e.paper = paper{width: cfg.WidthDots}
	e.stats.Unknown = map[string]int{}
	e.stats.Unrendered = map[string]int{}
	return e, nil
}

func (e *Emulator) reset() {
	e.mode = defaultMode(e.cfg.WidthDots)
	e.line = line{}
	e.qr = qrState{module: 3, ec: escpos.ECLow}
	e.kanji = -1
}

// ready reports whether the mechanism can print; callers hold mu.
func (e *Emulator) ready() bool { return e.state.Ready() }

// SetPaperOut runs the paper out (true) or reloads it (false).
func (e *Emulator) SetPaperOut(out bool) { e.set(func(s *escpos.Status) { s.PaperOut = out }) }

// SetPaperNearEnd sets the near-end sensor: the printer still prints.
func (e *Emulator) SetPaperNearEnd(on bool) { e.set(func(s *escpos.Status) { s.PaperNearEnd = on }) }

// SetCoverOpen opens or closes the cover.
func (e *Emulator) SetCoverOpen(open bool) { e.set(func(s *escpos.Status) { s.CoverOpen = open }) }

// SetOffline takes the printer offline or back online.
func (e *Emulator) SetOffline(off bool) { e.set(func(s *escpos.Status) { s.Offline = off }) }

func (e *Emulator) set(f func(*escpos.Status)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.state)
	e.log.Info("printer emulator state", "status", e.state.String())
}

// Status is what the emulator would report to DLE EOT.
func (e *Emulator) Status() escpos.Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

// Stats returns a copy of the counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Unknown = cloneMap(s.Unknown)
	s.Unrendered = cloneMap(s.Unrendered)
	s.Malformed = append([]string(nil), s.Malformed...)
	return s
}

func cloneMap(m map[string]int) map[string]int {
	o := make(map[string]int, len(m))
	for k, v := range m {
		o[k] = v
	}
	return o
}

// Control applies one operator command, as typed on the emulator's
// standard input: "paper out", "paper in", "paper low", "cover open",
// "cover closed", "offline", "online", "status". It returns a line to show.
func (e *Emulator) Control(cmd string) (string, error) {
	switch strings.Join(strings.Fields(strings.ToLower(cmd)), " ") {
	case "paper out", "paper-out", "paperout":
		e.SetPaperOut(true)
	case "paper in", "paper-in", "paper ok", "paper":
		e.set(func(s *escpos.Status) { s.PaperOut, s.PaperNearEnd = false, false })
	case "paper low", "paper near end", "near end":
		e.SetPaperNearEnd(true)
	case "cover open", "open":
		e.SetCoverOpen(true)
	case "cover closed", "cover close", "close":
		e.SetCoverOpen(false)
	case "offline":
		e.SetOffline(true)
	case "online":
		e.SetOffline(false)
	case "status", "":
	default:
		return "", fmt.Errorf("unknown emulator command %q: use paper out, paper in, paper low, cover open, cover closed, offline, online or status", cmd)
	}
	st := e.Stats()
	return fmt.Sprintf("status: %s; jobs printed %d, not printed %d", e.Status(), st.Jobs, st.Dropped), nil
}

// Feed takes bytes as they arrive on the printer's input: real-time
// commands are answered at once, the rest is processed in order. It returns
// the bytes the printer sends back.
func (e *Emulator) Feed(p []byte) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.receive(p)
	err := e.process(p)
	out := e.replies
	e.replies = nil
	return out, err
}

// Flush ends the stream so far: a command cut short is reported as
// malformed and anything printed since the last cut becomes a job. The
// emulator stays usable.
func (e *Emulator) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.pending) > 0 {
		op := escpos.MakeOp(e.pending[0], at(e.pending, 1), 0)
		e.malformed("stream ends inside %s (%d bytes)", op, len(e.pending))
		e.pending = nil
	}
	if e.skip > 0 {
		e.malformed("stream ends %d bytes short of an oversized command", e.skip)
		e.skip = 0
	}
	e.flushLine()
	return e.finishJob()
}

func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// rtScan finds DLE EOT n in the raw input, wherever it is, as a printer's
// receive interrupt does.
type rtScan struct{ state int }

func (e *Emulator) receive(p []byte) {
	for _, b := range p {
		switch e.rt.state {
		case 0:
			if b == escpos.DLE {
				e.rt.state = 1
			}
		case 1:
			switch b {
			case 0x04:
				e.rt.state = 2
			case escpos.DLE:
				e.rt.state = 1
			default:
				e.rt.state = 0
			}
		case 2:
			e.rt.state = 0
			if r, ok := escpos.StatusReply(e.state, b); ok {
				e.stats.StatusQueries++
				e.replies = append(e.replies, r)
			}
		}
	}
}

// process runs the non-real-time interpretation of p.
func (e *Emulator) process(p []byte) error {
	e.stats.Bytes += int64(len(p))
	// DLE DC4 8 (clear buffers) acts in real time, even inside a command:
	// drop the unfinished command and the unprinted line, keep what follows.
	all := append(append([]byte(nil), e.pending...), p...)
	if i := bytes.LastIndex(all, escpos.ClearBuffers()); i >= 0 {
		e.stats.Cleared++
		e.pending, e.skip = nil, 0
		e.clearBuffers()
		p = all[i+len(escpos.ClearBuffers()):]
	}
	if e.skip > 0 {
		n := min(e.skip, int64(len(p)))
		e.skip -= n
		p = p[n:]
	}
	buf := p
	if len(e.pending) > 0 {
		e.pending = append(e.pending, p...)
		buf = e.pending
	}
	var firstErr error
	for len(buf) > 0 {
		c, err := escpos.Next(buf)
		if errors.Is(err, escpos.ErrShort) {
			break
		}
		var tl *escpos.TooLarge
		if errors.As(err, &tl) {
			e.malformed("%v", tl)
			skip := tl.Declared
			n := min(skip, int64(len(buf)))
			buf = buf[n:]
			e.skip = skip - n
			continue
		}
		e.stats.Commands++
		if err := e.exec(c); err != nil && firstErr == nil {
			firstErr = err
		}
		buf = buf[len(c.Raw):]
	}
	// Keep the incomplete tail; copy (memmove) handles the overlap when
	// buf is the end of pending itself.
	e.pending = append(e.pending[:0], buf...)
	return firstErr
}

func (e *Emulator) malformed(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.log.Warn("printer emulator: malformed command", "detail", msg)
	if len(e.stats.Malformed) < maxMalformed {
		e.stats.Malformed = append(e.stats.Malformed, msg)
	}
}

func (e *Emulator) unrendered(op escpos.Op) {
	e.stats.Unrendered[op.String()]++
}

// exec interprets one command; the error is the sink's.
func (e *Emulator) exec(c escpos.Command) error {
	if !c.Known {
		name := c.Op.String()
		if c.Op == escpos.OpControl {
			name = fmt.Sprintf("0x%02X", c.Raw[0])
		}
		e.stats.Unknown[name]++
		e.log.Debug("printer emulator: unknown command", "op", name)
		return nil
	}
	a := c.Args
	switch c.Op {
	case escpos.OpText:
		e.text(c.Raw)
	case escpos.OpControl:
		switch c.Raw[0] {
		case escpos.LF:
			e.printLine(0, true)
		case escpos.HT:
			e.tab()
		case escpos.FF:
			e.printLine(0, true)
		case escpos.CAN:
			e.line = line{}
		}
	case escpos.OpInit:
		e.flushLineDiscard()
		e.reset()
	case escpos.OpPrintMode:
		n := a[0]
		e.mode.fontB = n&0x01 != 0
		e.mode.bold = n&0x08 != 0
		e.mode.hMul, e.mode.wMul = 1, 1
		if n&0x10 != 0 {
			e.mode.hMul = 2
		}
		if n&0x20 != 0 {
			e.mode.wMul = 2
		}
		e.mode.underline = 0
		if n&0x80 != 0 {
			e.mode.underline = 1
		}
	case escpos.OpCharSpacing:
		e.mode.charSpacing = int(a[0])
	case escpos.OpAbsPos:
		e.setX(int(a[0]) | int(a[1])<<8)
	case escpos.OpRelPos:
		e.setX(e.line.x + int(int16(uint16(a[0])|uint16(a[1])<<8)))
	case escpos.OpUnderline:
		switch a[0] {
		case 0, '0':
			e.mode.underline = 0
		case 1, '1':
			e.mode.underline = 1
		case 2, '2':
			e.mode.underline = 2
		default:
			e.malformed("ESC - %d", a[0])
		}
	case escpos.OpLineSpacing6:
		e.mode.lineSpacing = defaultLineSpacing
	case escpos.OpLineSpacing:
		e.mode.lineSpacing = int(a[0])
	case escpos.OpTabs:
		e.mode.tabs = []int{}
		last := 0
		for _, t := range a {
			if t == 0 || int(t) <= last {
				break
			}
			e.mode.tabs = append(e.mode.tabs, int(t))
			last = int(t)
		}
	case escpos.OpBold, escpos.OpDoubleStrike:
		e.mode.bold = a[0]&1 != 0
	case escpos.OpFeedDots:
		e.printLine(int(a[0]), false)
	case escpos.OpFont:
		e.mode.fontB = a[0] == 1 || a[0] == '1'
	case escpos.OpAlign:
		switch a[0] {
		case 0, '0':
			e.mode.align = escpos.Left
		case 1, '1':
			e.mode.align = escpos.Center
		case 2, '2':
			e.mode.align = escpos.Right
		default:
			e.malformed("ESC a %d", a[0])
		}
	case escpos.OpFeedLines:
		e.printLine(int(a[0])*e.mode.lineSpacing, false)
	case escpos.OpDrawerKick:
		e.stats.DrawerKicks++
	case escpos.OpCodePage:
		if cp, ok := escpos.CodePageByNumber(a[0]); ok {
			e.mode.cp = cp
		} else {
			e.unrendered(escpos.MakeOp(escpos.ESC, 't', a[0]))
		}
	case escpos.OpUpsideDown:
		if a[0]&1 != 0 {
			e.unrendered(c.Op)
		}
	case escpos.OpCharSize:
		w, h := int(a[0]>>4)+1, int(a[0]&0x0F)+1
		if w > 8 || h > 8 {
			e.malformed("GS ! 0x%02X", a[0])
			break
		}
		e.mode.wMul, e.mode.hMul = w, h
	case escpos.OpReverse:
		e.mode.reverse = a[0]&1 != 0
	case escpos.OpLeftMargin:
		e.mode.leftMargin = int(a[0]) | int(a[1])<<8
	case escpos.OpAreaWidth:
		e.mode.areaWidth = int(a[0]) | int(a[1])<<8
		if e.mode.areaWidth == 0 {
			e.mode.areaWidth = e.cfg.WidthDots
		}
	case escpos.OpCut:
		return e.cut(a)
	case escpos.OpASB:
		// Automatic status back: Lango's hosts poll; nothing is sent.
	case escpos.OpPrinterID:
		e.printerID(a[0])
	case escpos.OpStatusGSr:
		switch a[0] {
		case 1, '1':
			e.replies = append(e.replies, escpos.SensorReply(e.state))
		case 2, '2':
			e.replies = append(e.replies, 0) // drawer: closed
		default:
			e.unrendered(c.Op)
		}
	case escpos.OpStatusEOT, escpos.OpRealtimeReq, escpos.OpRealtimeDC4:
		// Answered on receipt (receive).
	case escpos.OpKanjiOn:
		e.mode.kanji = true
	case escpos.OpKanjiOff:
		e.mode.kanji = false
	case escpos.OpRaster:
		e.raster(a)
	case escpos.OpBitImage:
		e.bitImage(a)
	case escpos.OpGraphics, escpos.OpGraphicsLong:
		e.graphics(c.Op, a)
	case escpos.OpSymbol:
		e.symbol(a)
	case escpos.MakeOp(escpos.FS, '(', 'A'), escpos.MakeOp(escpos.FS, 'S', 0), escpos.MakeOp(escpos.FS, '-', 0),
		escpos.MakeOp(escpos.FS, 'C', 0), escpos.MakeOp(escpos.FS, '!', 0), escpos.MakeOp(escpos.FS, 'W', 0),
		escpos.MakeOp(escpos.ESC, 'R', 0), escpos.MakeOp(escpos.ESC, '%', 0), escpos.MakeOp(escpos.ESC, 'c', '5'),
		escpos.MakeOp(escpos.ESC, 'c', '3'), escpos.MakeOp(escpos.ESC, 'c', '4'), escpos.MakeOp(escpos.GS, 'b', 0):
		// Kanji and panel settings, smoothing, international set: no effect
		// on what this emulator draws.
	default:
		e.unrendered(c.Op)
	}
	return nil
}

// flushLineDiscard empties the line buffer without printing, as ESC @ does.
func (e *Emulator) flushLineDiscard() { e.line = line{} }

func (e *Emulator) text(b []byte) {
	for _, c := range b {
		if e.mode.kanji && (e.kanji >= 0 || c >= 0x80) {
			if e.kanji < 0 {
				e.kanji = int(c)
				continue
			}
			e.kanji = -1
			// No Kanji font: a full-width box stands for the character.
			e.addChar('□')
			continue
		}
		e.addChar(e.mode.cp.Rune(c))
	}
}

func (e *Emulator) tab() {
	cw := e.mode.cell().w + e.mode.charSpacing
	col := e.line.x / max(cw, 1)
	stops := e.mode.tabs
	if stops == nil {
		for t := 8; t < 256; t += 8 {
			if t > col {
				e.setX(t * cw)
				return
			}
		}
		return
	}
	for _, t := range stops {
		if t > col {
			e.setX(t * cw)
			return
		}
	}
}

func (e *Emulator) cut(a []byte) error {
	e.flushLine()
	if len(a) == 2 { // GS V 65/66/97/98/103/104 n: feed n, then cut
		e.paper.advance(int(a[1]))
	}
	return e.finishJob()
}

// clearBuffers drops the line being built, as a printer clearing its
// buffers does. What was printed stays on the paper: the dots of the
// bands of an image cut off are already burnt, and a job that follows
// prints below them on the same slip.
func (e *Emulator) clearBuffers() {
	e.line = line{}
}

// finishJob renders the paper since the last cut as a job, unless nothing
// was printed on it.
func (e *Emulator) finishJob() error {
	defer func() { e.paper = paper{width: e.cfg.WidthDots}; e.lost = false }()
	if e.lost {
		e.stats.Dropped++
		e.log.Warn("printer emulator: job not printed", "status", e.state.String())
		return nil
	}
	if !e.paper.inked {
		return nil
	}
	e.seq++
	e.stats.Jobs++
	if e.cfg.Sink == nil {
		return nil
	}
	if err := e.cfg.Sink(Page{Seq: e.seq, Image: e.paper.image(e.cfg.MarginDots)}); err != nil {
		return fmt.Errorf("emulator: job %d: %w", e.seq, err)
	}
	return nil
}

// raster prints GS v 0 m xL xH yL yH d….
func (e *Emulator) raster(a []byte) {
	m := a[0]
	stride := int(a[1]) | int(a[2])<<8
	h := int(a[3]) | int(a[4])<<8
	data := a[5:]
	sx, sy := 1, 1
	switch m {
	case 0, '0':
	case 1, '1':
		sx = 2
	case 2, '2':
		sy = 2
	case 3, '3':
		sx, sy = 2, 2
	default:
		e.malformed("GS v 0 mode %d", m)
		return
	}
	e.printBitmap(stride*8, h, sx, sy, func(x, y int) bool {
		return data[y*stride+x/8]&(0x80>>(x%8)) != 0
	})
}

// bitImage puts an ESC * m nL nH column-format image in the line buffer.
func (e *Emulator) bitImage(a []byte) {
	m := a[0]
	n := int(a[1]) | int(a[2])<<8
	data := a[3:]
	var rows, bpc, sx, sy int
	switch m {
	case 0:
		rows, bpc, sx, sy = 8, 1, 2, 3
	case 1:
		rows, bpc, sx, sy = 8, 1, 1, 3
	case 32:
		rows, bpc, sx, sy = 24, 3, 2, 1
	case 33:
		rows, bpc, sx, sy = 24, 3, 1, 1
	default:
		e.malformed("ESC * mode %d", m)
		return
	}
	_, aw := e.area()
	w := min(n*sx, aw)
	h := rows * sy
	pix := make([]byte, w*h)
	for x := 0; x < w; x++ {
		col := x / sx
		for r := 0; r < rows; r++ {
			if data[col*bpc+r/8]&(0x80>>(r%8)) == 0 {
				continue
			}
			for dy := 0; dy < sy; dy++ {
				pix[(r*sy+dy)*w+x] = 1
			}
		}
	}
	e.addItem(item{w: w, h: h, pix: pix})
}

// graphics handles GS ( L and GS 8 L: store a raster graphic in the print
// buffer (fn 112) and print it (fn 50).
func (e *Emulator) graphics(op escpos.Op, a []byte) {
	if len(a) < 2 {
		e.malformed("%s without function", op)
		return
	}
	switch fn := a[1]; fn {
	case 2, 50: // print the buffered graphic
		g := e.graph
		e.graph = nil
		if g == nil {
			return
		}
		e.printBitmap(g.w, g.h, g.sx, g.sy, func(x, y int) bool {
			return g.data[y*g.stride+x/8]&(0x80>>(x%8)) != 0
		})
	case 112: // m fn a bx by c xL xH yL yH d…
		if len(a) < 10 {
			e.malformed("%s fn 112: %d parameter bytes", op, len(a))
			return
		}
		tone, bx, by, col := a[2], int(a[3]), int(a[4]), a[5]
		w := int(a[6]) | int(a[7])<<8
		h := int(a[8]) | int(a[9])<<8
		stride := (w + 7) / 8
		data := a[10:]
		switch {
		case tone != 48:
			e.unrendered(op) // multi-tone
			return
		case bx < 1 || bx > 2 || by < 1 || by > 2 || col < 49 || col > 52:
			e.malformed("%s fn 112: scale %d×%d colour %d", op, bx, by, col)
			return
		case len(data) != stride*h:
			e.malformed("%s fn 112: %d data bytes for %d×%d dots", op, len(data), w, h)
			return
		}
		if col == 49 || e.graph == nil || e.graph.w != w || e.graph.h != h {
			e.graph = &graphic{w: w, h: h, sx: bx, sy: by, stride: stride, data: append([]byte(nil), data...)}
		} else { // a second colour prints black too
			for i := range e.graph.data {
				e.graph.data[i] |= data[i]
			}
		}
	case 48, 49, 51, 52, 64, 65, 66, 67, 68, 69, 80, 81, 82, 83, 84, 85, 113:
		e.unrendered(op) // capacities, NV and download graphics, column format
	default:
		e.malformed("%s function %d", op, fn)
	}
}

// symbol handles GS ( k: the QR code functions of cn 49; other symbologies
// are understood and not drawn.
func (e *Emulator) symbol(a []byte) {
	if len(a) < 2 {
		e.malformed("GS ( k with %d parameter bytes", len(a))
		return
	}
	if a[0] != 49 {
		e.unrendered(escpos.MakeOp(escpos.GS, '(', 'k'))
		return
	}
	switch fn := a[1]; fn {
	case 65: // model: n1 n2
		if len(a) != 4 || (a[2] != 49 && a[2] != 50 && a[2] != 51) {
			e.malformed("GS ( k QR model % X", a[2:])
			return
		}
		if a[2] != 50 {
			e.unrendered(escpos.MakeOp(escpos.GS, '(', 'k')) // model 1 / micro QR drawn as model 2
		}
	case 67:
		if len(a) != 3 || a[2] < 1 || a[2] > 16 {
			e.malformed("GS ( k QR module size % X", a[2:])
			return
		}
		e.qr.module = int(a[2])
	case 69:
		if len(a) != 3 || a[2] < 48 || a[2] > 51 {
			e.malformed("GS ( k QR error correction % X", a[2:])
			return
		}
		e.qr.ec = escpos.ECLevel(a[2])
	case 80:
		if len(a) < 3 || a[2] != 48 {
			e.malformed("GS ( k QR store without m=48")
			return
		}
		e.qr.data = append(e.qr.data[:0], a[3:]...)
	case 81:
		if len(a) != 3 || a[2] != 48 {
			e.malformed("GS ( k QR print % X", a[2:])
			return
		}
		e.printQR()
	case 82: // transmit size information: the native QR probe
		if !e.cfg.Identity.NativeQR {
			e.unrendered(escpos.MakeOp(escpos.GS, '(', 'k'))
			return
		}
		e.replies = append(e.replies, escpos.QRSizeReply(e.qrSize())...)
	default:
		e.malformed("GS ( k QR function %d", fn)
	}
}

// printQR encodes the stored data as a real printer would (smallest
// version for the data and level) and prints it without a quiet zone: the
// paper around it is the quiet zone.
func (e *Emulator) printQR() {
	if len(e.qr.data) == 0 {
		return
	}
	q, err := qrcode.New(string(e.qr.data), escpos.QRLevel(e.qr.ec))
	if err != nil {
		e.log.Warn("printer emulator: QR not printed", "err", err)
		e.unrendered(escpos.MakeOp(escpos.GS, '(', 'k'))
		return
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := len(bm)
	m := e.qr.module
	e.printBitmap(n*m, n*m, 1, 1, func(x, y int) bool { return bm[y/m][x/m] })
}

// Serve runs the emulator on rw, a pseudo-terminal's device side or any
// byte stream, until ctx is done or rw ends. If rw has SetReadDeadline,
// cancelling ctx interrupts a blocked read.
func (e *Emulator) Serve(ctx context.Context, rw io.ReadWriter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d, ok := rw.(interface{ SetReadDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	var wmu sync.Mutex
	write := func(b []byte) error {
		if len(b) == 0 {
			return nil
		}
		wmu.Lock()
		defer wmu.Unlock()
		_, err := rw.Write(b)
		return err
	}
	q := &fifo{cap: e.cfg.BufferBytes}
	var wg sync.WaitGroup
	procErr := make(chan error, 1)
	if e.cfg.BytesPerSecond > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procErr <- e.drain(ctx, q, write)
		}()
	}
	defer wg.Wait()
	defer cancel()
	buf := make([]byte, 4096)
	for {
		n, err := rw.Read(buf)
		if n > 0 {
			if err := e.take(buf[:n], q, write); err != nil {
				return err
			}
		}
		if err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return e.endServe()
		case err := <-procErr:
			return err
		default:
		}
		switch {
		case errors.Is(err, io.EOF):
			return e.endServe()
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case errors.Is(err, syscall.EIO):
			// A pseudo-terminal's device side reads EIO while no program
			// has the terminal side open: wait for one.
			select {
			case <-ctx.Done():
				return e.endServe()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		return fmt.Errorf("emulator: read: %w", err)
	}
}

func (e *Emulator) endServe() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.flushLine()
	return e.finishJob()
}

// take handles bytes read from the line: real-time commands now; the rest
// processed now, or queued for the slow mechanism.
func (e *Emulator) take(p []byte, q *fifo, write func([]byte) error) error {
	e.mu.Lock()
	e.receive(p)
	var err error
	if e.cfg.BytesPerSecond <= 0 {
		err = e.process(p)
	}
	out := e.replies
	e.replies = nil
	e.mu.Unlock()
	if werr := write(out); werr != nil {
		return fmt.Errorf("emulator: write: %w", werr)
	}
	if err != nil || e.cfg.BytesPerSecond <= 0 {
		return err
	}
	lost, xoff := q.put(p, e.cfg.XonXoff)
	if lost > 0 {
		e.mu.Lock()
		e.stats.Overrun += int64(lost)
		e.mu.Unlock()
		e.log.Warn("printer emulator: receive buffer overrun", "lost", lost)
	}
	if xoff {
		return write([]byte{escpos.XOF})
	}
	return nil
}

// drain feeds queued bytes to the mechanism at BytesPerSecond.
func (e *Emulator) drain(ctx context.Context, q *fifo, write func([]byte) error) error {
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	per := max(1, e.cfg.BytesPerSecond/100)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		chunk, xon := q.get(per, e.cfg.XonXoff)
		if len(chunk) > 0 {
			e.mu.Lock()
			err := e.process(chunk)
			out := e.replies
			e.replies = nil
			e.mu.Unlock()
			if err != nil {
				return err
			}
			if err := write(out); err != nil {
				return fmt.Errorf("emulator: write: %w", err)
			}
		}
		if xon {
			if err := write([]byte{escpos.XON}); err != nil {
				return fmt.Errorf("emulator: write: %w", err)
			}
		}
	}
}

// fifo is the printer's receive buffer.
type fifo struct {
	mu   sync.Mutex
	buf  []byte
	cap  int
	xoff bool
}

// put appends p, returning the bytes that did not fit and whether XOFF must
// be sent now.
func (f *fifo) put(p []byte, xonxoff bool) (lost int, sendXoff bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	room := f.cap - len(f.buf)
	if len(p) > room {
		lost = len(p) - max(room, 0)
		p = p[:max(room, 0)]
	}
	f.buf = append(f.buf, p...)
	if xonxoff && !f.xoff && len(f.buf) >= f.cap*3/4 {
		f.xoff = true
		sendXoff = true
	}
	return lost, sendXoff
}

// get takes up to n bytes, returning whether XON must be sent now.
func (f *fifo) get(n int, xonxoff bool) (chunk []byte, sendXon bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n = min(n, len(f.buf))
	chunk = append([]byte(nil), f.buf[:n]...)
	f.buf = append(f.buf[:0], f.buf[n:]...)
	if xonxoff && f.xoff && len(f.buf) <= f.cap/4 {
		f.xoff = false
		sendXon = true
	}
	return chunk, sendXon
}

// Render runs a whole stream through a fresh emulator configured as cfg
// (whose Sink it replaces) and returns its jobs and counters: for tests,
// golden files and tools.
func Render(stream []byte, cfg Config) ([]*image.Paletted, Stats, error) {
	var pages []*image.Paletted
	cfg.Sink = func(p Page) error {
		pages = append(pages, p.Image)
		return nil
	}
	e, err := New(cfg)
	if err != nil {
		return nil, Stats{}, err
	}
	if _, err := e.Feed(stream); err != nil {
		return nil, Stats{}, err
	}
	if err := e.Flush(); err != nil {
		return nil, Stats{}, err
	}
	return pages, e.Stats(), nil
}

// Clean reports whether s shows nothing unknown or malformed.
func (s Stats) Clean() bool { return len(s.Unknown) == 0 && len(s.Malformed) == 0 }

// Problems lists unknown and malformed commands, sorted, for messages.
func (s Stats) Problems() []string {
	var out []string
	for k, v := range s.Unknown {
		out = append(out, fmt.Sprintf("unknown %s ×%d", k, v))
	}
	sort.Strings(out)
	return append(out, s.Malformed...)
}

// printerID answers GS I n from the configured identity; what is not set
// gets no answer.
func (e *Emulator) printerID(n byte) {
	id := e.cfg.Identity
	one := func(b byte) {
		if b != 0 {
			e.replies = append(e.replies, b)
		}
	}
	info := func(s string) {
		if s != "" {
			e.replies = append(e.replies, escpos.InfoReply(s)...)
		}
	}
	switch n {
	case 1, '1':
		one(id.ModelID)
	case 2, '2':
		one(id.TypeID)
	case escpos.IDFirmware:
		info(id.Firmware)
	case escpos.IDMaker:
		info(id.Maker)
	case escpos.IDName:
		info(id.Model)
	}
}

// qrSize is the side in dots of the stored QR symbol (0 when none).
func (e *Emulator) qrSize() int {
	if len(e.qr.data) == 0 {
		return 0
	}
	n, err := escpos.QRModules(string(e.qr.data), e.qr.ec)
	if err != nil {
		return 0
	}
	return n * e.qr.module
}
