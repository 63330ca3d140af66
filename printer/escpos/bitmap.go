package escpos

import (
	"fmt"
	"image"
	"image/color"

	"github.com/skip2/go-qrcode"
)

// Bitmap is a 1-bit image in the layout of GS v 0: rows of Stride bytes,
// most significant bit leftmost, 1 = black dot.
type Bitmap struct {
	Width, Height int
	Stride        int
	Bits          []byte
}

// NewBitmap returns an all-white bitmap.
func NewBitmap(w, h int) *Bitmap {
	s := (w + 7) / 8
	return &Bitmap{Width: w, Height: h, Stride: s, Bits: make([]byte, s*h)}
}

// Set blackens the dot at (x, y); outside the bitmap it does nothing.
func (b *Bitmap) Set(x, y int) {
	if x < 0 || y < 0 || x >= b.Width || y >= b.Height {
		return
	}
	b.Bits[y*b.Stride+x/8] |= 0x80 >> (x % 8)
}

// At reports whether the dot at (x, y) is black.
func (b *Bitmap) At(x, y int) bool {
	if x < 0 || y < 0 || x >= b.Width || y >= b.Height {
		return false
	}
	return b.Bits[y*b.Stride+x/8]&(0x80>>(x%8)) != 0
}

// Image returns b as a paletted image (white, black) for PNG files.
func (b *Bitmap) Image() *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, b.Width, b.Height), color.Palette{color.White, color.Black})
	for y := 0; y < b.Height; y++ {
		for x := 0; x < b.Width; x++ {
			if b.At(x, y) {
				img.Pix[y*img.Stride+x] = 1
			}
		}
	}
	return img
}

// FromImage converts img to dots, shrinking it to at most maxWidth dots
// wide (keeping its aspect) and dithering grey levels with Floyd–Steinberg
// error diffusion, the way a logo should go to a thermal head. Transparent
// pixels are white.
func FromImage(img image.Image, maxWidth int) *Bitmap {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	if w == 0 || h == 0 {
		return NewBitmap(0, 0)
	}
	if maxWidth > 0 && w > maxWidth {
		h = max(1, h*maxWidth/w)
		w = maxWidth
	}
	// Grey levels 0 (black) … 255 (white), sampled with a box filter.
	grey := make([]int, w*h)
	sw, sh := r.Dx(), r.Dy()
	for y := 0; y < h; y++ {
		y0, y1 := r.Min.Y+y*sh/h, r.Min.Y+max((y+1)*sh/h, y*sh/h+1)
		for x := 0; x < w; x++ {
			x0, x1 := r.Min.X+x*sw/w, r.Min.X+max((x+1)*sw/w, x*sw/w+1)
			var sum, n int
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					c := color.NRGBAModel.Convert(img.At(sx, sy)).(color.NRGBA)
					l := (299*int(c.R) + 587*int(c.G) + 114*int(c.B)) / 1000
					// Composite over white paper.
					l = (l*int(c.A) + 255*(255-int(c.A))) / 255
					sum += l
					n++
				}
			}
			grey[y*w+x] = sum / n
		}
	}
	b := NewBitmap(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			old := grey[y*w+x]
			nv := 255
			if old < 128 {
				nv = 0
				b.Set(x, y)
			}
			e := old - nv
			if x+1 < w {
				grey[y*w+x+1] += e * 7 / 16
			}
			if y+1 < h {
				if x > 0 {
					grey[(y+1)*w+x-1] += e * 3 / 16
				}
				grey[(y+1)*w+x] += e * 5 / 16
				if x+1 < w {
					grey[(y+1)*w+x+1] += e * 1 / 16
				}
			}
		}
	}
	return b
}

// QRLevel maps an ECLevel to go-qrcode's recovery level.
func QRLevel(ec ECLevel) qrcode.RecoveryLevel {
	switch ec {
	case ECLow:
		return qrcode.Low
	case ECQuart:
		return qrcode.High
	case ECHighest:
		return qrcode.Highest
	}
	return qrcode.Medium
}

// QRModules returns the side of the QR symbol for text at level ec, in
// modules, without quiet zone: 17 + 4 × version, the smallest version
// that holds the text (as printers with native QR choose it too).
func QRModules(text string, ec ECLevel) (int, error) {
	q, err := qrcode.New(text, QRLevel(ec))
	if err != nil {
		return 0, fmt.Errorf("escpos: QR of %d bytes: %w", len(text), err)
	}
	return 17 + 4*q.VersionNumber, nil
}

// QRBitmap encodes text as a QR code (model 2, smallest version that holds
// it) with module×module dots per module, and quietX modules of white
// left and right and quietY above and below (the standard asks for 4 on
// every side; blank paper, fed rather than sent, is as good).
func QRBitmap(text string, ec ECLevel, module, quietX, quietY int) (*Bitmap, error) {
	if module < 1 || quietX < 0 || quietY < 0 {
		return nil, fmt.Errorf("escpos: QR module %d, quiet zone %d×%d", module, quietX, quietY)
	}
	q, err := qrcode.New(text, QRLevel(ec))
	if err != nil {
		return nil, fmt.Errorf("escpos: QR of %d bytes: %w", len(text), err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := len(bm)
	b := NewBitmap((n+2*quietX)*module, (n+2*quietY)*module)
	for my, row := range bm {
		for mx, black := range row {
			if !black {
				continue
			}
			x0, y0 := (mx+quietX)*module, (my+quietY)*module
			for dy := 0; dy < module; dy++ {
				for dx := 0; dx < module; dx++ {
					b.Set(x0+dx, y0+dy)
				}
			}
		}
	}
	return b, nil
}
