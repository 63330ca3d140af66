package main

import (
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestDeviceSettingChecks: what the store's shape check and the adapters'
// checks make of device settings together. Every value an adapter takes,
// the store takes too, but for relative paths (the store's grammar once
// refused a printer's flow option); values only an adapter can judge (a
// profile name, a PDQ baud rate) are refused by checkDevice.
func TestDeviceSettingChecks(t *testing.T) {
	tests := []struct {
		key, value string
		ok         bool // after both checks
		// stricter: the store refuses what the adapter would take, on
		// purpose (a device path must be absolute: the working directory
		// of a kiosk is nobody's business).
		stricter bool
	}{
		{"printer", "none", true, false},
		{"printer", "emulator:/var/lib/lango/paper", true, false},
		{"printer", "emulator:/var/lib/lango/paper?profile=epson-tm-t88", true, false},
		{"printer", "emulator:/var/lib/lango/paper?profile=nope", false, false},
		{"printer", "emulator:/var/lib/lango/paper?baud=9600", false, false},
		{"printer", "serial:/dev/ttyUSB0", true, false},
		{"printer", "serial:/dev/ttyUSB0?baud=19200&profile=clone80-512&flow=xonxoff", true, false},
		{"printer", "serial:/dev/ttyUSB0?flow=none", true, false},
		{"printer", "serial:/dev/ttyUSB0?flow=rts", false, false},
		{"printer", "serial:/dev/ttyUSB0?profile=nope", false, false},
		{"printer", "serial:/dev/ttyUSB0?baud=fast", false, false},
		{"printer", "serial:ttyUSB0", false, true},
		{"printer", "usb:/dev/usb/lp0", false, false},
		{"pdq", "manual", true, false},
		{"pdq", "zvt:/dev/ttyS0", true, false},
		{"pdq", "zvt:/dev/ttyS0?baud=115200", true, false},
		{"pdq", "zvt:/dev/ttyS0?baud=12345", false, false},
		{"pdq", "zvt:/dev/ttyS0?parity=even", false, false},
		{"pdq", "zvt:ttyS0", false, true},
		{"scanner", "keyboard", true, false},
		{"scanner", "serial:/dev/ttyACM0", true, false},
		{"scanner", "serial:/dev/ttyACM0?baud=115200", true, false},
		{"scanner", "serial:/dev/ttyACM0?baud=50", false, false},
	}
	for _, tt := range tests {
		v, storeErr := terminal.ValidateSetting(tt.key, tt.value)
		adapterErr := checkDevice(tt.key, tt.value)
		if adapterErr == nil && storeErr != nil && !tt.stricter {
			t.Errorf("%s %q: the adapter takes it but the store refuses it: %v", tt.key, tt.value, storeErr)
		}
		both := storeErr
		if both == nil {
			both = checkDevice(tt.key, v)
		}
		if (both == nil) != tt.ok {
			t.Errorf("%s %q: accepted %v (store: %v; adapter: %v); want %v", tt.key, tt.value, both == nil, storeErr, adapterErr, tt.ok)
		}
	}
}
