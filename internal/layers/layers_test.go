package layers

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/lango-pos/lango/"

// deps returns, for every package of the module, the packages of the
// module it depends on (directly or not), as go list sees them.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	g := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		p := strings.TrimPrefix(f[0], module)
		g[p] = nil
		for _, d := range f[1:] {
			if strings.HasPrefix(d, module) {
				g[p] = append(g[p], strings.TrimPrefix(d, module))
			}
		}
	}
	return g
}

// TestPackageGraph: the domain and the wire format stand alone, and the
// kiosk, the sync client, the print station and the card desk reach the
// store only through the interfaces they declare; only the commands wire
// the SQLite store in.
func TestPackageGraph(t *testing.T) {
	g := deps(t)
	for _, p := range []string{"terminal", "sync/wire"} {
		if _, ok := g[p]; !ok {
			t.Fatalf("go list does not know %s", p)
		}
		if len(g[p]) != 0 {
			t.Errorf("%s depends on %v; it must import no package of the project", p, g[p])
		}
	}
	for _, p := range []string{"terminal/ui", "sync/client", "terminal/printing", "terminal/carddesk", "terminal/pass", "terminal/pay", "printer"} {
		for _, d := range g[p] {
			if d == "terminal/sqlite" {
				t.Errorf("%s depends on terminal/sqlite; it must use an interface it declares", p)
			}
		}
	}
	for p, ds := range g {
		if strings.HasPrefix(p, "cmd/") || strings.HasPrefix(p, "terminal/sqlite") {
			continue
		}
		for _, d := range ds {
			if d == "terminal/sqlite" {
				t.Errorf("%s depends on terminal/sqlite: only cmd/ wires the store in", p)
			}
		}
	}
}
