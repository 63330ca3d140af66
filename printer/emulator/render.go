package emulator

import (
	"image"
	"image/color"

	"github.com/lango-pos/lango/printer/escpos"
)

// maxPaperRows bounds one job's length (32,768 dots: 4 m at 203 dpi), so a
// stream of feeds cannot exhaust memory; rows past it are not kept.
const maxPaperRows = 1 << 15

// defaultLineSpacing is the 1/6-inch default of ESC 2 in dots (Epson TM
// printers use 30 dots, 3.75 mm).
const defaultLineSpacing = 30

// paper is the printed length of the current job: width×rows dots, 1 black.
type paper struct {
	width int
	dots  []byte // allocated rows × width
	rows  int    // allocated rows
	used  int    // rows drawn on: the last drawn row + 1
	y     int    // print position: the row the next line starts at
	inked bool   // whether any dot or text was printed
}

func (p *paper) grow(to int) {
	to = min(to, maxPaperRows)
	if to <= p.rows {
		return
	}
	p.dots = append(p.dots, make([]byte, (to-p.rows)*p.width)...)
	p.rows = to
}

func (p *paper) set(x, y int) {
	if x < 0 || x >= p.width || y < 0 || y >= maxPaperRows {
		return
	}
	if y >= p.rows {
		p.grow(y + 64)
	}
	p.used = max(p.used, y+1)
	p.dots[y*p.width+x] = 1
	p.inked = true
}

// row returns row y of the paper to draw into, or nil past the end.
func (p *paper) row(y int) []byte {
	if y < 0 || y >= maxPaperRows {
		return nil
	}
	if y >= p.rows {
		p.grow(y + 64)
	}
	p.used = max(p.used, y+1)
	return p.dots[y*p.width : (y+1)*p.width]
}

func (p *paper) advance(n int) {
	if n > 0 {
		p.y = min(p.y+n, maxPaperRows)
	}
}

// image returns the job as a 1-bit image as long as the paper used, with
// margin blank dots left and right.
func (p *paper) image(margin int) *image.Paletted {
	h := max(p.y, p.used, 1)
	img := image.NewPaletted(image.Rect(0, 0, p.width+2*margin, h), color.Palette{color.White, color.Black})
	for y := 0; y < min(h, p.rows); y++ {
		copy(img.Pix[y*img.Stride+margin:], p.dots[y*p.width:(y+1)*p.width])
	}
	return img
}

// item is something placed in the line buffer, w×h dots, bottom-aligned
// on the line: a character cell (g in the style fields) or an ESC * image
// (pix, 1 = black).
type item struct {
	x, w, h int
	pix     []byte

	g         *glyph
	wm, hm    int
	underline int
	reverse   bool
}

// line is the line buffer: what prints at the next LF, feed, or overflow.
type line struct {
	items []item
	x     int          // next position, dots from the print area's left edge
	align escpos.Align // latched when the first item arrives
	used  bool         // an item or a position command since the last print
}

// mode is the state ESC @ resets.
type mode struct {
	fontB       bool
	bold        bool
	underline   int
	reverse     bool
	wMul, hMul  int
	align       escpos.Align
	cp          escpos.CodePage
	lineSpacing int
	charSpacing int
	leftMargin  int
	areaWidth   int
	kanji       bool
	tabs        []int // in character columns
}

func defaultMode(width int) mode {
	return mode{wMul: 1, hMul: 1, cp: escpos.CP437, lineSpacing: defaultLineSpacing, areaWidth: width}
}

func (m *mode) cell() cellFont {
	if m.fontB {
		return fontB
	}
	return fontA
}

// area returns the print area: its left edge and width in dots.
func (e *Emulator) area() (left, width int) {
	left = min(e.mode.leftMargin, e.cfg.WidthDots-1)
	width = min(e.mode.areaWidth, e.cfg.WidthDots-left)
	return left, max(width, 1)
}

// addItem places it at the line's current position, printing the line first
// when it would not fit, as a printer wraps.
func (e *Emulator) addItem(it item) {
	_, aw := e.area()
	if e.line.x > 0 && e.line.x+it.w > aw {
		e.printLine(0, true)
	}
	if len(e.line.items) == 0 && !e.line.used {
		e.line.align = e.mode.align
	}
	it.x = e.line.x
	e.line.items = append(e.line.items, it)
	e.line.x += it.w
	e.line.used = true
}

// addChar puts r in the current style into the line buffer.
func (e *Emulator) addChar(r rune) {
	cf := e.mode.cell()
	g := e.glyphs.get(r, e.mode.fontB, e.mode.bold)
	wm, hm := e.mode.wMul, e.mode.hMul
	_, aw := e.area()
	cw := min((cf.w+e.mode.charSpacing)*wm, aw)
	e.addItem(item{w: cw, h: cf.h * hm, g: g, wm: wm, hm: hm, underline: e.mode.underline, reverse: e.mode.reverse})
}

// setX moves the line position to x dots of blank paper (HT, ESC $, ESC \\).
func (e *Emulator) setX(x int) {
	_, aw := e.area()
	if x < 0 || x > aw {
		return
	}
	if len(e.line.items) == 0 && !e.line.used {
		e.line.align = e.mode.align
	}
	e.line.x = x
	e.line.used = true
}

// printLine prints the line buffer and feeds: at least the line's height,
// and at least feed dots; lineFeed adds the line spacing rule of LF.
func (e *Emulator) printLine(feed int, lineFeed bool) {
	h := 0
	for _, it := range e.line.items {
		h = max(h, it.h)
	}
	adv := feed
	if lineFeed {
		adv = max(adv, e.mode.lineSpacing)
	}
	adv = max(adv, h)
	if len(e.line.items) > 0 {
		if !e.ready() {
			e.lost = true
		} else {
			left, aw := e.area()
			off := left
			switch e.line.align {
			case escpos.Center:
				off += max(0, (aw-e.line.x)/2)
			case escpos.Right:
				off += max(0, aw-e.line.x)
			}
			for i := range e.line.items {
				it := &e.line.items[i]
				e.drawItem(it, off+it.x, e.paper.y+h-it.h)
			}
			e.paper.inked = true
		}
	}
	e.paper.advance(adv)
	e.line = line{}
}

// drawItem draws it with its top left corner at (x0, y0).
func (e *Emulator) drawItem(it *item, x0, y0 int) {
	w := min(it.w, e.cfg.WidthDots-x0)
	if w <= 0 {
		return
	}
	for y := 0; y < it.h; y++ {
		row := e.paper.row(y0 + y)
		if row == nil {
			return
		}
		row = row[x0 : x0+w]
		if it.g == nil {
			src := it.pix[y*it.w : y*it.w+w]
			for x, v := range src {
				row[x] |= v
			}
			continue
		}
		gy := y / it.hm
		ul := it.underline > 0 && y >= it.h-it.underline*it.hm
		var grow []byte
		if gy < it.g.h {
			grow = it.g.pix[gy*it.g.w : (gy+1)*it.g.w]
		}
		for x := range row {
			gx := x / it.wm
			on := ul || (gx < len(grow) && grow[gx] == 1)
			if on != it.reverse {
				row[x] = 1
			}
		}
	}
}

// flushLine prints a non-empty line buffer before an image or a cut, as a
// printer does.
func (e *Emulator) flushLine() {
	if len(e.line.items) > 0 {
		e.printLine(0, false)
	}
	e.line = line{}
}

// printBitmap prints a w×h image at the current alignment; at(x, y) tells a
// black dot; sx, sy magnify it.
func (e *Emulator) printBitmap(w, h, sx, sy int, at func(x, y int) bool) {
	e.flushLine()
	if w <= 0 || h <= 0 {
		return
	}
	if !e.ready() {
		e.lost = true
		e.paper.advance(h * sy)
		return
	}
	left, aw := e.area()
	off := left
	switch e.mode.align {
	case escpos.Center:
		off += max(0, (aw-w*sx)/2)
	case escpos.Right:
		off += max(0, aw-w*sx)
	}
	// Only the part that lands on the paper is drawn.
	w = min(w, (left+aw-off+sx-1)/sx)
	h0 := h
	h = min(h, (maxPaperRows-e.paper.y+sy-1)/sy)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !at(x, y) {
				continue
			}
			for dy := 0; dy < sy; dy++ {
				for dx := 0; dx < sx; dx++ {
					px := off + x*sx + dx
					if px < left+aw {
						e.paper.set(px, e.paper.y+y*sy+dy)
					}
				}
			}
		}
	}
	e.paper.inked = true
	e.paper.advance(h0 * sy)
}
