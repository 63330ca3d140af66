package printer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
)

// The peers' comparison (issue 20): receiptline and node-thermal-printer
// print Lango's own pass, the same slip and the same QR text, and the
// bytes they send are set beside Lango's. scripts/peers/peers.js reads
// the slips this file writes (scripts/peers/slips/PROFILE.json) and
// writes its streams to testdata/printer/peers/; it is run by hand (npm),
// never by make test. These tests check that the slips are what Lango
// lays out and that every committed peer stream prints that pass: the
// emulator renders it without an unknown or malformed command and the QR
// on the paper decodes to the exact pass text.

const (
	peerSlipDir   = "../scripts/peers/slips"
	peerStreamDir = "../testdata/printer/peers"
)

// peerSlip is what the script gets for one profile: the paper, the QR
// choice and the slip's elements as Lango lays them out.
type peerSlip struct {
	Profile   string            `json:"profile"`
	Columns   int               `json:"columns"`
	WidthDots int               `json:"width_dots"`
	CodePage  string            `json:"code_page"`
	NativeQR  bool              `json:"native_qr"`
	QRModule  int               `json:"qr_module"`
	QRLevel   string            `json:"qr_level"`
	Passes    map[string]string `json:"passes"` // "compact", "embedded": the QR text
	Items     []traceItem       `json:"items"`
}

// peerPasses are the pass texts compared: the typical pass compact (the
// default once the feed's promise holds) and with its certificate.
func peerPasses(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/pass/typical-compact.txt")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"compact": strings.TrimSpace(string(raw)), "embedded": passText}
}

// ourPeerSlip lays out the paid typical pass on prof and records it.
func ourPeerSlip(t *testing.T, prof Profile) peerSlip {
	t.Helper()
	ps := peerSlip{Profile: prof.Name, Columns: prof.Columns, WidthDots: prof.WidthDots, CodePage: prof.codePage().Name,
		NativeQR: prof.NativeQR, QRModule: prof.QRModule, QRLevel: levelNames[prof.qrLevel()], Passes: peerPasses(t)}
	slip := paidPass("en")
	l := Layout{Profile: prof, trace: func(it traceItem) {
		if it.Kind == "qr" {
			it.Text = "" // the pass text is in Passes
		}
		ps.Items = append(ps.Items, it)
	}}
	if _, err := l.Render(slip); err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestPeerSlips: the slips handed to the peers are the ones Lango prints
// (go test ./printer -run PeerSlips -update rewrites them).
func TestPeerSlips(t *testing.T) {
	if *update {
		if err := os.MkdirAll(peerSlipDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, prof := range Profiles() {
		ps := ourPeerSlip(t, prof)
		got, err := json.MarshalIndent(ps, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		name := filepath.Join(peerSlipDir, prof.Name+".json")
		if *update {
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (go test ./printer -run PeerSlips -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the slip Lango lays out: run go test ./printer -run PeerSlips -update, then scripts/peers (npm start)", name)
		}
		if n := strings.Count(string(got), `"kind": "qr"`); n != 1 {
			t.Errorf("%s: %d QR codes; want 1", name, n)
		}
	}
}

// peerStream is one stream the script wrote: LIB-PROFILE-PASS.bin.
type peerStream struct {
	lib, profile, pass, file string
}

func peerStreams(t *testing.T) []peerStream {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(peerStreamDir, "*.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var out []peerStream
	for _, n := range names {
		base := strings.TrimSuffix(filepath.Base(n), ".bin")
		i, j := strings.Index(base, "_"), strings.LastIndex(base, "_")
		if i < 0 || i == j {
			t.Fatalf("%s: want LIB_PROFILE_PASS.bin", n)
		}
		out = append(out, peerStream{lib: base[:i], profile: base[i+1 : j], pass: base[j+1:], file: n})
	}
	if len(out) == 0 {
		t.Fatalf("no peer streams in %s (run scripts/peers)", peerStreamDir)
	}
	return out
}

// TestPeerStreamsPrintOurPass: every stream receiptline and
// node-thermal-printer made of Lango's pass prints on the profile's paper
// with nothing unknown or malformed, and its QR reads back, with zbarimg,
// as the exact pass text: the bytes compared are for the same pass.
func TestPeerStreamsPrintOurPass(t *testing.T) {
	passes := peerPasses(t)
	dir := t.TempDir()
	for _, s := range peerStreams(t) {
		t.Run(filepath.Base(s.file), func(t *testing.T) {
			prof := profileOrDie(t, s.profile)
			want, ok := passes[s.pass]
			if !ok {
				t.Fatalf("unknown pass %q", s.pass)
			}
			job, err := os.ReadFile(s.file)
			if err != nil {
				t.Fatal(err)
			}
			pages, st, err := emulator.Render(job, prof.emulatorConfig())
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Unknown) > 0 || len(st.Malformed) > 0 {
				t.Errorf("emulator: unknown %v, malformed %v", st.Unknown, st.Malformed)
			}
			if len(pages) != 1 {
				t.Fatalf("%d pages; want 1", len(pages))
			}
			png := filepath.Join(dir, filepath.Base(s.file)+".png")
			writePNG(t, png, pages[0])
			got := zbarDecode(t, png)
			if w := streamImageWidth(job); w > prof.WidthDots {
				// The library sent a symbol wider than the paper: the
				// printer cuts it at the edge. It must not scan, or the
				// emulator is drawing what a printer cannot.
				if len(got) > 0 && got[0] != "" {
					t.Errorf("a QR image %d dots wide on %d-dot paper decoded", w, prof.WidthDots)
				}
				return
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("QR decodes to %.40q…; want the %s pass (%d chars)", got, s.pass, len(want))
			}
		})
	}
}

// peerTable is the table of docs/BENCHMARKS.md (Printing): for each
// profile and pass, Lango's job beside the peers' streams.
func peerTable(t *testing.T) string {
	t.Helper()
	passes := peerPasses(t)
	byKey := map[string][]peerStream{}
	for _, s := range peerStreams(t) {
		byKey[s.profile+"/"+s.pass] = append(byKey[s.profile+"/"+s.pass], s)
	}
	var tab strings.Builder
	fmt.Fprintf(&tab, "| profile | pass | sender | QR sent as | bytes | s at 9,600 | s at 115,200 |\n|---|---|---|---|---:|---:|---:|\n")
	for _, prof := range Profiles() {
		for _, pass := range []string{"compact", "embedded"} {
			slip := paidPass("en")
			slip.QR = passes[pass]
			job, err := Render(prof, slip)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&tab, "| %s | %s | Lango | %s | %d | %.2f | %.2f |\n", prof.Name, pass, qrKind(prof), len(job), wireSeconds(len(job), 9600), wireSeconds(len(job), 115200))
			for _, s := range byKey[prof.Name+"/"+pass] {
				b, err := os.ReadFile(s.file)
				if err != nil {
					t.Fatal(err)
				}
				kind := streamQRKind(b)
				if w := streamImageWidth(b); w > prof.WidthDots {
					kind += fmt.Sprintf(": %d dots wide, wider than the paper, does not scan", w)
				}
				fmt.Fprintf(&tab, "| | | %s | %s | %d | %.2f | %.2f |\n", s.lib, kind, len(b), wireSeconds(len(b), 9600), wireSeconds(len(b), 115200))
			}
		}
	}
	return tab.String()
}

func qrKind(prof Profile) string {
	kind := "GS v 0"
	switch {
	case prof.NativeQR:
		kind = "native GS ( k"
	case prof.BitImageQR:
		kind = "ESC * lines"
	case prof.RasterDouble:
		kind = "GS v 0 mode 3"
	}
	return kind + fmt.Sprintf(", %d dots, %s", prof.QRModule, levelNames[prof.qrLevel()])
}

// streamQRKind says how a peer's stream sends its QR code.
func streamQRKind(b []byte) string {
	switch {
	case bytes.Contains(b, []byte{0x1D, '(', 'k'}):
		return "native GS ( k"
	case bytes.Contains(b, []byte{0x1D, '8', 'L'}):
		return "graphics GS 8 L"
	case bytes.Contains(b, []byte{0x1D, '(', 'L'}):
		return "graphics GS ( L"
	case bytes.Contains(b, []byte{0x1D, 'v', '0'}):
		return "raster GS v 0"
	}
	return "?"
}

// streamImageWidth is the width in dots of the widest image in a stream
// (GS 8 L graphics, GS v 0 raster), 0 if it has none.
func streamImageWidth(b []byte) int {
	w := 0
	for len(b) > 0 {
		c, err := escpos.Next(b)
		if err != nil {
			return w
		}
		switch {
		case c.Op == escpos.OpGraphicsLong && len(c.Raw) > 14:
			// GS 8 L p1-p4 m fn a bx by c xL xH yL yH
			w = max(w, int(c.Raw[13])|int(c.Raw[14])<<8)
		case c.Op == escpos.OpRaster && len(c.Raw) > 5:
			// GS v 0 m xL xH yL yH: x in bytes
			w = max(w, 8*(int(c.Raw[4])|int(c.Raw[5])<<8))
		}
		b = b[len(c.Raw):]
	}
	return w
}
