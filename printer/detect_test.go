package printer

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/printer/emulator"
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

// TestDetectByModelID: a printer that answers GS I 1 with 0x20 (the TM-T88
// series' id, which emulating clones give too) and no model name, on a
// real pseudo-terminal: without native QR it is proposed clone80-512,
// with it epson-tm-t88; an id no table row has gets the generic profile.
func TestDetectByModelID(t *testing.T) {
	for _, c := range []struct {
		id     byte
		native bool
		want   string
	}{{0x20, false, "clone80-512"}, {0x20, true, "epson-tm-t88"}, {0x5A, true, "generic58"}} {
		t.Run(fmt.Sprintf("0x%02X native %v", c.id, c.native), func(t *testing.T) {
			vp := startVirtualPrinter(t, profileOrDie(t, "generic58"), func(cfg *emulator.Config) {
				cfg.Identity = emulator.Identity{ModelID: c.id, TypeID: 0x02, NativeQR: c.native}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d, err := Detect(ctx, vp.link, 0, Options{StatusTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if d.ModelID != int(c.id) || d.NativeQR != c.native || d.Profile != c.want {
				t.Errorf("model id %d, native QR %v, profile %s; want %d, %v, %s (%s)", d.ModelID, d.NativeQR, d.Profile, c.id, c.native, c.want, d.Reason)
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

// TestChooseProfile: the profile proposed for each answer a printer can
// give: a model name a profile knows wins; a known GS I 1 model id points
// to a profile by the native QR probe; an unknown id, or none, gets the
// generic profile and a message saying what was not known and what to
// try.
func TestChooseProfile(t *testing.T) {
	for _, c := range []struct {
		name   string
		d      Detection
		want   string
		reason []string // each must be in the reason
	}{
		{"TM-T20 by name", Detection{ModelID: -1, Maker: "EPSON", Model: "TM-T20II", NativeQR: true}, "epson-tm-t20", []string{"EPSON TM-T20II"}},
		{"TM-T88 by name, the name beats the id", Detection{ModelID: 0x7E, Maker: "EPSON", Model: "TM-T88V", NativeQR: true}, "epson-tm-t88", []string{"TM-T88V"}},
		{"0x20 with native QR", Detection{ModelID: 0x20, NativeQR: true}, "epson-tm-t88", []string{"0x20", "TM-T88", "draws QR codes"}},
		{"0x20 without native QR", Detection{ModelID: 0x20}, "clone80-512", []string{"0x20", "does not draw QR codes", "lango printer test"}},
		{"0x20 with a name no profile knows", Detection{ModelID: 0x20, Maker: "BIXOLON", Model: "SRP-350"}, "clone80-512", []string{`"SRP-350"`, "0x20"}},
		{"unknown id with native QR", Detection{ModelID: 0x7F, NativeQR: true}, "generic58", []string{"0x7F is not one Lango knows", "generic", "epson-tm-t88"}},
		{"unknown id without native QR", Detection{ModelID: 0x55}, "generic58", []string{"0x55 is not one Lango knows", "generic", "clone80-512", "generic58-2x"}},
		{"id 0 is an id", Detection{ModelID: 0}, "generic58", []string{"0x00 is not one Lango knows"}},
		{"no answer at all", Detection{ModelID: -1}, "generic58", []string{"does not say its model", "generic"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, reason := ChooseProfile(c.d)
			if p.Name != c.want {
				t.Errorf("profile %s; want %s (reason %q)", p.Name, c.want, reason)
			}
			for _, w := range c.reason {
				if !strings.Contains(reason, w) {
					t.Errorf("reason %q; want it to say %q", reason, w)
				}
			}
		})
	}
	for _, m := range ModelIDs {
		for _, n := range []string{m.Native, m.Raster} {
			p, err := LookupProfile(n)
			if err != nil || p.Name != n {
				t.Errorf("model id 0x%02X points to %q: %v", m.ID, n, err)
			}
		}
		if nat, _ := LookupProfile(m.Native); !nat.NativeQR {
			t.Errorf("model id 0x%02X: %s for a printer that draws QR codes has no native QR", m.ID, m.Native)
		}
		if ras, _ := LookupProfile(m.Raster); ras.NativeQR {
			t.Errorf("model id 0x%02X: %s for a printer that does not draw QR codes sends native QR", m.ID, m.Raster)
		}
	}
}
