package emulator

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/printer/escpos"
)

// peersDir holds the streams other libraries produce (shared test data).
const peersDir = "../../../shared/testdata/escpos-peers"

// decodeQR runs zbarimg on img and returns the decoded texts.
func decodeQR(t *testing.T, img image.Image) []string {
	t.Helper()
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	f := filepath.Join(t.TempDir(), "page.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbar, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", f).Output()
	if err != nil {
		t.Logf("zbarimg %s: %v", f, err)
		return nil
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

func TestPeerStreams(t *testing.T) {
	tests := []struct {
		file  string
		width int
		qr    string
	}{
		{"receiptline-80mm-raster-qr.bin", 576, "PEER-RECEIPTLINE-80MM-RASTER-QR-0001"},
		{"receiptline-58mm-raster-qr.bin", 384, "PEER-RECEIPTLINE-58MM-RASTER-QR-0002"},
		{"node-thermal-printer-native-qr.bin", 576, "PEER-NODE-THERMAL-NATIVE-QR-0003"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			stream, err := os.ReadFile(filepath.Join(peersDir, tt.file))
			if err != nil {
				t.Skipf("shared peer streams not present: %v", err)
			}
			pages, st, err := Render(stream, Config{WidthDots: tt.width})
			if err != nil {
				t.Fatal(err)
			}
			if !st.Clean() {
				t.Errorf("problems: %v", st.Problems())
			}
			if len(pages) != 1 {
				t.Fatalf("got %d jobs; want 1", len(pages))
			}
			if out := os.Getenv("LANGO_EMULATOR_OUT"); out != "" {
				writePNG(t, filepath.Join(out, strings.TrimSuffix(tt.file, ".bin")+".png"), pages[0])
			}
			got := decodeQR(t, pages[0])
			if len(got) != 1 || got[0] != tt.qr {
				t.Errorf("QR decodes to %q; want %q", got, tt.qr)
			}
		})
	}
}

func writePNG(t *testing.T, name string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStatusReplies(t *testing.T) {
	e, err := New(Config{WidthDots: 384})
	if err != nil {
		t.Fatal(err)
	}
	query := func() []byte {
		t.Helper()
		var q []byte
		for _, n := range []byte{1, 2, 4} {
			q = append(q, escpos.StatusQuery(n)...)
		}
		q = append(q, escpos.JobDoneQuery()...)
		out, err := e.Feed(q)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name string
		set  func()
		want []byte
		code string
	}{
		{"ready", func() {}, []byte{0x12, 0x12, 0x12, 0x00}, "ready"},
		{"near end", func() { e.SetPaperNearEnd(true) }, []byte{0x12, 0x12, 0x1E, 0x03}, "paper_low"},
		{"paper out", func() { e.SetPaperOut(true) }, []byte{0x1A, 0x32, 0x7E, 0x0F}, "paper_out"},
		{"cover open", func() { e.SetPaperOut(false); e.SetPaperNearEnd(false); e.SetCoverOpen(true) }, []byte{0x1A, 0x16, 0x12, 0x00}, "cover_open"},
	}
	for _, tt := range tests {
		tt.set()
		got := query()
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s: replies % X; want % X", tt.name, got, tt.want)
			continue
		}
		st, err := escpos.DecodeStatus(got[0], got[1], got[2])
		if err != nil {
			t.Fatal(err)
		}
		if st.Code() != tt.code {
			t.Errorf("%s: decoded %s; want %s", tt.name, st.Code(), tt.code)
		}
	}
}

// A status query split across reads, and one inside raster data, are both
// answered at once, as a printer's receive interrupt does.
func TestRealtimeAnywhere(t *testing.T) {
	e, err := New(Config{WidthDots: 384})
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range [][]byte{{escpos.DLE}, {0x04}, {0x01}} {
		out, err := e.Feed(chunk)
		if err != nil {
			t.Fatal(err)
		}
		if chunk[0] == 0x01 && !bytes.Equal(out, []byte{0x12}) {
			t.Errorf("split query answered % X; want 12", out)
		}
	}
	raster := []byte{escpos.GS, 'v', '0', 0, 3, 0, 1, 0, escpos.DLE, 0x04, 0x04}
	out, err := e.Feed(raster)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, []byte{0x12}) {
		t.Errorf("query inside raster answered % X; want 12", out)
	}
}

func TestPaperOutDropsJob(t *testing.T) {
	var pages int
	e, err := New(Config{WidthDots: 384, Sink: func(Page) error { pages++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	job := []byte("\x1b@hello\n\x1dVA\x00")
	e.SetPaperOut(true)
	if _, err := e.Feed(job); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); pages != 0 || st.Dropped != 1 {
		t.Fatalf("paper out: %d pages, %d dropped; want 0, 1", pages, st.Dropped)
	}
	e.SetPaperOut(false)
	if _, err := e.Feed(job); err != nil {
		t.Fatal(err)
	}
	if pages != 1 {
		t.Fatalf("paper back: %d pages; want 1", pages)
	}
}

func TestUnknownAndTruncated(t *testing.T) {
	e, err := New(Config{WidthDots: 384})
	if err != nil {
		t.Fatal(err)
	}
	// ESC y is no command; GS v 0 declares 3×2 bytes and gets 2.
	if _, err := e.Feed([]byte("\x1byAB\n\x1dv0\x00\x03\x00\x02\x00\xff\xff")); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	if st.Unknown["ESC y"] != 1 {
		t.Errorf("unknown = %v; want ESC y once", st.Unknown)
	}
	if len(st.Malformed) != 1 || !strings.Contains(st.Malformed[0], "GS v") {
		t.Errorf("malformed = %q; want the truncated GS v 0", st.Malformed)
	}
	if st.Jobs != 1 {
		t.Errorf("jobs = %d; want 1 (the text before)", st.Jobs)
	}
}

func TestOversizedCommandSkipped(t *testing.T) {
	e, err := New(Config{WidthDots: 384})
	if err != nil {
		t.Fatal(err)
	}
	// GS 8 L declaring 4 GiB, followed by bytes it swallows.
	stream := []byte{escpos.GS, '8', 'L', 0xff, 0xff, 0xff, 0xff, '0', 'p', 'x'}
	if _, err := e.Feed(stream); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); len(st.Malformed) != 1 {
		t.Errorf("malformed = %q; want one report", st.Malformed)
	}
}

func TestDirSinkNumbersOn(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job-000041.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sink, err := DirSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	pages, _, err := Render([]byte("x\n\x1dV\x00y\n\x1dV\x00"), Config{WidthDots: 384})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		if err := sink(Page{Image: p}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"job-000042.png", "job-000043.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
}

// TestClearBuffersDropsCutOffCommand: a host that died inside a raster
// image leaves the printer waiting for the rest of it; DLE DC4 8 drops the
// unfinished command (what printed before it stays on the slip), so the
// next job prints whole, once.
func TestClearBuffersDropsCutOffCommand(t *testing.T) {
	var pages []Page
	e, err := New(Config{WidthDots: 384, Sink: func(p Page) error { pages = append(pages, p); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	// GS v 0: 48 bytes a row, 200 rows declared; only 100 bytes arrive.
	cutOff := append([]byte("\x1b@first job\n\x1dv0\x00\x30\x00\xc8\x00"), make([]byte, 100)...)
	if _, err := e.Feed(cutOff); err != nil {
		t.Fatal(err)
	}
	next := append(escpos.ClearBuffers(), []byte("\x1b@second job\n\x1dVA\x00")...)
	for _, b := range next { // byte by byte: the sequence may arrive split
		if _, err := e.Feed([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	if len(pages) != 1 {
		t.Fatalf("%d pages; want 1 (the first line, then the second job)", len(pages))
	}
	if st := e.Stats(); st.Cleared != 1 {
		t.Errorf("cleared %d times; want 1", st.Cleared)
	}
	// Without the clear, the second job would have been swallowed as raster
	// data: check that the test can fail.
	var swallowed []Page
	e2, _ := New(Config{WidthDots: 384, Sink: func(p Page) error { swallowed = append(swallowed, p); return nil }})
	e2.Feed(cutOff)
	e2.Feed([]byte("\x1b@second job\n\x1dVA\x00"))
	if len(swallowed) != 0 {
		t.Errorf("without DLE DC4 8 the second job printed; the test proves nothing")
	}
}
