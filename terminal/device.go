package terminal

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The grammar of the device settings (printer, pdq, scanner), in one
// place: which kinds each takes, which options each kind takes, each once,
// and the serial rates. Each device's adapter (printer.ParseSpec,
// zvt.ParseSetting, scan.ParseSetting) reads a Device from ParseDevice and
// checks only what is its own (a printer profile's name, a flow control).

// Device is a device setting as read: a bare word (none, manual,
// keyboard: Path empty) or KIND:PATH[?OPTION=VALUE&…].
type Device struct {
	Kind    string
	Path    string
	Options map[string]string // each given once
	Baud    int               // the baud option, 0 when not given
}

// deviceKind is one kind a device setting takes.
type deviceKind struct {
	kind    string
	bare    bool     // a word alone, no path
	serial  bool     // PATH is an absolute serial device path
	what    string   // what PATH names, for the message
	options []string // the options it takes
	bauds   []int    // the rates its baud option takes
}

var (
	standardBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}
	scannerBauds  = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}
)

// deviceGrammar is, per setting, the kinds it takes and its usage line.
var deviceGrammar = map[string]struct {
	usage string
	kinds []deviceKind
}{
	"printer": {"emulator:DIR, serial:PATH[?baud=N&profile=NAME&flow=none|xonxoff] or none", []deviceKind{
		{kind: "none", bare: true},
		{kind: "emulator", what: "an output folder, e.g. emulator:/var/lib/lango/printed", options: []string{"profile"}},
		{kind: "serial", serial: true, what: "a device path, e.g. serial:/dev/ttyUSB0", options: []string{"baud", "profile", "flow"}, bauds: standardBauds},
	}},
	"pdq": {"manual or zvt:PATH[?baud=N]", []deviceKind{
		{kind: "manual", bare: true},
		{kind: "zvt", serial: true, what: "the card terminal's serial port, e.g. zvt:/dev/ttyUSB1", options: []string{"baud"}, bauds: standardBauds},
	}},
	"scanner": {"keyboard or serial:PATH[?baud=N]", []deviceKind{
		{kind: "keyboard", bare: true},
		{kind: "serial", serial: true, what: "the scanner's serial port, e.g. serial:/dev/ttyACM0", options: []string{"baud"}, bauds: scannerBauds},
	}},
}

// IsDeviceSetting reports whether key configures a device whose adapter
// checks the value further (see sqlite.DB.CheckDevice).
func IsDeviceSetting(key string) bool {
	_, ok := deviceGrammar[key]
	return ok
}

// DeviceUsage is the grammar of the device setting key, for messages.
func DeviceUsage(key string) string { return deviceGrammar[key].usage }

// ParseDevice reads the value of the device setting key. Errors are
// EINVALID and say what is wrong.
func ParseDevice(key, value string) (Device, error) {
	g, ok := deviceGrammar[key]
	if !ok {
		return Device{}, Errorf(EINVALID, "%s is not a device setting", key)
	}
	v := strings.TrimSpace(value)
	bad := func(format string, args ...any) (Device, error) {
		return Device{}, Errorf(EINVALID, "%s setting %q: %s", key, v, fmt.Sprintf(format, args...))
	}
	if v == "" {
		return bad("empty: use %s", g.usage)
	}
	kind, rest, hasPath := strings.Cut(v, ":")
	kind = strings.ToLower(kind)
	i := slices.IndexFunc(g.kinds, func(k deviceKind) bool { return k.kind == kind && k.bare != hasPath })
	if i < 0 {
		return bad("use %s", g.usage)
	}
	k := g.kinds[i]
	if k.bare {
		return Device{Kind: k.kind}, nil
	}
	path, query, _ := strings.Cut(rest, "?")
	switch {
	case strings.TrimSpace(path) == "":
		return bad("names no %s", k.what)
	case k.serial && !strings.HasPrefix(path, "/"):
		return bad("the serial path must be absolute, e.g. /dev/ttyUSB0, got %q", path)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("bad options after ?: %v", err)
	}
	d := Device{Kind: k.kind, Path: path, Options: map[string]string{}}
	for o, vs := range q {
		if !slices.Contains(k.options, o) {
			return bad("unknown option %q (allowed: %s)", o, strings.Join(k.options, ", "))
		}
		if len(vs) > 1 {
			return bad("%s given twice", o)
		}
		d.Options[o] = vs[0]
	}
	if b, ok := d.Options["baud"]; ok {
		n, err := strconv.Atoi(b)
		if err != nil || !slices.Contains(k.bauds, n) {
			return bad("baud %q is not one of %s", b, strings.Trim(fmt.Sprint(k.bauds), "[]"))
		}
		d.Baud = n
	}
	return d, nil
}

// ParseSerial reads the device setting key when it names a serial device
// of kind (the pdq's zvt, the scanner's serial): its port, and its rate
// (the baud option, or def). Another kind of that setting (manual,
// keyboard) is refused as not naming one.
func ParseSerial(key, kind, value string, def int) (path string, baud int, err error) {
	d, err := ParseDevice(key, value)
	if err != nil {
		return "", 0, err
	}
	if d.Kind != kind {
		return "", 0, Errorf(EINVALID, "%s setting %q names no serial device; want %s:PATH[?baud=N]", key, strings.TrimSpace(value), kind)
	}
	if d.Baud == 0 {
		d.Baud = def
	}
	return d.Path, d.Baud, nil
}
