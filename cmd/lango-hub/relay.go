package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/lango-pos/lango/sync/relay"
	"github.com/lango-pos/lango/terminal"
)

// serveRelay runs the hub as a site relay: its own store in --data, the
// sync protocol to the site's terminals, forwarding to --upstream. The
// first start enrolls with --token; later ones need only --upstream.
func (m *Main) serveRelay(ctx context.Context) error {
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: m.level()}))
	r, err := relay.Open(ctx, m.store, filepath.Join(m.data, "relay.db"), relay.Options{Upstream: m.upstream, Interval: m.interval, Now: m.Now, Logger: logger})
	if err != nil {
		return err
	}
	defer r.Close()
	switch {
	case !r.Enrolled() && m.token == "":
		return terminal.Errorf(terminal.EINVALID, "this relay is not enrolled: start it once with --upstream URL --token TOKEN (from lango-hub relay add on the central hub)")
	case !r.Enrolled():
		if err := r.Enroll(ctx, m.token); err != nil {
			return err
		}
	case m.token != "":
		_, site, name := r.Identity()
		logger.Info("the relay is already enrolled; --token is not needed any more", "site", site, "name", name)
	}
	ln, err := m.listener()
	if err != nil {
		return err
	}
	id, site, name := r.Identity()
	logger.Info("lango-hub relay serving", "listen", m.addr, "data", m.data, "site", site, "name", name, "relay", id, "upstream", m.upstream)
	close(m.ready)
	r.Start(ctx)
	return r.Serve(ctx, ln, 20*time.Second)
}
