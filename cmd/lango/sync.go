package main

import (
	"context"

	"github.com/lango-pos/lango/terminal"
)

func (m *Main) cmdEnroll(ctx context.Context, args []string) error {
	return terminal.Errorf(terminal.EUNAVAILABLE, "enroll: not built yet")
}

func (m *Main) cmdSync(ctx context.Context, args []string) error {
	return terminal.Errorf(terminal.EUNAVAILABLE, "sync: not built yet")
}
