package printer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/terminal"
)

// TestDetect asks the emulator of each profile, on a real pseudo-terminal,
// who it is: the Epson models answer GS I with their names and the native
// QR probe, and are recognised; the clones answer neither, and get the
// profile their native QR (none) points to, with a reason naming the
// alternatives. Nothing is printed.
func TestDetect(t *testing.T) {
	for _, c := range []struct{ emulate, want string }{
		{"epson-tm-t20", "epson-tm-t20"},
		{"epson-tm-t88", "epson-tm-t88"},
		{"generic58", "generic58"},
		{"clone80-512", "generic58"},
	} {
		t.Run(c.emulate, func(t *testing.T) {
			prof := profileOrDie(t, c.emulate)
			vp := startVirtualPrinter(t, prof, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d, err := Detect(ctx, vp.link, 0, Options{StatusTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if d.Profile != c.want || d.NativeQR != prof.NativeQR {
				t.Errorf("detected %s (native QR %v); want %s (native QR %v): %+v", d.Profile, d.NativeQR, c.want, prof.NativeQR, d)
			}
			if len(prof.Models) > 0 && (d.Model != prof.Models[0] || d.Maker != prof.Maker) {
				t.Errorf("model %q %q; want %q %q", d.Maker, d.Model, prof.Maker, prof.Models[0])
			}
			if want := "serial:" + vp.link + "?baud=9600&profile=" + c.want; d.Spec != want {
				t.Errorf("spec %q; want %q", d.Spec, want)
			}
			if _, err := ParseSpec(d.Spec); err != nil {
				t.Errorf("proposed spec: %v", err)
			}
			if c.emulate == "clone80-512" && !strings.Contains(d.Reason, "clone80-512") {
				t.Errorf("reason %q does not name clone80-512 for 80 mm paper", d.Reason)
			}
			if n := len(vp.pngs(t)); n != 0 {
				t.Errorf("detection printed %d pages; want none", n)
			}
			if st := vp.em.Stats(); !st.Clean() {
				t.Errorf("emulator problems: %v", st.Problems())
			}
		})
	}
}

// TestDetectNoPrinter: a port where nothing answers at any rate is
// EDEVICE, saying so.
func TestDetectNoPrinter(t *testing.T) {
	p, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer p.Close()
	link := filepath.Join(t.TempDir(), "ttySILENT")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	_, err = Detect(context.Background(), link, 9600, Options{StatusTimeout: 100 * time.Millisecond})
	e := wantKind(t, err, terminal.EDEVICE)
	if !strings.Contains(e.Message, "no printer answers") {
		t.Errorf("message %q", e.Message)
	}
	_, err = Detect(context.Background(), filepath.Join(t.TempDir(), "nothing"), 9600, Options{})
	e = wantKind(t, err, terminal.EDEVICE)
	if !strings.Contains(e.Message, "no printer port") {
		t.Errorf("missing port: message %q", e.Message)
	}
}
