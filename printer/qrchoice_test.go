package printer

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
)

// qrCandidate is one way of printing a raster QR code.
type qrCandidate struct {
	name   string
	module int // dots
	level  escpos.ECLevel
	set    func(*Profile)
}

func (c qrCandidate) profile(base Profile) Profile {
	p := base
	p.NativeQR, p.RasterDouble, p.BitImageQR = false, false, false
	p.QRModule, p.QRLevel = c.module, c.level
	c.set(&p)
	return p
}

var levelNames = map[escpos.ECLevel]string{escpos.ECLow: "L", escpos.ECMedium: "M", escpos.ECQuart: "Q", escpos.ECHighest: "H"}

// qrJob is the QR code of text alone, as the layout prints it for p.
func qrJob(t *testing.T, p Profile, text string) []byte {
	t.Helper()
	pg := newPage(Layout{Profile: p})
	if err := pg.qr(text); err != nil {
		t.Fatal(err)
	}
	pg.end()
	if err := pg.e.Err(); err != nil {
		t.Fatal(err)
	}
	return pg.buf.Bytes()
}

// inkBox is the bounding box of the black dots of img.
func inkBox(img *image.Paletted) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.ColorIndexAt(x, y) != 0 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// paperDamage is what a pass suffers at the gate, in dots at 203 dpi (8
// dots a mm), placed relative to the symbol: a white crease 2 mm tall
// across the paper (a fold), a white disc of glare 6 mm across (the sun
// on glossy thermal paper, a phone's flash), or both.
type paperDamage struct {
	name           string
	creaseAt       float64 // fraction of the symbol's height; < 0 none
	glareX, glareY float64 // fractions of the symbol's box; < 0 none
}

func damageCases() []paperDamage {
	var ds []paperDamage
	for _, at := range []float64{0.2, 0.35, 0.5, 0.65, 0.8} {
		ds = append(ds, paperDamage{fmt.Sprintf("crease %.2f", at), at, -1, -1})
	}
	for _, g := range [][2]float64{{0.3, 0.3}, {0.7, 0.3}, {0.5, 0.5}, {0.3, 0.7}, {0.7, 0.7}} {
		ds = append(ds, paperDamage{fmt.Sprintf("glare %.1f,%.1f", g[0], g[1]), -1, g[0], g[1]})
	}
	for _, c := range [][3]float64{{0.3, 0.7, 0.6}, {0.6, 0.3, 0.3}, {0.45, 0.5, 0.8}} {
		ds = append(ds, paperDamage{fmt.Sprintf("crease %.2f + glare %.1f,%.1f", c[0], c[1], c[2]), c[0], c[1], c[2]})
	}
	return ds
}

const (
	creaseDots = 16 // 2 mm
	glareDots  = 48 // 6 mm
)

func (d paperDamage) apply(img *image.Paletted) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	box := inkBox(img)
	white := image.NewUniform(color.White)
	if d.creaseAt >= 0 {
		y := box.Min.Y + int(float64(box.Dy())*d.creaseAt)
		draw.Draw(out, image.Rect(b.Min.X, y, b.Max.X, y+creaseDots), white, image.Point{}, draw.Src)
	}
	if d.glareX >= 0 {
		cx := box.Min.X + int(float64(box.Dx())*d.glareX)
		cy := box.Min.Y + int(float64(box.Dy())*d.glareY)
		r := glareDots / 2
		for y := cy - r; y <= cy+r; y++ {
			for x := cx - r; x <= cx+r; x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
					out.Set(x, y, color.White)
				}
			}
		}
	}
	return out
}

// TestQRChoice chooses how raster profiles print a pass's QR code: each
// candidate (an encoding, a module size, an error-correction level) is
// printed through the layout and the emulator, damaged 13 ways (creases,
// glare, both), and read back with zbarimg; of those that read every
// time, the one with the fewest bytes on the wire wins, per encoding a
// profile can use. The test fails if a profile's setting is not that
// choice. Module sizes below 3 dots (0.375 mm) are not candidates: the
// decoder reads a clean image at any size, the gate's scanners do not.
// The table is in docs/BENCHMARKS.md (go test -run QRChoice -v).
func TestQRChoice(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	if testing.Short() || raceEnabled {
		t.Skip("slow: about 100 decodes (and it runs no goroutines for the race detector)")
	}
	raw, err := os.ReadFile("../testdata/pass/typical-compact.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The compact pass only: the default once safe, and the smaller
	// symbol, which needs the more correction (the embedded pass read
	// every damaged print at level Q on ESC * lines when this was chosen).
	texts := []struct{ name, text string }{
		{"compact", strings.TrimSpace(string(raw))},
	}
	levels := []escpos.ECLevel{escpos.ECLow, escpos.ECMedium, escpos.ECQuart, escpos.ECHighest}
	type family struct {
		name     string
		profiles []string // the profiles that print this way
		modules  []int
		set      func(*Profile)
	}
	families := []family{
		{"ESC * lines", []string{"generic58", "clone80-512"}, []int{3}, func(p *Profile) { p.BitImageQR = true }},
		{"GS v 0 mode 3 (2×2)", []string{"generic58-2x"}, []int{4, 6}, func(p *Profile) { p.RasterDouble = true }},
		{"GS v 0", nil, []int{3, 4, 5}, func(p *Profile) {}},
	}
	base := profileOrDie(t, "generic58")
	cases := damageCases()
	dir := t.TempDir()
	var tab strings.Builder
	fmt.Fprintf(&tab, "| pass | QR sent as | dots/module | level | QR job bytes | s at 9,600 | damaged prints read |\n|---|---|---:|---|---:|---:|---|\n")
	for _, tx := range texts {
		for _, f := range families {
			best := qrCandidate{}
			bestBytes := 0
			for _, m := range f.modules {
				for _, lv := range levels {
					c := qrCandidate{name: f.name, module: m, level: lv, set: f.set}
					p := c.profile(base)
					job := qrJob(t, p, tx.text)
					pages, st, err := emulator.Render(job, p.emulatorConfig())
					if err != nil || len(pages) != 1 || !st.Clean() {
						t.Fatalf("%s: %d pages, %v %v", c.name, len(pages), err, st.Problems())
					}
					ok, tried := 0, 0
					for _, d := range cases {
						tried++
						path := filepath.Join(dir, "qr.png")
						writePNG(t, path, d.apply(pages[0]))
						out, _ := exec.Command(zbar, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", path).Output()
						if strings.TrimRight(string(out), "\n") == tx.text {
							ok++
						} else {
							break // one failure rules the candidate out
						}
					}
					all := ok == len(cases)
					read := fmt.Sprintf("%d/%d", ok, len(cases))
					if !all {
						read = fmt.Sprintf("fails at %q", cases[tried-1].name)
					}
					fmt.Fprintf(&tab, "| %s | %s | %d | %s | %d | %.2f | %s |\n", tx.name, f.name, m, levelNames[lv], len(job), wireSeconds(len(job), 9600), read)
					if all && (bestBytes == 0 || len(job) < bestBytes) {
						best, bestBytes = c, len(job)
					}
				}
			}
			if bestBytes == 0 {
				t.Errorf("%s pass, %s: no candidate reads every damaged print", tx.name, f.name)
				continue
			}
			fmt.Fprintf(&tab, "| %s | **%s: %d dots, level %s, %d bytes** | | | | | chosen |\n", tx.name, f.name, best.module, levelNames[best.level], bestBytes)
			if tx.name != "compact" {
				continue // profiles are chosen for the compact pass, the default once safe
			}
			for _, pn := range f.profiles {
				prof := profileOrDie(t, pn)
				if prof.QRModule != best.module || prof.qrLevel() != best.level {
					t.Errorf("profile %s prints %d dots, level %s; the read-back test chooses %d dots, level %s",
						pn, prof.QRModule, levelNames[prof.qrLevel()], best.module, levelNames[best.level])
				}
			}
		}
	}
	t.Logf("QR read-back, creases %d dots and glare %d dots across:\n%s", creaseDots, glareDots, tab.String())
}
