package pass

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

func TestQRVersionAndSize(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	text := mustIssue(t, w.issuer["GATE-2"], typicalPass(t))
	v, err := QRVersion(text)
	if err != nil {
		t.Fatal(err)
	}
	if v != 14 {
		t.Errorf("typical pass: QR version %d at Q; want 14 (docs/PASS-FORMAT.md)", v)
	}
	bm, err := QRBitmap(text)
	if err != nil {
		t.Fatal(err)
	}
	if want := QRModules(v) + 2*QRQuietZone; len(bm) != want || len(bm[0]) != want {
		t.Errorf("bitmap %d×%d; want %d×%d", len(bm), len(bm[0]), want, want)
	}
	img, err := QRImage(text, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := img.Bounds().Dx(), (QRModules(v)+2*QRQuietZone)*5; got != want {
		t.Errorf("image %d px wide at 5 dots/module; want %d", got, want)
	}
	// 58 mm printers print 384 dots: version 14 at 5 dots is 365 dots, the
	// quiet zone falling in the paper's unprinted margin.
	if dots := QRModules(v) * 5; dots > 384 {
		t.Errorf("symbol is %d dots at 5 dots/module; want at most 384", dots)
	}
	if got := QRPrintedMM(14, 5); got < 50.6 || got > 50.7 {
		t.Errorf("QRPrintedMM(14, 5) = %.2f; want 50.65 mm", got)
	}
	for _, bad := range []int{0, -1, 33} {
		if _, err := QRImage(text, bad); err == nil {
			t.Errorf("QRImage at %d dots per module: accepted; want refused", bad)
		}
	}
	if _, err := QRVersion(""); err == nil {
		t.Error("QRVersion of empty text: accepted; want refused")
	}
}

// zbarimg reads the PNG at path with the real decoder (Debian's
// zbar-tools) and returns its text.
func zbarimg(t *testing.T, path string) (string, bool) {
	t.Helper()
	out, err := exec.Command("zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", path).Output()
	if err != nil {
		return "", false
	}
	return strings.TrimRight(string(out), "\n"), true
}

func TestQRScansBackWithZbar(t *testing.T) {
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	w := newWorld(t, "NNP", "GATE-2")
	v := w.verifier(t, "NNP")
	for _, p := range []Pass{typicalPass(t), walkInPass(t), busPass(t)} {
		text := mustIssue(t, w.issuer["GATE-2"], p)
		b, err := QRPNG(text, 4)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "pass.png")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, ok := zbarimg(t, path)
		if !ok || got != text {
			t.Fatalf("zbarimg read %q; want %q", got, text)
		}
		if _, err := v.Verify(got+"\n", t0); err != nil {
			t.Errorf("the scanned pass: %v", err)
		}
	}
}

// damage draws what thermal paper suffers onto a QR image printed at 203
// dpi (8 dots per mm): a fold, a white crease creaseMM tall across the
// code at fraction at of its height, and optionally a scratch, a dark line
// 0.5 mm wide slanting the other way (rubbing thermal paper blackens it).
func damage(img image.Image, creaseMM int, at float64, scratch bool) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	y0 := int(float64(b.Dy()) * at)
	draw.Draw(out, image.Rect(0, y0, b.Dx(), y0+creaseMM*8), image.NewUniform(color.White), image.Point{}, draw.Src)
	if scratch {
		for x := 0; x < b.Dx(); x++ {
			y := int(float64(b.Dy())*(1-at)) - x/5
			for d := 0; d < 4; d++ {
				out.Set(x, y+d, color.Black)
			}
		}
	}
	return out
}

// TestQRSurvivesFoldAndScratch compares error-correction levels as they
// would print on a 58 mm printer (384 dots): for creases of 2, 4 and 6 mm
// at 7 heights, each with and without a scratch, how many of the damaged
// typical passes the real decoder still reads. It requires level Q at 5
// dots per module to read every 2 mm case and to do at least as well as M
// everywhere. The numbers are in docs/PASS-FORMAT.md §QR code.
func TestQRSurvivesFoldAndScratch(t *testing.T) {
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	if testing.Short() {
		t.Skip("slow: about 130 decodes")
	}
	w := newWorld(t, "NNP", "GATE-2")
	text := mustIssue(t, w.issuer["GATE-2"], typicalPass(t))
	dir := t.TempDir()
	configs := []struct {
		name  string
		level qrcode.RecoveryLevel
		dots  int
	}{
		{"M", qrcode.Medium, 5},
		{"Q", qrcode.High, 5},
		{"Q", qrcode.High, 4},
		{"H", qrcode.Highest, 4},
	}
	creases := []int{2, 4, 6}
	read := make([][]int, len(configs))
	const cases = 14
	var report strings.Builder
	report.WriteString("| level | version | dots/module | symbol width | 2 mm crease | 4 mm crease | 6 mm crease |\n|---|---|---|---|---|---|---|\n")
	for ci, c := range configs {
		q, err := qrcode.New(text, c.level)
		if err != nil {
			t.Fatal(err)
		}
		img := q.Image(-c.dots)
		fmt.Fprintf(&report, "| %s | %d | %d | %.1f mm |", c.name, q.VersionNumber, c.dots, float64(QRModules(q.VersionNumber)*c.dots)/8)
		for _, mm := range creases {
			ok := 0
			for i := 0; i < cases; i++ {
				var buf bytes.Buffer
				if err := png.Encode(&buf, damage(img, mm, 0.2+0.1*float64(i/2), i%2 == 1)); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, "damaged.png")
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				if got, good := zbarimg(t, path); good && got == text {
					ok++
				}
			}
			read[ci] = append(read[ci], ok)
			fmt.Fprintf(&report, " %d/%d |", ok, cases)
		}
		report.WriteString("\n")
	}
	t.Logf("damaged typical passes read by zbarimg:\n%s", report.String())
	m, q5 := read[0], read[1]
	if q5[0] != cases {
		t.Errorf("level Q, 5 dots: read %d/%d passes with a 2 mm crease; want all", q5[0], cases)
	}
	for i := range creases {
		if q5[i] < m[i] {
			t.Errorf("%d mm crease: Q read %d, M %d; want Q at least as good", creases[i], q5[i], m[i])
		}
	}
}
