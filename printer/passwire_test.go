package printer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// peersDir holds passes printed by receiptline and node-thermal-printer
// (their README gives the QR text of each).
const peersDir = "../../shared/testdata/escpos-peers"

// TestPassWireTable: the bytes and seconds of one pass on the wire, for
// every profile, with the pass's QR text compact (the default once the
// feed's promise holds) and with the certificate embedded, at 9,600 and
// 115,200 baud and at the profile's own; beside them the streams of
// receiptline and node-thermal-printer, and Lango's slip carrying the same
// QR text as theirs. It requires a compact pass under 3 s at 9,600 baud
// on every profile. go test -run PassWireTable -v prints the table for
// docs/BENCHMARKS.md.
func TestPassWireTable(t *testing.T) {
	raw, err := os.ReadFile("../testdata/pass/typical-compact.txt")
	if err != nil {
		t.Fatal(err)
	}
	compact := strings.TrimSpace(string(raw))
	var tab strings.Builder
	fmt.Fprintf(&tab, "| profile | QR sent as | pass | QR text chars | job bytes | s at 9,600 | s at 115,200 | s at the profile's baud |\n|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, prof := range Profiles() {
		kind := "GS v 0"
		switch {
		case prof.NativeQR:
			kind = "native GS ( k"
		case prof.BitImageQR:
			kind = "ESC * lines"
		case prof.RasterDouble:
			kind = "GS v 0 mode 3"
		}
		kind += fmt.Sprintf(", %d dots, %s", prof.QRModule, levelNames[prof.qrLevel()])
		for _, v := range []struct{ name, text string }{{"compact", compact}, {"embedded", passText}} {
			slip := paidPass("en")
			slip.QR = v.text
			job, err := Render(prof, slip)
			if err != nil {
				t.Fatal(err)
			}
			s96 := wireSeconds(len(job), 9600)
			fmt.Fprintf(&tab, "| %s | %s | %s | %d | %d | %.2f | %.2f | %.2f at %d |\n", prof.Name, kind, v.name, len(v.text), len(job), s96, wireSeconds(len(job), 115200), wireSeconds(len(job), prof.Baud), prof.Baud)
			if v.name == "compact" && s96 >= 3 {
				t.Errorf("%s: a compact pass takes %.2f s at 9,600 baud; want under 3", prof.Name, s96)
			}
		}
	}
	fmt.Fprintf(&tab, "\n| stream | QR sent as | QR text chars | bytes | s at 9,600 | s at 115,200 |\n|---|---|---:|---:|---:|---:|\n")
	peers := []struct{ file, text, kind, like string }{
		{"receiptline-80mm-raster-qr.bin", "PEER-RECEIPTLINE-80MM-RASTER-QR-0001", "graphics (GS 8 L / GS ( L)", "clone80-512"},
		{"receiptline-58mm-raster-qr.bin", "PEER-RECEIPTLINE-58MM-RASTER-QR-0002", "graphics (GS 8 L / GS ( L)", "generic58"},
		{"node-thermal-printer-native-qr.bin", "PEER-NODE-THERMAL-NATIVE-QR-0003", "native GS ( k", "epson-tm-t20"},
	}
	for _, p := range peers {
		b, err := os.ReadFile(filepath.Join(peersDir, p.file))
		if err != nil {
			t.Skipf("peer streams: %v", err)
		}
		fmt.Fprintf(&tab, "| %s | %s | %d | %d | %.2f | %.2f |\n", p.file, p.kind, len(p.text), len(b), wireSeconds(len(b), 9600), wireSeconds(len(b), 115200))
		prof := profileOrDie(t, p.like)
		slip := paidPass("en")
		slip.QR = p.text
		job, err := Render(prof, slip)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&tab, "| Lango's pass slip, %s, same QR text | %s | %d | %d | %.2f | %.2f |\n", p.like, "as the profile", len(p.text), len(job), wireSeconds(len(job), 9600), wireSeconds(len(job), 115200))
	}
	t.Logf("a pass on the wire:\n%s", tab.String())
}
