// Command lango-platform is the stand-in national payment platform
// (package sync/platform/platformtest) as a process, for `make run` and
// for tests that run real processes:
//
//	lango-platform --listen 127.0.0.1:8091 [--fail-rate 0.1] [--lose-rate 0.1] ...
//
// It accepts requests signed for LANGO_PLATFORM_AGENCY (KWS) with
// LANGO_PLATFORM_SECRET (demo-secret), the values the hub is given as
// LANGO_HUB_PLATFORM_AGENCY and LANGO_HUB_PLATFORM_SECRET. It keeps its
// bills in memory: a restart forgets them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lango-pos/lango/sync/platform/platformtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lango-platform:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(3)
	}
}

type usageError struct{ error }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lango-platform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8091", "address to listen on")
	var f platformtest.Faults
	fs.DurationVar(&f.Delay, "delay", 0, "wait this long before every answer")
	fs.Float64Var(&f.FailRate, "fail-rate", 0, "share of requests answered 503")
	fs.Float64Var(&f.TimeoutRate, "timeout-rate", 0, "share of requests never answered")
	fs.Float64Var(&f.LoseRate, "lose-rate", 0, "share of requests committed, then the connection dropped")
	fs.Float64Var(&f.LimitRate, "limit-rate", 0, "share of requests answered 429")
	fs.IntVar(&f.RetryAfter, "retry-after", 1, "Retry-After seconds of 429 and 503")
	seed := fs.Uint64("seed", 1, "seed of the faults")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	for _, r := range []float64{f.FailRate, f.TimeoutRate, f.LoseRate, f.LimitRate} {
		if r < 0 || r > 1 {
			return usageError{fmt.Errorf("a rate is between 0 and 1, not %g", r)}
		}
	}
	agency, secret := getenv("LANGO_PLATFORM_AGENCY"), getenv("LANGO_PLATFORM_SECRET")
	if agency == "" {
		agency = "KWS"
	}
	if secret == "" {
		secret = "demo-secret"
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	s := platformtest.New(agency, secret, time.Now, *seed, log)
	s.SetFaults(f)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *listen, err)
	}
	fmt.Fprintf(stdout, "lango-platform listening on http://%s (agency %s)\n", ln.Addr(), agency)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	c := s.Counts()
	log.Info("lango-platform stopped", "bills", c.Bills, "reversals", c.Reversals, "repeats", c.Repeats, "conflicts", c.Conflicts)
	return nil
}
