package printer

import (
	"fmt"
	"strings"

	"github.com/lango-pos/lango/terminal"
)

// Printer kinds of a SPEC.
const (
	KindEmulator = "emulator"
	KindSerial   = "serial"
	KindNone     = "none"
)

// Spec is a parsed printer setting.
type Spec struct {
	Kind    string  // emulator, serial or none
	Path    string  // the output folder (emulator) or the device (serial)
	Baud    int     // serial only
	Flow    Flow    // serial only
	Profile Profile // the model jobs are laid out for
}

// Bauds lists the rates a serial printer setting may name.

// ParseSpec parses a printer SPEC: `emulator:DIR[?profile=NAME]`,
// `serial:PATH[?baud=N&profile=NAME&flow=none|xonxoff]` or `none`. Baud
// and flow default to the profile's; the profile defaults to generic58.
// Errors are EINVALID and say what is wrong.
func ParseSpec(s string) (Spec, error) {
	d, err := terminal.ParseDevice("printer", s)
	if err != nil {
		return Spec{}, err
	}
	prof, err := LookupProfile(d.Options["profile"])
	if err != nil {
		return Spec{}, err
	}
	sp := Spec{Kind: d.Kind, Path: d.Path, Profile: prof}
	if d.Kind != KindSerial {
		return sp, nil
	}
	sp.Baud, sp.Flow = prof.Baud, prof.Flow
	if d.Baud != 0 {
		sp.Baud = d.Baud
	}
	switch f := Flow(strings.ToLower(d.Options["flow"])); f {
	case "":
	case FlowNone, FlowXonXoff:
		sp.Flow = f
	default:
		return Spec{}, terminal.Errorf(terminal.EINVALID, "printer setting %q: flow %q: use none or xonxoff", s, f)
	}
	return sp, nil
}

// String formats s as a SPEC that ParseSpec reads back.
func (s Spec) String() string {
	switch s.Kind {
	case KindNone:
		return KindNone
	case KindEmulator:
		return fmt.Sprintf("emulator:%s?profile=%s", s.Path, s.Profile.Name)
	}
	return fmt.Sprintf("serial:%s?baud=%d&profile=%s&flow=%s", s.Path, s.Baud, s.Profile.Name, s.Flow)
}
