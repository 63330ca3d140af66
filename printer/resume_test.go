package printer

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// MarkInterrupted makes memStore a ResumeStore.
func (s *memStore) MarkInterrupted(ctx context.Context, job Job, at int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.find(job.ID)
	if !bytes.Equal(j.Data, job.Data) {
		return nil
	}
	j.From = at
	return nil
}

// cuttingPort is a real serial port that cancels a context once n bytes
// were written to it: an interruption at a known byte, with no clock.
type cuttingPort struct {
	port
	mu      sync.Mutex
	written int
	n       int
	cancel  context.CancelFunc
}

func (p *cuttingPort) Write(b []byte) (int, error) {
	n, err := p.port.Write(b)
	p.mu.Lock()
	p.written += n
	if p.n > 0 && p.written >= p.n {
		p.cancel()
		p.n = 0
	}
	p.mu.Unlock()
	return n, err
}

// imageSpan is the first and last byte of job's image (GS v 0 bands or
// ESC * lines).
func imageSpan(t *testing.T, job []byte) (start, end int) {
	t.Helper()
	start = -1
	for pos := 0; pos < len(job); {
		c, err := escpos.Next(job[pos:])
		if err != nil {
			t.Fatal(err)
		}
		if c.Op == escpos.OpRaster || c.Op == escpos.OpBitImage {
			if start < 0 {
				start = pos
			}
			end = pos + len(c.Raw)
			if c.Op == escpos.OpBitImage {
				end++ // its line feed
			}
		}
		pos += len(c.Raw)
	}
	if start < 0 {
		t.Fatal("the job has no raster image")
	}
	return start, end
}

// TestInterruptedJobResumes: a raster pass whose sending is interrupted in
// the middle of its QR image, on a real pseudo-terminal, finishes the
// image, stops, and resumes from there: the emulator's paper is one slip,
// dot for dot the slip of an uninterrupted print, with exactly one QR code
// that zbarimg reads. Before, the image's first bands printed, then the
// whole pass again (and the emulator hid it by dropping the paper at DLE
// DC4 8, which a printer cannot do).
func TestInterruptedJobResumes(t *testing.T) {
	for _, pn := range []string{"generic58", "generic58-2x", "clone80-512"} {
		t.Run(pn, func(t *testing.T) {
			prof := profileOrDie(t, pn)
			vp := startVirtualPrinter(t, prof, nil)
			spec, err := ParseSpec("serial:" + vp.link + "?baud=115200&profile=" + pn)
			if err != nil {
				t.Fatal(err)
			}
			job, err := Render(prof, paidPass("en"))
			if err != nil {
				t.Fatal(err)
			}
			start, end := imageSpan(t, job)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := NewSerial(spec, Options{})
			t.Cleanup(func() { s.Close() })
			first := true
			s.open = func(path string, baud int) (port, error) {
				pt, err := openSerial(path, baud)
				if err != nil || !first {
					return pt, err
				}
				first = false
				// Session start (12 bytes) and three status queries (9)
				// come before the job: cut half way through the image.
				return &cuttingPort{port: pt, n: 21 + (start+end)/2, cancel: cancel}, nil
			}
			store := &memStore{}
			store.add("pass-1", job)
			sp := NewSpool(store, s, SpoolOptions{})

			_, perr := sp.PrintPending(ctx)
			wantKind(t, perr, terminal.EDEVICE)
			from := store.find("pass-1").From
			if from < end || from >= len(job) {
				t.Fatalf("interrupted at byte %d; want past the image's end %d and before the job's end %d", from, end, len(job))
			}
			if n := len(vp.pngs(t)); n != 0 {
				t.Fatalf("%d slips cut after the interruption; want 0", n)
			}

			wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer wcancel()
			if n, err := sp.PrintPending(wctx); err != nil || n != 1 {
				t.Fatalf("resume: %d printed, %v; want 1, nil", n, err)
			}
			files := vp.pngs(t)
			if len(files) != 1 {
				t.Fatalf("%d slips; want 1", len(files))
			}
			if got := zbarDecode(t, files[0]); len(got) != 1 || got[0] != passText {
				t.Errorf("the slip's QR codes decode to %q; want the pass text once", got)
			}
			if st := vp.em.Stats(); !st.Clean() {
				t.Errorf("emulator problems: %v", st.Problems())
			}
			// Dot for dot the slip of the job printed in one go.
			want, _, err := emulator.Render(job, prof.emulatorConfig())
			if err != nil || len(want) != 1 {
				t.Fatalf("render: %d pages, %v", len(want), err)
			}
			got := readPNG(t, files[0])
			if !samePaper(got, want[0]) {
				t.Errorf("the resumed slip (%v) differs from an uninterrupted one (%v)", got.Bounds(), want[0].Bounds())
			}
		})
	}
}

func readPNG(t *testing.T, name string) image.Image {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func samePaper(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, _, _, _ := a.At(x, y).RGBA()
			br, _, _, _ := b.At(x, y).RGBA()
			if (ar < 0x8000) != (br < 0x8000) {
				return false
			}
		}
	}
	return true
}

// TestStopPoint: the points where a job may stop are past whole images
// and whole lines, and the prefix replays modes only.
func TestStopPoint(t *testing.T) {
	var b bytes.Buffer
	e := escpos.NewEncoder(&b, escpos.CP437)
	e.Init()
	e.Align(escpos.Center)
	e.Bold(true)
	e.Line("title")
	afterTitle := b.Len()
	e.Text("half a ")
	e.Line("line")
	afterLine := b.Len()
	bm := escpos.NewBitmap(64, 40)
	bm.Set(3, 3)
	e.Raster(bm, 64) // 8 rows a band: 5 bands
	afterImage := b.Len()
	e.Line("tail")
	afterTail := b.Len()
	lines := escpos.NewBitmap(16, 20) // 3 lines of ESC *
	lines.Set(1, 1)
	e.BitImageLines(lines, 3)
	e.FeedDots(12)
	afterLines := b.Len()
	e.Line("end")
	job := b.Bytes()
	for _, c := range []struct{ sent, want int }{
		{0, 0},
		{1, afterTitle},
		{afterTitle, afterTitle},
		{afterTitle + 2, afterLine},
		{afterLine + 1, afterImage},
		{afterImage - 3, afterImage},
		{afterTail + 1, afterLines},
		{afterTail + 3 + 5 + 48 + 1 + 2, afterLines}, // between two ESC * lines
		{len(job) - 1, len(job)},
	} {
		if got := escpos.StopPoint(job, c.sent); got != c.want {
			t.Errorf("StopPoint(%d) = %d; want %d", c.sent, got, c.want)
		}
	}
	prefix := escpos.ResumePrefix(job, afterImage)
	want := []byte{escpos.ESC, '@', escpos.ESC, 't', 0, escpos.ESC, 'a', 1, escpos.ESC, 'E', 1}
	if !bytes.Equal(prefix, want) {
		t.Errorf("ResumePrefix = % x; want % x", prefix, want)
	}
}

// TestPrintedWhole: the point a job can go on from after its sender died
// with job[:sent] written is the end of the last whole line, feed, band
// or ESC * line sent, never inside one; unlike StopPoint it does not run
// on to the end of an image, and never past sent.
func TestPrintedWhole(t *testing.T) {
	var b bytes.Buffer
	e := escpos.NewEncoder(&b, escpos.CP437)
	e.Init()
	e.Line("title")
	afterTitle := b.Len()
	bm := escpos.NewBitmap(64, 40)
	bm.Set(3, 3)
	e.Raster(bm, 64) // 8 rows a band: 5 bands of 8 + 64 bytes
	band := 8 + 64
	afterImage := b.Len()
	e.Text("half a ")
	e.Line("line")
	afterLine := b.Len()
	lines := escpos.NewBitmap(16, 20) // 3 lines of ESC *
	lines.Set(1, 1)
	e.BitImageLines(lines, 3)
	firstLine := afterLine + 3 + 5 + 48 + 1 // ESC 3 24, ESC * header, 48 columns, LF
	job := b.Bytes()
	for _, c := range []struct{ from, sent, want int }{
		{0, 0, 0},
		{0, 3, 0},
		{0, afterTitle - 1, 0},
		{0, afterTitle, afterTitle},
		{0, afterTitle + band - 1, afterTitle},
		{0, afterTitle + band, afterTitle + band}, // one band: on paper
		{afterTitle, afterTitle + 2*band + 5, afterTitle + 2*band},
		{0, afterImage + 3, afterImage},
		{afterImage, afterLine - 1, afterImage}, // the text without its LF
		{0, afterLine, afterLine},
		{0, firstLine - 1, afterLine},
		{0, firstLine, firstLine},
		{afterLine, len(job) + 10, len(job) - 2}, // the trailing ESC 2 prints nothing
	} {
		if got := escpos.PrintedWhole(job, c.from, c.sent); got != c.want {
			t.Errorf("PrintedWhole(%d, %d) = %d; want %d", c.from, c.sent, got, c.want)
		}
	}
}
