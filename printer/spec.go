package printer

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
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
var bauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}

const specHelp = "use emulator:DIR, serial:PATH[?baud=N&profile=NAME] or none"

// ParseSpec parses a printer SPEC: `emulator:DIR[?profile=NAME]`,
// `serial:PATH[?baud=N&profile=NAME&flow=none|xonxoff]` or `none`. Baud
// and flow default to the profile's; the profile defaults to generic58.
// Errors are EINVALID and say what is wrong.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Spec{}, terminal.Errorf(terminal.EINVALID, "the printer setting is empty: %s", specHelp)
	}
	if strings.EqualFold(s, KindNone) {
		p, _ := LookupProfile(DefaultProfile)
		return Spec{Kind: KindNone, Profile: p}, nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	if !ok || (kind != KindEmulator && kind != KindSerial) {
		return Spec{}, terminal.Errorf(terminal.EINVALID, "printer setting %q: %s", s, specHelp)
	}
	path, query, _ := strings.Cut(rest, "?")
	if strings.TrimSpace(path) == "" {
		what := "a device path, e.g. serial:/dev/ttyUSB0"
		if kind == KindEmulator {
			what = "an output folder, e.g. emulator:/var/lib/lango/printed"
		}
		return Spec{}, terminal.Errorf(terminal.EINVALID, "printer setting %q names no %s", s, what)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return Spec{}, terminal.Errorf(terminal.EINVALID, "printer setting %q: bad options after ?: %v", s, err)
	}
	allowed := []string{"profile"}
	if kind == KindSerial {
		allowed = append(allowed, "baud", "flow")
	}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return Spec{}, terminal.Errorf(terminal.EINVALID, "printer setting %q: unknown option %q (allowed: %s)", s, k, strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return Spec{}, terminal.Errorf(terminal.EINVALID, "printer setting %q: %s given twice", s, k)
		}
	}
	prof, err := LookupProfile(q.Get("profile"))
	if err != nil {
		return Spec{}, err
	}
	sp := Spec{Kind: kind, Path: path, Profile: prof}
	if kind == KindEmulator {
		return sp, nil
	}
	sp.Baud, sp.Flow = prof.Baud, prof.Flow
	if b := q.Get("baud"); b != "" {
		n, err := strconv.Atoi(b)
		if err != nil || !slices.Contains(bauds, n) {
			return Spec{}, terminal.Errorf(terminal.EINVALID, "printer setting %q: baud %q is not one of %s", s, b, strings.Trim(fmt.Sprint(bauds), "[]"))
		}
		sp.Baud = n
	}
	switch f := Flow(strings.ToLower(q.Get("flow"))); f {
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
