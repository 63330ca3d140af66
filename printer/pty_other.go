//go:build !linux

package printer

import (
	"context"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/terminal"
)

// ServePTY needs Linux pseudo-terminals; elsewhere use emulator:DIR.
func ServePTY(ctx context.Context, link string, em *emulator.Emulator) error {
	return terminal.Errorf(terminal.EDEVICE, "the printer emulator needs Linux pseudo-terminals; use the printer setting emulator:DIR instead")
}
