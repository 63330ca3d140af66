package escpos

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"testing"
)

func TestEncoder(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *Encoder)
		want []byte
	}{
		{"init", func(e *Encoder) { e.Init() }, []byte{0x1B, '@', 0x1B, 't', 19}},
		{"bold", func(e *Encoder) { e.Bold(true); e.Bold(false) }, []byte{0x1B, 'E', 1, 0x1B, 'E', 0}},
		{"size 2x3", func(e *Encoder) { e.Size(2, 3) }, []byte{0x1D, '!', 0x12}},
		{"align right", func(e *Encoder) { e.Align(Right) }, []byte{0x1B, 'a', 2}},
		{"underline", func(e *Encoder) { e.Underline(2) }, []byte{0x1B, '-', 2}},
		{"reverse", func(e *Encoder) { e.Reverse(true) }, []byte{0x1D, 'B', 1}},
		{"feed", func(e *Encoder) { e.Feed(3) }, []byte{0x1B, 'd', 3}},
		{"full cut", func(e *Encoder) { e.Cut(false, 0) }, []byte{0x1D, 'V', 65, 0}},
		{"partial cut after 24 dots", func(e *Encoder) { e.Cut(true, 24) }, []byte{0x1D, 'V', 66, 24}},
		{"drawer", func(e *Encoder) { e.KickDrawer(1, 100, 200) }, []byte{0x1B, 'p', 1, 50, 100}},
		{"text folds", func(e *Encoder) { e.Line("2 × €5 — ok") }, append([]byte("2 \x9e "), append([]byte{0xD5}, []byte("5 - ok\n")...)...)},
		{"native QR", func(e *Encoder) { e.NativeQR("AB", 6, ECMedium) }, []byte{
			0x1D, '(', 'k', 4, 0, 49, 65, 50, 0,
			0x1D, '(', 'k', 3, 0, 49, 67, 6,
			0x1D, '(', 'k', 3, 0, 49, 69, 49,
			0x1D, '(', 'k', 5, 0, 49, 80, 48, 'A', 'B',
			0x1D, '(', 'k', 3, 0, 49, 81, 48}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		e := NewEncoder(&buf, CP858)
		tt.do(e)
		if e.Err() != nil {
			t.Errorf("%s: %v", tt.name, e.Err())
		}
		if !bytes.Equal(buf.Bytes(), tt.want) {
			t.Errorf("%s: % X; want % X", tt.name, buf.Bytes(), tt.want)
		}
	}
}

// TestLazyEncoder: a lazy encoder sends a mode only when something prints
// and only if it differs from what the printer holds: a toggle back and
// forth costs nothing, an image gets its alignment but not the text's
// emphasis or size, and ESC @ forgets what was sent.
func TestLazyEncoder(t *testing.T) {
	bm := NewBitmap(8, 1)
	bm.Set(0, 0)
	tests := []struct {
		name string
		do   func(e *Encoder)
		want []byte
	}{
		{"toggles cost nothing", func(e *Encoder) {
			e.Align(Center)
			e.Bold(true)
			e.Line("a")
			e.Bold(false)
			e.Align(Left)
			e.Align(Center)
			e.Bold(true)
			e.Line("b")
		}, []byte{0x1B, 'a', 1, 0x1B, 'E', 1, 'a', '\n', 'b', '\n'}},
		{"modes nothing printed with are never sent", func(e *Encoder) {
			e.Size(2, 2)
			e.Reverse(true)
			e.Underline(1)
			e.FeedDots(8)
			e.Size(1, 1)
			e.Reverse(false)
			e.Underline(0)
			e.Cut(true, 24)
		}, []byte{0x1B, 'J', 8, 0x1D, 'V', 66, 24}},
		{"an image takes the alignment only", func(e *Encoder) {
			e.Align(Center)
			e.Bold(true)
			e.Size(2, 2)
			e.Raster(bm, 0)
			e.Text("x")
		}, []byte{0x1B, 'a', 1, 0x1D, 'v', '0', 0, 1, 0, 1, 0, 0x80, 0x1B, 'E', 1, 0x1D, '!', 0x11, 'x'}},
		{"ESC @ resets what the printer holds", func(e *Encoder) {
			e.Bold(true)
			e.Text("a")
			e.Init()
			e.Bold(true)
			e.Text("b")
		}, []byte{0x1B, 'E', 1, 'a', 0x1B, '@', 0x1B, 't', 19, 0x1B, 'E', 1, 'b'}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		e := NewEncoder(&buf, CP858)
		e.SetLazy(true)
		tt.do(e)
		if e.Err() != nil {
			t.Errorf("%s: %v", tt.name, e.Err())
		}
		if !bytes.Equal(buf.Bytes(), tt.want) {
			t.Errorf("%s: % X; want % X", tt.name, buf.Bytes(), tt.want)
		}
	}
}

func TestEncoderRefusesBadArguments(t *testing.T) {
	for name, do := range map[string]func(*Encoder){
		"size 9":       func(e *Encoder) { e.Size(9, 1) },
		"feed 300":     func(e *Encoder) { e.Feed(300) },
		"QR module 0":  func(e *Encoder) { e.NativeQR("x", 0, ECLow) },
		"QR empty":     func(e *Encoder) { e.NativeQR("", 3, ECLow) },
		"drawer pin 3": func(e *Encoder) { e.KickDrawer(3, 100, 100) },
	} {
		var buf bytes.Buffer
		e := NewEncoder(&buf, CP437)
		do(e)
		if e.Err() == nil || buf.Len() != 0 {
			t.Errorf("%s: err %v, wrote %d bytes; want an error and nothing written", name, e.Err(), buf.Len())
		}
	}
}

// Raster bands: each band is a whole GS v 0 command, their rows add up.
func TestRasterBands(t *testing.T) {
	b := NewBitmap(100, 300) // 13 bytes a row
	b.Set(0, 0)
	b.Set(99, 299)
	var buf bytes.Buffer
	e := NewEncoder(&buf, CP437)
	e.Raster(b, 1300) // 100 rows a band
	rows, bands := 0, 0
	for off := 0; off < buf.Len(); {
		c, err := Next(buf.Bytes()[off:])
		if err != nil || c.Op != OpRaster {
			t.Fatalf("band %d: %v %v", bands, c.Op, err)
		}
		if got := int(c.Args[1]) | int(c.Args[2])<<8; got != 13 {
			t.Errorf("stride %d; want 13", got)
		}
		rows += int(c.Args[3]) | int(c.Args[4])<<8
		bands++
		off += len(c.Raw)
	}
	if rows != 300 || bands != 3 {
		t.Errorf("%d rows in %d bands; want 300 in 3", rows, bands)
	}
}

func TestQRBitmapQuietZone(t *testing.T) {
	b, err := QRBitmap("LANGO", ECMedium, 3, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Version 1 is 21 modules; with 4 quiet modules a side: 29 × 3 dots.
	if b.Width != 87 || b.Height != 87 {
		t.Fatalf("size %d×%d; want 87×87", b.Width, b.Height)
	}
	for i := 0; i < 12; i++ { // quiet zone white, finder pattern black
		if b.At(i, 20) || b.At(20, i) {
			t.Fatalf("dot in the quiet zone at %d", i)
		}
	}
	if !b.At(12, 12) || !b.At(12+20, 12) {
		t.Errorf("finder pattern missing")
	}
}

func TestFromImage(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 800, 100))
	for x := 0; x < 800; x++ {
		for y := 0; y < 100; y++ {
			img.SetGray(x, y, color.Gray{Y: uint8(x * 255 / 799)})
		}
	}
	b := FromImage(img, 400)
	if b.Width != 400 || b.Height != 50 {
		t.Fatalf("size %d×%d; want 400×50", b.Width, b.Height)
	}
	black := func(x0, x1 int) int {
		n := 0
		for y := 0; y < b.Height; y++ {
			for x := x0; x < x1; x++ {
				if b.At(x, y) {
					n++
				}
			}
		}
		return n
	}
	if l, r := black(0, 50), black(350, 400); l < 2000 || r > 500 {
		t.Errorf("dithering: %d black dots at the dark end, %d at the light end", l, r)
	}
}

func TestStatusDecode(t *testing.T) {
	tests := []struct {
		p, o, paper byte
		code        string
	}{
		{0x12, 0x12, 0x12, "ready"},
		{0x12, 0x12, 0x1E, "paper_low"},
		{0x1A, 0x32, 0x7E, "paper_out"},
		{0x1A, 0x16, 0x12, "cover_open"},
		{0x1A, 0x52, 0x12, "error"},
		{0x1A, 0x12, 0x12, "offline"},
	}
	for _, tt := range tests {
		st, err := DecodeStatus(tt.p, tt.o, tt.paper)
		if err != nil {
			t.Fatal(err)
		}
		if st.Code() != tt.code {
			t.Errorf("% X: %s; want %s", []byte{tt.p, tt.o, tt.paper}, st.Code(), tt.code)
		}
		for _, n := range []byte{1, 2, 4} {
			want := map[byte]byte{1: tt.p, 2: tt.o, 4: tt.paper}[n]
			if tt.code == "offline" || tt.code == "error" && n == 2 {
				continue // the emulator has no bare "offline" cause byte
			}
			if got, _ := StatusReply(st, n); got != want {
				t.Errorf("%s: StatusReply(%d) = %02X; want %02X", tt.code, n, got, want)
			}
		}
	}
	for _, b := range []byte{XON, XOF, 0x00, 0xFF} {
		if IsStatusReply(b) {
			t.Errorf("0x%02X taken for a status reply", b)
		}
	}
	if _, err := DecodeStatus(0x11, 0x12, 0x12); err == nil {
		t.Error("XON decoded as status")
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		in   []byte
		op   Op
		n    int
		err  error
		know bool
	}{
		{[]byte("abc\n"), OpText, 3, nil, true},
		{[]byte{ESC, 'a', 1, 'x'}, OpAlign, 3, nil, true},
		{[]byte{ESC, 'a'}, 0, 0, ErrShort, false},
		{[]byte{ESC, 'y', 'x'}, MakeOp(ESC, 'y', 0), 2, nil, false},
		{[]byte{GS, 'V', 66, 3, 'x'}, OpCut, 4, nil, true},
		{[]byte{GS, 'V', 0, 'x'}, OpCut, 3, nil, true},
		{[]byte{GS, '(', 'k', 3, 0, 49, 81, 48, 'x'}, OpSymbol, 8, nil, true},
		{[]byte{GS, 'v', '0', 0, 1, 0, 2, 0, 0xFF, 0xFF, 'x'}, OpRaster, 10, nil, true},
		{[]byte{GS, 'v', '0', 0, 1, 0, 2, 0, 0xFF}, 0, 0, ErrShort, false},
		{[]byte{GS, '8', 'L', 2, 0, 0, 0, '0', '2'}, OpGraphicsLong, 9, nil, true},
		{[]byte{FS, '(', 'A', 2, 0, '0', 0}, MakeOp(FS, '(', 'A'), 7, nil, true},
		{[]byte{FS, 'S', 0, 0}, MakeOp(FS, 'S', 0), 4, nil, true},
		{[]byte{DLE, 4, 1}, OpStatusEOT, 3, nil, true},
		{[]byte{ESC, 'D', 8, 16, 0, 'x'}, OpTabs, 5, nil, true},
		{[]byte{GS, 'k', 4, 'A', 'B', 0}, OpBarcode, 6, nil, true},
		{[]byte{GS, 'k', 73, 2, 'A', 'B'}, OpBarcode, 6, nil, true},
	}
	for _, tt := range tests {
		c, err := Next(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("Next(% X) err %v; want %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if c.Op != tt.op || len(c.Raw) != tt.n || c.Known != tt.know {
			t.Errorf("Next(% X) = %s %d bytes known=%v; want %s %d known=%v", tt.in, c.Op, len(c.Raw), c.Known, tt.op, tt.n, tt.know)
		}
	}
	big := []byte{GS, 'v', '0', 0, 0xFF, 0xFF, 0xFF, 0xFF}
	var tl *TooLarge
	if _, err := Next(big); !errors.As(err, &tl) || tl.Declared != 8+0xFFFF*0xFFFF {
		t.Errorf("oversized raster: %v", err)
	}
}

// FuzzNext: whatever the bytes, Next neither panics nor reads past its
// input, and a command always has bytes.
func FuzzNext(f *testing.F) {
	f.Add([]byte{ESC, '@', 'h', 'i', LF, GS, 'V', 66, 0})
	f.Add([]byte{GS, '(', 'k', 5, 0, 49, 80, 48, 'A', 'B'})
	f.Add([]byte{GS, '8', 'L', 0xFF, 0xFF, 0xFF, 0x7F, '0', 'p'})
	f.Add([]byte{ESC, '&', 3, 32, 34, 2, 1, 2, 3, 4, 5, 6})
	f.Add([]byte{FS, 'q', 2, 1, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for off := 0; off < len(b); {
			c, err := Next(b[off:])
			if err != nil {
				var tl *TooLarge
				if !errors.Is(err, ErrShort) && !errors.As(err, &tl) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(c.Raw) == 0 || len(c.Raw) > len(b)-off {
				t.Fatalf("command of %d bytes at %d of %d", len(c.Raw), off, len(b))
			}
			off += len(c.Raw)
		}
		_ = Validate(b)
		_ = CommandEnd(b, len(b)/2)
	})
}
