package printer

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestPassWireTable: the bytes and seconds of one pass on the wire, for
// every profile, with the pass's QR text compact (the default once the
// feed's promise holds) and with the certificate embedded, at 9,600 and
// 115,200 baud and at the profile's own; beside them the streams
// receiptline and node-thermal-printer make of the same pass
// (scripts/peers, testdata/printer/peers). It requires a compact pass under 3 s at 9,600 baud
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
		kind := qrKind(prof)
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
	fmt.Fprintf(&tab, "\nBeside receiptline and node-thermal-printer, printing the same pass (scripts/peers):\n\n%s", peerTable(t))
	t.Logf("a pass on the wire:\n%s", tab.String())
}
