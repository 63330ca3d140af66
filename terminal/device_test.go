package terminal_test

import (
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

func TestParseDevice(t *testing.T) {
	good := []struct {
		key, value string
		want       terminal.Device
	}{
		{"printer", "none", terminal.Device{Kind: "none"}},
		{"printer", " NONE ", terminal.Device{Kind: "none"}},
		{"printer", "emulator:printed", terminal.Device{Kind: "emulator", Path: "printed"}},
		{"printer", "serial:/dev/ttyUSB0?baud=19200&profile=generic80&flow=xonxoff", terminal.Device{Kind: "serial", Path: "/dev/ttyUSB0", Baud: 19200,
			Options: map[string]string{"baud": "19200", "profile": "generic80", "flow": "xonxoff"}}},
		{"pdq", "manual", terminal.Device{Kind: "manual"}},
		{"pdq", "zvt:/dev/ttyUSB1", terminal.Device{Kind: "zvt", Path: "/dev/ttyUSB1"}},
		{"scanner", "keyboard", terminal.Device{Kind: "keyboard"}},
		{"scanner", "serial:/dev/ttyACM0?baud=921600", terminal.Device{Kind: "serial", Path: "/dev/ttyACM0", Baud: 921600, Options: map[string]string{"baud": "921600"}}},
	}
	for _, tc := range good {
		d, err := terminal.ParseDevice(tc.key, tc.value)
		if err != nil {
			t.Errorf("%s %q: %v", tc.key, tc.value, err)
			continue
		}
		if d.Kind != tc.want.Kind || d.Path != tc.want.Path || d.Baud != tc.want.Baud || len(d.Options) != len(tc.want.Options) {
			t.Errorf("%s %q = %+v, want %+v", tc.key, tc.value, d, tc.want)
		}
		for k, v := range tc.want.Options {
			if d.Options[k] != v {
				t.Errorf("%s %q: option %s = %q, want %q", tc.key, tc.value, k, d.Options[k], v)
			}
		}
	}
	bad := []struct{ key, value, says string }{
		{"printer", "", "empty"},
		{"printer", "usb:/dev/usb/lp0", "use emulator:DIR"},
		{"printer", "none:/x", "use emulator:DIR"},
		{"printer", "serial:", "names no a device path"},
		{"printer", "serial:ttyUSB0", "must be absolute"},
		{"printer", "emulator:/tmp/x?baud=9600", `unknown option "baud"`},
		{"printer", "serial:/dev/ttyUSB0?baud=9600&baud=19200", "baud given twice"},
		{"printer", "serial:/dev/ttyUSB0?baud=9601", `baud "9601" is not one of 1200 2400`},
		{"printer", "serial:/dev/ttyUSB0?baud=230400", `baud "230400" is not one of`},
		{"printer", "serial:/dev/ttyUSB0?%zz", "bad options"},
		{"pdq", "zvt", "use manual or zvt:PATH"},
		{"pdq", "serial:/dev/ttyUSB1", "use manual or zvt:PATH"},
		{"pdq", "zvt:/dev/ttyUSB1?profile=x", `unknown option "profile"`},
		{"scanner", "hid", "use keyboard or serial:PATH"},
		{"scanner", "serial:/dev/ttyACM0?baud=fast", `baud "fast"`},
		{"language", "en", "not a device setting"},
	}
	for _, tc := range bad {
		_, err := terminal.ParseDevice(tc.key, tc.value)
		if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s %q: %v; want EINVALID saying %q", tc.key, tc.value, err, tc.says)
		}
	}
	// The stored value is the grammar's: a bare word in lower case.
	if v, err := terminal.ValidateSetting("printer", " None "); err != nil || v != "none" {
		t.Errorf("ValidateSetting(printer, None) = %q, %v", v, err)
	}
}
