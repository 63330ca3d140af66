package printer

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
)

func BenchmarkRenderPass(b *testing.B) {
	for _, pn := range goldenProfiles {
		prof, _ := LookupProfile(pn)
		slip := paidPass("en")
		b.Run(pn, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				job, err := Render(prof, slip)
				if err != nil {
					b.Fatal(err)
				}
				n = len(job)
			}
			b.ReportMetric(float64(n), "bytes/job")
		})
	}
}

// BenchmarkEmulatorJob is the emulator's work for one pass: parse and
// render to an image, and the same plus PNG encoding (what emulator:DIR
// does for each job).
func BenchmarkEmulatorJob(b *testing.B) {
	for _, pn := range goldenProfiles {
		prof, _ := LookupProfile(pn)
		job, err := Render(prof, paidPass("en"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(pn+"/render", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(job)))
			for b.Loop() {
				if _, _, err := emulator.Render(job, prof.emulatorConfig()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(pn+"/render+png", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(job)))
			enc := png.Encoder{CompressionLevel: png.BestCompression}
			for b.Loop() {
				pages, _, err := emulator.Render(job, prof.emulatorConfig())
				if err != nil {
					b.Fatal(err)
				}
				if err := enc.Encode(io.Discard, pages[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// wireSeconds is the time bytes take on a serial line at baud, 8N1.
func wireSeconds(n, baud int) float64 { return float64(n) * 10 / float64(baud) }

// TestWireSizes computes the bytes a pass puts on the wire with native and
// raster QR on each paper width, and the time that takes at 9600 and
// 115200 baud; go test -run WireSizes -v prints the table for
// docs/ESCPOS.md. It fails if native QR stops being the cheap option.
func TestWireSizes(t *testing.T) {
	var tab strings.Builder
	fmt.Fprintf(&tab, "| profile | QR | module | pass job bytes | QR bytes | s at 9600 | s at 115200 |\n|---|---|---|---|---|---|---|\n")
	for _, pn := range goldenProfiles {
		prof, _ := LookupProfile(pn)
		var native, raster int
		for _, nat := range []bool{true, false} {
			p := prof
			p.NativeQR = nat
			job, err := Render(p, paidPass("en"))
			if err != nil {
				t.Fatal(err)
			}
			qr := qrBytes(t, job)
			kind := "raster"
			if nat {
				kind, native = "native", len(job)
			} else {
				raster = len(job)
			}
			mark := ""
			if nat == prof.NativeQR {
				mark = " (profile)"
			}
			fmt.Fprintf(&tab, "| %s | %s%s | %d | %d | %d | %.1f | %.2f |\n", pn, kind, mark, p.QRModule, len(job), qr, wireSeconds(len(job), 9600), wireSeconds(len(job), 115200))
		}
		if native*2 > raster {
			t.Errorf("%s: native pass %d bytes, raster %d: native should be far smaller", pn, native, raster)
		}
	}
	// The QR alone at other module sizes, and with GS v 0 mode 3 (the
	// printer doubles a half-resolution image), which the profiles do not
	// use yet.
	fmt.Fprintf(&tab, "\n| QR of the pass as raster | bytes | s at 9600 | s at 115200 |\n|---|---|---|---|\n")
	for _, v := range []struct {
		name          string
		module, scale int
	}{{"3 dots/module", 3, 1}, {"4 dots/module", 4, 1}, {"5 dots/module", 5, 1}, {"4 dots/module as 2×2 (GS v 0 mode 3)", 2, 2}, {"6 dots/module as 3×3 sent 2×2 (mode 3)", 3, 2}} {
		bm, err := escpos.QRBitmap(passText, qrLevel, v.module, 4, 0)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		e := escpos.NewEncoder(&buf, escpos.CP437)
		e.RasterScaled(bm, v.scale, 0)
		fmt.Fprintf(&tab, "| %s, %d×%d dots | %d | %.1f | %.2f |\n", v.name, bm.Width*v.scale, bm.Height*v.scale, buf.Len(), wireSeconds(buf.Len(), 9600), wireSeconds(buf.Len(), 115200))
	}
	t.Logf("pass QR text: %d bytes\n%s", len(passText), tab.String())
}

// qrBytes counts the bytes of a job's QR commands (GS ( k, GS v 0, ESC *).
func qrBytes(t *testing.T, job []byte) int {
	t.Helper()
	n := 0
	for off := 0; off < len(job); {
		c, err := escpos.Next(job[off:])
		if err != nil {
			t.Fatal(err)
		}
		if c.Op == escpos.OpSymbol || c.Op == escpos.OpRaster || c.Op == escpos.OpBitImage {
			n += len(c.Raw)
		}
		off += len(c.Raw)
	}
	return n
}
