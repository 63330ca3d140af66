package emulator

import (
	"fmt"
	"image"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Character cells of a 203-dpi thermal printer: font A is 12×24 dots (48
// columns on 576 dots, 32 on 384), font B 9×17. Go Mono has an advance of
// 0.6 em, so 20 px gives exactly 12 dots and 15 px 9 dots.
type cellFont struct {
	w, h     int
	baseline int
	size     float64
}

var (
	fontA = cellFont{w: 12, h: 24, baseline: 19, size: 20}
	fontB = cellFont{w: 9, h: 17, baseline: 13, size: 15}
)

// parsedFonts holds the parsed Go Mono fonts; parsing is done once and the
// result is never modified (faces, which are not safe for concurrent use,
// are made per emulator).
var parsedFonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	var fs [2]*opentype.Font
	for i, ttf := range [][]byte{gomono.TTF, gomonobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return fs, fmt.Errorf("parse Go Mono: %w", err)
		}
		fs[i] = f
	}
	return fs, nil
})

// glyph is a character cell rendered to dots: 1 = black.
type glyph struct {
	w, h int
	pix  []byte
}

type glyphKey struct {
	r     rune
	fontB bool
	bold  bool
}

// glyphs renders and caches character cells.
type glyphs struct {
	faces map[[2]bool]font.Face // [fontB, bold]
	cache map[glyphKey]*glyph
}

func newGlyphs() (*glyphs, error) {
	fs, err := parsedFonts()
	if err != nil {
		return nil, err
	}
	g := &glyphs{faces: map[[2]bool]font.Face{}, cache: map[glyphKey]*glyph{}}
	for _, fb := range []bool{false, true} {
		for bi, bold := range []bool{false, true} {
			cf := fontA
			if fb {
				cf = fontB
			}
			face, err := opentype.NewFace(fs[bi], &opentype.FaceOptions{Size: cf.size, DPI: 72, Hinting: font.HintingFull})
			if err != nil {
				return nil, fmt.Errorf("load the mono face: %w", err)
			}
			g.faces[[2]bool{fb, bold}] = face
		}
	}
	return g, nil
}

// get returns the cell of r, drawing '?' for characters the font lacks.
func (g *glyphs) get(r rune, useB, bold bool) *glyph {
	k := glyphKey{r, useB, bold}
	if gl, ok := g.cache[k]; ok {
		return gl
	}
	cf := fontA
	if useB {
		cf = fontB
	}
	face := g.faces[[2]bool{useB, bold}]
	if _, ok := face.GlyphAdvance(r); !ok || r == '\uFFFD' {
		r = '?'
	}
	dst := image.NewAlpha(image.Rect(0, 0, cf.w, cf.h))
	d := font.Drawer{Dst: dst, Src: image.Opaque, Face: face, Dot: fixed.P(0, cf.baseline)}
	if r != ' ' {
		if isBoxDrawing(r) {
			drawBox(dst, r)
		} else {
			d.DrawString(string(r))
		}
	}
	gl := &glyph{w: cf.w, h: cf.h, pix: make([]byte, cf.w*cf.h)}
	for y := 0; y < cf.h; y++ {
		for x := 0; x < cf.w; x++ {
			// A thermal dot is on or off; 45 % coverage reads closest to
			// the printed weight of a printer's ROM font.
			if dst.AlphaAt(x, y).A >= 115 {
				gl.pix[y*cf.w+x] = 1
			}
		}
	}
	g.cache[k] = gl
	return gl
}

// isBoxDrawing reports the lines and blocks drawn by rule rather than by
// the font, so that rules join across cells without gaps, as in a
// printer's character ROM.
func isBoxDrawing(r rune) bool {
	switch r {
	case '─', '│', '┌', '┐', '└', '┘', '├', '┤', '┬', '┴', '┼', '═', '║', '█', '▀', '▄', '▌', '▐',
		'▁', '▂', '▃', '▅', '▆', '▇', '▏', '▎', '▍', '▋', '▊', '▉', '▔', '▕':
		return true
	}
	return false
}

// drawBox draws a line-drawing or block character filling its whole cell.
func drawBox(dst *image.Alpha, r rune) {
	b := dst.Bounds()
	w, h := b.Dx(), b.Dy()
	cx, cy := w/2, h/2
	fill := func(x0, y0, x1, y1 int) {
		draw.Draw(dst, image.Rect(x0, y0, x1, y1), image.Opaque, image.Point{}, draw.Src)
	}
	hl := func(x0, x1 int) { fill(x0, cy-1, x1, cy+1) }
	vl := func(y0, y1 int) { fill(cx-1, y0, cx+1, y1) }
	switch r {
	case '─':
		hl(0, w)
	case '│':
		vl(0, h)
	case '┌':
		hl(cx-1, w)
		vl(cy-1, h)
	case '┐':
		hl(0, cx+1)
		vl(cy-1, h)
	case '└':
		hl(cx-1, w)
		vl(0, cy+1)
	case '┘':
		hl(0, cx+1)
		vl(0, cy+1)
	case '├':
		vl(0, h)
		hl(cx, w)
	case '┤':
		vl(0, h)
		hl(0, cx)
	case '┬':
		hl(0, w)
		vl(cy, h)
	case '┴':
		hl(0, w)
		vl(0, cy)
	case '┼':
		hl(0, w)
		vl(0, h)
	case '═':
		fill(0, cy-3, w, cy-1)
		fill(0, cy+1, w, cy+3)
	case '║':
		fill(cx-3, 0, cx-1, h)
		fill(cx+1, 0, cx+3, h)
	case '█':
		fill(0, 0, w, h)
	case '▀':
		fill(0, 0, w, cy)
	case '▄':
		fill(0, cy, w, h)
	case '▌':
		fill(0, 0, cx, h)
	case '▐':
		fill(cx, 0, w, h)
	case '▔':
		fill(0, 0, w, h/8)
	case '▕':
		fill(w-w/8, 0, w, h)
	case '▁', '▂', '▃', '▅', '▆', '▇': // lower eighths
		n := map[rune]int{'▁': 1, '▂': 2, '▃': 3, '▅': 5, '▆': 6, '▇': 7}[r]
		fill(0, h-h*n/8, w, h)
	case '▏', '▎', '▍', '▋', '▊', '▉': // left eighths
		n := map[rune]int{'▏': 1, '▎': 2, '▍': 3, '▋': 5, '▊': 6, '▉': 7}[r]
		fill(0, 0, w*n/8, h)
	}
}
