package printer

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/printer/golden")

const goldenDir = "../testdata/printer/golden"

// goldenProfiles are the paper widths the layouts are checked on.
var goldenProfiles = []string{"generic58", "generic58-2x", "epson-tm-t20", "clone80-512"}

type goldenDoc struct {
	name string
	doc  Document
	qr   string // the QR text the page must decode to
	logo bool   // print the test logo at the top
}

func goldenDocs() []goldenDoc {
	cp := paidPass("en")
	cp.Copy = true
	return []goldenDoc{
		{"pass-paid-en", paidPass("en"), passText, false},
		{"pass-paid-sw", paidPass("sw"), passText, false},
		{"pass-due-en", duePass("en"), passText, false},
		{"pass-due-sw", duePass("sw"), passText, false},
		{"pass-copy-en", cp, passText, false},
		{"receipt-en", receipt("en"), "", false},
		{"receipt-sw", receipt("sw"), "", false},
		{"receipt-logo-en", receipt("en"), "", true},
		{"settlement-en", settlement("en"), "", false},
		{"settlement-sw", settlement("sw"), "", false},
		{"zreport-en", zreport("en"), "", false},
		{"zreport-sw", zreport("sw"), "", false},
		{"testpage-en", testPage("en"), "LANGO TEST NNP-MAIN-02 2024-01-03T03:12:00Z", false},
	}
}

// TestGolden renders every layout on every profile and compares the
// ESC/POS bytes and the emulator's picture of them with the golden files;
// go test ./printer -update rewrites them.
func TestGolden(t *testing.T) {
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, pn := range goldenProfiles {
		prof, err := LookupProfile(pn)
		if err != nil {
			t.Fatal(err)
		}
		for _, gd := range goldenDocs() {
			if pn == "generic58-2x" && !strings.HasPrefix(gd.name, "pass-") && gd.name != "testpage-en" {
				continue // only the QR differs from generic58
			}
			name := gd.name + "-" + pn
			t.Run(name, func(t *testing.T) {
				l := Layout{Profile: prof}
				if gd.logo {
					l.Logo = escpos.FromImage(testLogo(), prof.WidthDots*2/3)
				}
				job, err := l.Render(gd.doc)
				if err != nil {
					t.Fatal(err)
				}
				if err := escpos.Validate(job); err != nil {
					t.Fatalf("job is not whole: %v", err)
				}
				pages, st, err := emulator.Render(job, prof.emulatorConfig())
				if err != nil {
					t.Fatal(err)
				}
				if !st.Clean() || len(st.Unrendered) > 0 {
					t.Errorf("emulator problems: %v, unrendered %v", st.Problems(), st.Unrendered)
				}
				if len(pages) != 1 {
					t.Fatalf("%d pages; want 1", len(pages))
				}
				binName := filepath.Join(goldenDir, name+".bin")
				pngName := filepath.Join(goldenDir, name+".png")
				if *update {
					if err := os.WriteFile(binName, job, 0o644); err != nil {
						t.Fatal(err)
					}
					writePNG(t, pngName, pages[0])
				}
				want, err := os.ReadFile(binName)
				if err != nil {
					t.Fatalf("%v (run go test ./printer -update)", err)
				}
				if !bytes.Equal(job, want) {
					t.Errorf("%s: job differs from golden (%d bytes; golden %d): run with -update and review the PNG", name, len(job), len(want))
				}
				if d := diffPNG(t, pngName, pages[0]); d != "" {
					t.Errorf("%s: %s", name, d)
				}
				if gd.qr != "" {
					if got := zbarDecode(t, pngName); len(got) != 1 || got[0] != gd.qr {
						t.Errorf("QR decodes to %q; want %q", got, gd.qr)
					}
				}
			})
		}
	}
}

// testLogo draws a gate: two pillars, an arch and a grey gradient bar,
// which shows the dithering.
func testLogo() image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 360, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 360; x++ {
			c := color.NRGBA{0, 0, 0, 0} // transparent: paper
			dx, dy := float64(x-180), float64(y-70)
			r := math.Hypot(dx, dy*1.4)
			switch {
			case y >= 40 && y < 100 && ((x >= 110 && x < 130) || (x >= 230 && x < 250)):
				c = color.NRGBA{20, 60, 20, 255} // pillars
			case y < 70 && r >= 60 && r < 76:
				c = color.NRGBA{180, 120, 40, 255} // arch, mid grey
			case y >= 104:
				v := uint8(x * 255 / 359)
				c = color.NRGBA{v, v, v, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// diffPNG compares img with the golden PNG pixel by pixel (not byte by
// byte: PNG compression may differ between Go versions).
func diffPNG(t *testing.T, name string, img *image.Paletted) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	g, err := png.Decode(f)
	if err != nil {
		return err.Error()
	}
	if g.Bounds() != img.Bounds() {
		return "picture size " + img.Bounds().String() + "; golden " + g.Bounds().String()
	}
	diff := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, _, _, _ := img.At(x, y).RGBA()
			r2, _, _, _ := g.At(x, y).RGBA()
			if (r1 > 0x7FFF) != (r2 > 0x7FFF) {
				diff++
			}
		}
	}
	if diff > 0 {
		return "picture differs from golden in " + itoa(diff) + " dots"
	}
	return ""
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"Adult, EAC citizen", 32, []string{"Adult, EAC citizen"}},
		{"2 x Adult, international (non-resident)", 19, []string{"2 x Adult,", "international", "(non-resident)"}},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10, []string{"ABCDEFGHIJ", "KLMNOPQRST", "UVWXYZ"}},
		{"  many   spaces  ", 20, []string{"many spaces"}},
		{"", 10, nil},
	}
	for _, tt := range tests {
		got := wrap(tt.in, tt.width)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q; want %q", tt.in, tt.width, got, tt.want)
		}
		for _, l := range got {
			if width(l) > tt.width {
				t.Errorf("wrap(%q, %d): line %q too wide", tt.in, tt.width, l)
			}
		}
	}
}

func TestPassID(t *testing.T) {
	if got, want := passID(fixturePassID), "0190 A3C4 5E6F 7ABC 8D9E F012 3456 789A"; got != want {
		t.Errorf("passID = %q; want %q", got, want)
	}
}

// Every printed line fits the profile's columns: the emulator would wrap
// an overlong line, which shows as a taller page with text at the left.
func TestLinesFitColumns(t *testing.T) {
	for _, pn := range goldenProfiles {
		prof, _ := LookupProfile(pn)
		for _, gd := range goldenDocs() {
			job, err := Render(prof, gd.doc)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range printedLines(t, job) {
				if l.cols > prof.Columns {
					t.Errorf("%s on %s: line %q is %d columns; paper has %d", gd.name, pn, l.text, l.cols, prof.Columns)
				}
			}
		}
	}
}

type printed struct {
	text string
	cols int
}

// printedLines replays a job's text, size and position commands and
// returns each line with its width in font-A columns.
func printedLines(t *testing.T, job []byte) []printed {
	t.Helper()
	var out []printed
	var cur strings.Builder
	cols, mag := 0, 1
	for off := 0; off < len(job); {
		c, err := escpos.Next(job[off:])
		if err != nil {
			t.Fatal(err)
		}
		off += len(c.Raw)
		switch {
		case c.Op == escpos.OpText:
			cur.Write(c.Raw)
			cols += len(c.Raw) * mag
		case c.Op == escpos.OpCharSize:
			mag = int(c.Args[0]>>4) + 1
		case c.Op == escpos.OpAbsPos:
			// ESC $ jumps to a dot position: the columns up to it are blank.
			to := (int(c.Args[0]) | int(c.Args[1])<<8) / fontADots
			for ; cols < to; cols++ {
				cur.WriteByte(' ')
			}
		case c.Op == escpos.OpControl && c.Raw[0] == escpos.LF:
			out = append(out, printed{cur.String(), cols})
			cur.Reset()
			cols = 0
		}
	}
	return out
}

func TestTransliteration(t *testing.T) {
	tests := []struct {
		cp   escpos.CodePage
		in   string
		want string
	}{
		{escpos.CP437, "2 × Adult — “VIP” ₹500", "2 x Adult - \"VIP\" Rs500"},
		{escpos.CP858, "2 × Adult €20", "2 × Adult €20"},
		{escpos.CP437, "Kĩmani Ŋ Łódź naïve café", "Kimani N Lódz naïve café"},
		{escpos.CP437, "evil\x1b\x70\x00\x19\xfaname", "evil p  ?name"},
		{escpos.CP437, "emoji 🦁 ok", "emoji ? ok"},
	}
	for _, tt := range tests {
		if got := tt.cp.Fold(tt.in); got != tt.want {
			t.Errorf("%s.Fold(%q) = %q; want %q", tt.cp.Name, tt.in, got, tt.want)
		}
		for _, b := range tt.cp.Encode(tt.in) {
			if b < 0x20 {
				t.Errorf("%s.Encode(%q) has control byte 0x%02X", tt.cp.Name, tt.in, b)
			}
		}
	}
}

func TestRenderRefusesBadDocuments(t *testing.T) {
	prof, _ := LookupProfile("generic58")
	noID := paidPass("en")
	noID.PassID = ""
	badCur := receipt("en")
	badCur.Totals = terminal.Totals{"XXX": 1}
	long := paidPass("en")
	long.QR = strings.Repeat("x", 3000)
	for name, d := range map[string]Document{"no pass id": noID, "bad currency": badCur, "QR too long": long} {
		_, err := Render(prof, d)
		var e *terminal.Error
		if !errors.As(err, &e) || e.Kind != terminal.EINVALID {
			t.Errorf("%s: err = %v; want an EINVALID error", name, err)
		}
	}
}

func TestCopyNeverKicksDrawer(t *testing.T) {
	prof, _ := LookupProfile("epson-tm-t20")
	r := receipt("en")
	kick := []byte{escpos.ESC, 'p'}
	job, _ := Render(prof, r)
	if !bytes.Contains(job, kick) {
		t.Errorf("cash receipt does not open the drawer")
	}
	r.Copy = true
	job, _ = Render(prof, r)
	if bytes.Contains(job, kick) {
		t.Errorf("copy opens the drawer")
	}
	if !bytes.Contains(job, []byte("COPY / NAKALA")) {
		t.Errorf("copy is not marked COPY / NAKALA")
	}
}
