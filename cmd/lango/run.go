package main

import (
	"context"

	"github.com/lango-pos/lango/terminal"
)

func (m *Main) cmdRun(ctx context.Context, args []string) error {
	return terminal.Errorf(terminal.EUNAVAILABLE, "the kiosk GUI is not built yet")
}
