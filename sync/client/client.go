// Package client is the terminal's side of sync with the hub: enrollment,
// the Syncer that drains the outbox to the hub exactly once and brings back
// signed catalogues and the site feed, and the status line the UI shows.
//
// Nothing on the sale path calls this package. The outbox is the events
// table of the store; how far the hub holds it (acked_seq) is on disk, so
// a Syncer started after a crash resumes where the hub stands.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// Config tunes a Syncer. Zero values take the defaults.
type Config struct {
	// HubURL overrides the store's "hub" setting (written at enrollment).
	HubURL string
	// HTTPClient makes the requests; one with a 60 s timeout by default.
	HTTPClient *http.Client
	// BatchSize is the most events per upload (500).
	BatchSize int
	// FeedPage is the most feed events per request (500).
	FeedPage int
	// Pipeline is how many upload batches may be in flight at once (2):
	// the terminal reads and encodes the next batch while the hub stores
	// the last. The hub applies them in order.
	Pipeline int
	// Interval is the pause between syncs once caught up (30 s).
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the retry delay after a failure
	// (2 s, doubling to 5 min, with jitter).
	MinBackoff, MaxBackoff time.Duration
	// Now is the terminal's clock (time.Now). Requests are signed with it
	// plus the offset learnt from the hub.
	Now func() time.Time
	// Rand returns jitter in [0, 1) (math/rand/v2).
	Rand func() float64
	// After waits for d (time.After); tests replace it.
	After func(d time.Duration) <-chan time.Time
	// ProbeEvery is how often, while backing off after a failure, the
	// worker asks the hub's /healthz (unsigned, a few bytes) whether it is
	// back, so that a hub that returns is noticed within seconds rather
	// than at the end of a backoff of up to MaxBackoff (5 s; negative: no
	// probe).
	ProbeEvery time.Duration
	// Logger (slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	c.BatchSize = min(c.BatchSize, wire.MaxBatch)
	if c.FeedPage <= 0 {
		c.FeedPage = 500
	}
	if c.Pipeline <= 0 {
		c.Pipeline = 2
	}
	if c.Interval <= 0 {
		c.Interval = 30 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 2 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = mrand.Float64
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.ProbeEvery == 0 {
		c.ProbeEvery = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Syncer syncs one terminal store with its hub. Once runs one complete
// exchange; Start runs them in the background until Close.
type Syncer struct {
	db  Outbox
	cfg Config
	log *slog.Logger

	run sync.Mutex // one exchange at a time

	mu          sync.Mutex
	offset      time.Duration // hub clock minus ours
	savedOffset time.Duration
	offsetKnown bool

	kick   chan struct{}
	stop   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Syncer for db.
func New(db Outbox, cfg Config) *Syncer {
	cfg = cfg.withDefaults()
	return &Syncer{db: db, cfg: cfg, log: cfg.Logger, kick: make(chan struct{}, 1)}
}

// session is what one exchange needs.
type session struct {
	base string
	id   terminal.Identity
	key  ed25519.PrivateKey
}

// hubURLs are the hubs this terminal syncs with, in order of preference
// (a site relay, then the centre): Config.HubURL, else the store's "hub"
// setting, separated by spaces (none when not enrolled).
func (s *Syncer) hubURLs(ctx context.Context) ([]string, error) {
	v := s.cfg.HubURL
	if v == "" {
		var err error
		if v, err = s.db.Setting(ctx, "hub"); err != nil {
			return nil, err
		}
	}
	return strings.Fields(v), nil
}

func (s *Syncer) session(ctx context.Context, base string) (*session, error) {
	id, err := s.db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	if base == "" {
		return nil, &terminal.Error{Kind: terminal.EINVALID, Message: "this terminal is not enrolled with a hub: run lango enroll --hub URL --token TOKEN",
			Err: wire.Errorf(0, wire.CodeNotEnrolled, "no hub setting")}
	}
	key, err := s.db.TerminalKey(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	known := s.offsetKnown
	s.mu.Unlock()
	if !known {
		st, err := s.db.SyncState(ctx)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.offset, s.savedOffset, s.offsetKnown = st.ClockOffset, st.ClockOffset, true
		s.mu.Unlock()
	}
	return &session{base: strings.TrimRight(base, "/"), id: id, key: key}, nil
}

// hubNow is the terminal's clock corrected by the hub's offset: the time
// requests are signed with. Events keep the terminal's own clock.
func (s *Syncer) hubNow() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Now().Add(s.offset)
}

// learnClock records the hub's clock from an answer's header.
func (s *Syncer) learnClock(ctx context.Context, h http.Header) {
	ms, err := strconv.ParseInt(h.Get(wire.HeaderHubTime), 10, 64)
	if err != nil {
		return
	}
	off := time.UnixMilli(ms).Sub(s.cfg.Now())
	s.mu.Lock()
	s.offset = off
	save := (off - s.savedOffset).Abs() > time.Second
	if save {
		s.savedOffset = off
	}
	s.mu.Unlock()
	if save {
		if (off).Abs() > time.Minute {
			s.log.Warn("terminal clock differs from the hub's; signing with the hub's time", "offset", off.Round(time.Second))
		}
		if err := s.db.SetClockOffset(ctx, off); err != nil {
			s.log.Warn("saving clock offset", "err", err)
		}
	}
}

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// call makes one signed request with the JSON body in (nil for none),
// gzipped, and decodes a 2xx answer into out. It
// retries at once, signing afresh, when the hub says the clock is off
// (having learnt the hub's time from the answer) or that it already
// received this request (the HTTP transport resent it after a cut
// connection; every request is idempotent). It reports whether the hub
// answered.
func (s *Syncer) call(ctx context.Context, ss *session, method, path string, in []byte, out any) (reached bool, err error) {
	var body []byte
	if in != nil {
		body = wire.Compress(in)
	}
	return s.send(ctx, ss, method, path, body, out)
}

// send is call with the body already gzipped (nil: no body).
func (s *Syncer) send(ctx context.Context, ss *session, method, path string, body []byte, out any) (reached bool, err error) {
	for attempt := 0; ; attempt++ {
		sig := wire.Sign(ss.key, ss.id.TerminalID, method, path, body, s.hubNow(), newNonce())
		req, err := http.NewRequestWithContext(ctx, method, ss.base+path, bytes.NewReader(body))
		if err != nil {
			return false, terminal.Errorf(terminal.EINVALID, "hub URL %q is not valid: %v", ss.base, err)
		}
		for k, v := range sig.Header() {
			req.Header.Set(k, v)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
		}
		reached, werr := s.exchange(ctx, req, out)
		var we *wire.Error
		if attempt < 2 && errors.As(werr, &we) && (we.Code == wire.CodeClockSkew || we.Code == wire.CodeReplay) {
			continue
		}
		return reached, werr
	}
}

// exchange sends req and reads the answer: nil and out filled for 2xx,
// a *wire.Error (wrapped in a *terminal.Error) otherwise.
func (s *Syncer) exchange(ctx context.Context, req *http.Request, out any) (bool, error) {
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the hub cannot be reached; the work is queued",
			Err: &wire.Error{Code: wire.CodeNetwork, Message: err.Error()}}
	}
	defer resp.Body.Close()
	s.learnClock(ctx, resp.Header)
	b, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxBody+1))
	if err != nil {
		return true, &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the connection to the hub was cut; the work is queued",
			Err: &wire.Error{Code: wire.CodeNetwork, Message: err.Error()}}
	}
	if len(b) > wire.MaxBody {
		return true, badResponse("the answer is over %d bytes", wire.MaxBody)
	}
	if resp.StatusCode/100 == 2 {
		if resp.StatusCode == http.StatusNoContent || out == nil {
			return true, nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return true, badResponse("%s: %v", req.URL.Path, err)
		}
		return true, nil
	}
	we := &wire.Error{}
	if json.Unmarshal(b, we) != nil || we.Code == "" {
		we = &wire.Error{Code: wire.CodeUnavailable, Message: strings.TrimSpace(string(b[:min(len(b), 200)]))}
	}
	we.Status = resp.StatusCode
	return true, hubError(we)
}

func badResponse(format string, args ...any) error {
	return &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the hub's answer was unreadable; the work is queued",
		Err: wire.Errorf(0, wire.CodeBadResponse, format, args...)}
}

// hubError gives a hub refusal the kind the CLI and UI act on.
func hubError(we *wire.Error) error {
	kind, msg := terminal.EINTERNAL, "the hub refused the request"
	switch {
	case we.Status >= 500 || we.Status == http.StatusTooManyRequests || we.Status == http.StatusBadGateway:
		kind, msg = terminal.EUNAVAILABLE, "the hub is not available; the work is queued"
	case we.Code == wire.CodeReplay || we.Code == wire.CodeClockSkew:
		kind, msg = terminal.EUNAVAILABLE, "the hub did not take the request; the work is queued"
	case we.Code == wire.CodeRevoked:
		kind, msg = terminal.EUNAUTHORIZED, "the hub has revoked this terminal"
	case we.Code == wire.CodeTokenInvalid || we.Code == wire.CodeWrongSite:
		kind, msg = terminal.EUNAUTHORIZED, "the enrollment token was refused"
	case we.Status == http.StatusUnauthorized || we.Status == http.StatusForbidden:
		kind, msg = terminal.EUNAUTHORIZED, "the hub does not accept this terminal"
	case we.Status == http.StatusConflict:
		kind, msg = terminal.ECONFLICT, "the hub disagrees with this terminal's records"
	case we.Status == http.StatusNotFound:
		kind, msg = terminal.EUNAVAILABLE, "the hub URL does not answer as a Lango hub"
	}
	return &terminal.Error{Kind: kind, Message: msg, Err: we}
}

// WireError returns the hub's refusal in err's chain, if any.
func WireError(err error) (*wire.Error, bool) {
	var we *wire.Error
	ok := errors.As(err, &we)
	return we, ok
}
