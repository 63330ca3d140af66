// Package relay is a hub at the site (lango-hub serve --upstream): it
// serves the sync protocol to its site's terminals from its own embedded
// store, so the lanes know what the others did while only the WAN is
// down, and forwards each terminal's uploads to the central hub exactly
// as the terminal signed them, in order, when it is up. It brings down
// the site's terminals (their certified keys), catalogues, revocations
// and the site feed of events that reached the centre another way.
//
// It holds no site authority key: terminals enroll through it (it proxies
// the enrollment to the centre) and it checks each terminal's requests
// with the key the centre certified, having verified the certificate
// against the site's authority public keys.
package relay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lango-pos/lango/internal/backoff"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// Options configure a Relay. Zero values take the defaults.
type Options struct {
	// Upstream is the central hub's URL.
	Upstream string
	// Interval is the pause between exchanges with the centre once caught
	// up (2 s); an upload from a terminal starts one at once.
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the retry delay while the centre
	// cannot be reached (1 s doubling to ten intervals, at most 30 s,
	// with jitter).
	MinBackoff, MaxBackoff time.Duration
	// HTTPClient reaches the centre (30 s timeout).
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Relay is a site relay over the hub store local (the relay's hub.db) and
// its own store.
type Relay struct {
	local  hub.Store
	db     *db
	hub    *hub.Hub
	server *hub.Server
	opts   Options
	log    *slog.Logger

	mu     sync.Mutex
	id     identity
	offset time.Duration // the centre's clock minus ours
	// refused is why the centre refuses this relay (revoked, unknown),
	// "" while it does not: a refused relay answers its lanes 503, so
	// they fall back to the centre rather than leave their events here.
	refused string

	enrolls chan struct{} // slots for enrollments proxied at once

	run    sync.Mutex // one exchange with the centre at a time
	admits sync.Mutex // one admission at a time (enrollment proxy, terminal list)
	kick   chan struct{}
	stop   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open opens the relay's store at dbPath beside local.
func Open(ctx context.Context, local hub.Store, dbPath string, opts Options) (*Relay, error) {
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = min(time.Second, opts.Interval)
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = min(30*time.Second, 10*opts.Interval)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Upstream = strings.TrimRight(strings.TrimSpace(opts.Upstream), "/")
	d, err := openDB(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	r := &Relay{local: local, db: d, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1), enrolls: make(chan struct{}, 16)}
	r.hub = hub.New(&siteStore{Store: local, r: r}, hub.Options{Now: opts.Now, Logger: opts.Logger})
	r.server = hub.NewServer(r.hub)
	id, err := d.identity(ctx)
	switch {
	case errors.Is(err, errNotEnrolled):
	case err != nil:
		d.Close()
		return nil, err
	default:
		r.id = id
		if opts.Upstream != "" && opts.Upstream != id.Upstream {
			r.log.Warn("the relay was enrolled with another central hub URL; using the one given", "enrolled", id.Upstream, "now", opts.Upstream)
		}
	}
	return r, nil
}

// Close stops the worker and closes the relay's store (not the hub store).
func (r *Relay) Close() error {
	if r.stop != nil {
		close(r.stop)
		r.cancel()
		r.wg.Wait()
		r.stop = nil
	}
	return r.db.Close()
}

// Enrolled reports whether the relay holds its identity at the centre.
func (r *Relay) Enrolled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.id.RelayID != ""
}

// Identity is the relay's id, site and name at the centre.
func (r *Relay) Identity() (id, site, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.id.RelayID, r.id.Site, r.id.Name
}

// ParseToken splits a relay token from lango-hub relay add:
// SITE.NAME.SECRET.
func ParseToken(token string) (site, name, secret string, err error) {
	token = strings.TrimSpace(token)
	i, j := strings.Index(token, "."), strings.LastIndex(token, ".")
	if i <= 0 || j <= i+1 || j == len(token)-1 {
		return "", "", "", terminal.Errorf(terminal.EINVALID, "a relay token is SITE.NAME.SECRET, as lango-hub relay add prints it")
	}
	if site, err = hub.NormalizeSite(token[:i]); err != nil {
		return "", "", "", err
	}
	if name, err = hub.NormalizeName(token[i+1 : j]); err != nil {
		return "", "", "", err
	}
	return site, name, strings.ToLower(token[j+1:]), nil
}

// Enroll enrolls the relay with the centre once, with a token from
// lango-hub relay add; the token is then spent.
func (r *Relay) Enroll(ctx context.Context, token string) error {
	if r.Enrolled() {
		return terminal.Errorf(terminal.ECONFLICT, "this relay is already enrolled as %s of %s: start it with --upstream only", r.id.Name, r.id.Site)
	}
	if r.opts.Upstream == "" {
		return terminal.Errorf(terminal.EINVALID, "the central hub's URL is missing: --upstream URL")
	}
	site, name, secret, err := ParseToken(token)
	if err != nil {
		return err
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("relay key: %w", err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	req := wire.EnrollRequest{Token: secret, TerminalID: id, Site: site, Name: name, PublicKey: pub,
		Proof: ed25519.Sign(key, wire.EnrollMessage(secret, id, pub))}
	body, err := wire.Marshal(req)
	if err != nil {
		return err
	}
	var resp wire.EnrollResponse
	if err := r.do(ctx, http.MethodPost, wire.PathEnroll, body, nil, nil, &resp); err != nil {
		return err
	}
	if resp.TerminalID != id || resp.Site != site || resp.Name != name {
		return terminal.Errorf(terminal.EUNAVAILABLE, "the central hub enrolled %s %s/%s, not this relay", resp.TerminalID, resp.Site, resp.Name)
	}
	if _, err := verifyCertificate(resp.Certificate, resp.Authorities, site, name, pub); err != nil {
		return err
	}
	ident := identity{RelayID: id, Site: site, Name: name, Key: key, Certificate: resp.Certificate, Authorities: resp.Authorities,
		Upstream: r.opts.Upstream, HubID: resp.HubID, EnrolledAt: r.opts.Now()}
	if err := r.db.setIdentity(ctx, ident); err != nil {
		return err
	}
	r.mu.Lock()
	r.id = ident
	r.mu.Unlock()
	r.log.Info("relay enrolled with the central hub", "site", site, "name", name, "relay", id, "upstream", r.opts.Upstream)
	return nil
}

// verifyCertificate checks that certPEM certifies pub as name of site,
// signed by one of the authority keys in authPEM.
func verifyCertificate(certPEM, authPEM, site, name string, pub ed25519.PublicKey) (*pass.Certificate, error) {
	certs, err := pass.ParseCertificatesPEM([]byte(certPEM))
	if err != nil || len(certs) != 1 {
		return nil, terminal.Errorf(terminal.EINVALID, "the central hub's certificate is not readable: %v", err)
	}
	c := certs[0]
	if c.Site != site || c.Terminal != name || !c.PublicKey.Equal(pub) {
		return nil, terminal.Errorf(terminal.EINVALID, "the certificate is for %s of %s, not %s of %s with this key", c.Terminal, c.Site, name, site)
	}
	auths, err := pass.ParsePublicKeysPEM([]byte(authPEM))
	if err != nil || len(auths) == 0 {
		return nil, terminal.Errorf(terminal.EINVALID, "the site's authority keys are not readable: %v", err)
	}
	for _, a := range auths {
		if c.Verify(a) == nil {
			return c, nil
		}
	}
	return nil, terminal.Errorf(terminal.EINVALID, "the certificate of %s of %s is not signed by the site's authority", name, site)
}

// siteStore is the relay's hub store as its hub sees it: the site feed
// and the revocations are the relay's (its terminals' uploads and the
// centre's feed; the centre's numbering), and a terminal's last seq is
// how far the relay holds its uploads as sent.
type siteStore struct {
	hub.Store
	r *Relay
}

func (s *siteStore) Terminal(ctx context.Context, id string) (hub.Terminal, error) {
	t, err := s.Store.Terminal(ctx, id)
	if err != nil {
		return t, err
	}
	seq, hash, err := s.r.db.covered(ctx, id)
	if err != nil {
		return t, err
	}
	if seq < t.LastSeq {
		t.LastSeq, t.LastHash = seq, hash
	}
	return t, nil
}

func (s *siteStore) Feed(ctx context.Context, site, exclude string, cursors map[string]int64, limit int) (hub.FeedPage, error) {
	page, err := s.r.db.feed(ctx, exclude, cursors, limit)
	for i := range page.Events {
		page.Events[i].Site = site
	}
	return page, err
}

func (s *siteStore) Revocations(ctx context.Context, site string, after int64, limit int) ([]wire.Revocation, error) {
	return s.r.db.revocations(ctx, after, limit)
}

// ServeHTTP serves the sync protocol to the site's terminals: enrollment
// is proxied to the centre, uploads are kept as sent once the relay's hub
// has accepted them, everything else is the relay's hub.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	refused := r.refused
	r.mu.Unlock()
	if refused != "" {
		w.Header().Set("Retry-After", "60")
		writeError(w, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "this relay is refused by the central hub (%s): sync with the centre", refused))
		return
	}
	switch {
	case req.Method == http.MethodPost && req.URL.Path == wire.PathEnroll:
		r.proxyEnroll(w, req)
	case req.Method == http.MethodPost && req.URL.Path == wire.PathEvents:
		r.keepUpload(w, req)
	default:
		r.server.ServeHTTP(w, req)
	}
}

func writeError(w http.ResponseWriter, we *wire.Error) {
	b, _ := json.Marshal(we)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(we.Status)
	w.Write(b)
}

// recorder holds the relay hub's answer until the upload is kept.
type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (c *recorder) Header() http.Header { return c.h }
func (c *recorder) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}
func (c *recorder) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

func (c *recorder) send(w http.ResponseWriter) {
	for k, v := range c.h {
		w.Header()[k] = v
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	w.WriteHeader(c.status)
	w.Write(c.body.Bytes())
}

// keepUpload serves an upload: the relay's hub checks and applies it
// (signature, chain, authorization); once it has, the upload is kept as
// sent, with its feed events, before the terminal gets its answer. A
// crash in between costs a re-send: the relay's state answers only what
// it has kept.
func (r *Relay) keepUpload(w http.ResponseWriter, req *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, req.Body, wire.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, wire.Errorf(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the body is over %d bytes", wire.MaxBody))
		return
	case err != nil:
		writeError(w, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "reading the body: %v", err))
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	req.ContentLength = int64(len(raw))
	rec := &recorder{h: http.Header{}}
	r.server.ServeHTTP(rec, req)
	if rec.status == http.StatusOK {
		if err := r.record(req.Context(), req.Header, raw); err != nil {
			r.log.Error("keeping an upload the relay's hub accepted", "terminal", req.Header.Get(wire.HeaderTerminal), "err", err)
			writeError(w, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the relay could not keep this upload: send it again"))
			return
		}
		r.Kick()
	}
	rec.send(w)
}

func (r *Relay) record(ctx context.Context, h http.Header, raw []byte) error {
	sig, err := wire.ParseSigned(h.Get)
	if err != nil {
		return err
	}
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding")))
	plain := raw
	if enc == "gzip" {
		if plain, err = wire.Decompress(raw, wire.MaxBody); err != nil {
			return err
		}
	}
	evs, err := wire.DecodeUpload(plain)
	if err != nil || len(evs) == 0 {
		return fmt.Errorf("decoding an accepted upload: %v", err)
	}
	t, err := r.local.Terminal(ctx, sig.Terminal)
	if err != nil {
		return err
	}
	u := upload{Terminal: sig.Terminal, FirstSeq: evs[0].Seq, LastSeq: evs[len(evs)-1].Seq, LastHash: evs[len(evs)-1].Hash,
		Sig: sig, Encoding: enc, Body: raw, name: t.Name}
	feedTypes := map[string]bool{}
	for _, ft := range wire.FeedTypes() {
		feedTypes[ft] = true
	}
	for _, e := range evs {
		if feedTypes[e.Type] {
			u.feedRows = append(u.feedRows, wire.FeedEvent{Event: e, Name: t.Name})
		}
	}
	return r.db.recordUpload(ctx, u)
}

// proxyEnroll passes a terminal's enrollment to the centre (the relay
// certifies nothing) and, when the centre enrolled it, admits the
// terminal with the key the centre certified.
func (r *Relay) proxyEnroll(w http.ResponseWriter, req *http.Request) {
	select {
	case r.enrolls <- struct{}{}:
		defer func() { <-r.enrolls }()
	default:
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Connection", "close")
		writeError(w, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the relay is already passing %d enrollments to the centre: try again in 5 seconds", cap(r.enrolls)))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 8<<10))
	if err != nil {
		writeError(w, wire.Errorf(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "an enrollment is at most 8 KiB"))
		return
	}
	if !r.Enrolled() {
		writeError(w, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "this relay is not enrolled with the central hub yet"))
		return
	}
	hdr := map[string]string{}
	if enc := req.Header.Get("Content-Encoding"); enc != "" {
		hdr["Content-Encoding"] = enc
	}
	var resp wire.EnrollResponse
	err = r.do(req.Context(), http.MethodPost, wire.PathEnroll, body, hdr, nil, &resp)
	var we *wire.Error
	switch {
	case errors.As(err, &we) && we.Status != 0:
		writeError(w, we)
		return
	case err != nil:
		writeError(w, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the relay cannot reach the central hub: enroll when the link to the centre is up (%s)", terminal.ErrorMessage(err)))
		return
	}
	var in wire.EnrollRequest
	if err := json.Unmarshal(plainEnroll(body, req.Header.Get("Content-Encoding")), &in); err != nil {
		writeError(w, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "the enrollment is not readable: %v", err))
		return
	}
	if err := r.admit(req.Context(), resp.TerminalID, resp.Name, ed25519.PublicKey(in.PublicKey), resp.Certificate, resp.Authorities); err != nil {
		r.log.Error("admitting a terminal the centre enrolled", "terminal", resp.TerminalID, "name", resp.Name, "err", err)
		writeError(w, wire.Errorf(http.StatusServiceUnavailable, wire.CodeUnavailable, "the centre enrolled this terminal but the relay could not admit it: sync with the central hub, or try again"))
		return
	}
	b, _ := wire.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

func plainEnroll(body []byte, enc string) []byte {
	if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
		if b, err := wire.Decompress(body, 8<<10); err == nil {
			return b
		}
	}
	return body
}

// admit lets a terminal of the site sync with the relay: its certificate
// must certify pub as name of the relay's site, signed by the site
// authority (authPEM, else the keys the relay holds).
func (r *Relay) admit(ctx context.Context, id, name string, pub ed25519.PublicKey, certPEM, authPEM string) error {
	r.mu.Lock()
	site := r.id.Site
	if authPEM == "" {
		authPEM = r.id.Authorities
	}
	r.mu.Unlock()
	if _, err := verifyCertificate(certPEM, authPEM, site, name, pub); err != nil {
		return err
	}
	r.admits.Lock()
	defer r.admits.Unlock()
	t, err := r.local.Terminal(ctx, id)
	rekey := false
	switch {
	case err == nil && t.PublicKey.Equal(pub) && t.Certificate == certPEM:
		return nil
	case err == nil:
		rekey = true
	case !errors.Is(err, hub.ErrNotFound):
		return err
	}
	var b [20]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	now := r.opts.Now()
	e := hub.Enrollment{TokenHash: tok, Site: site, Name: name, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if rekey {
		e.TerminalID = id
	}
	if err := r.local.AddEnrollment(ctx, e); err != nil {
		return err
	}
	if _, err := r.local.RedeemEnrollment(ctx, tok, hub.Terminal{ID: id, Site: site, Name: name, PublicKey: pub, Certificate: certPEM}, now); err != nil {
		return fmt.Errorf("admit %s: %w", name, err)
	}
	r.log.Info("terminal admitted at the relay", "name", name, "terminal", id, "rekey", rekey)
	return nil
}

// Handler is the relay's HTTP face.
func (r *Relay) Handler() http.Handler { return r }

// Serve serves on ln until ctx is done, then shuts down, letting requests
// in flight finish for up to grace.
func (r *Relay) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	return hub.ServeHTTP(ctx, ln, r, r.log, grace)
}

// Start runs exchanges with the centre in the background until Close:
// every Interval when caught up, at once after a terminal's upload, and
// with capped backoff while the centre cannot be reached.
func (r *Relay) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	r.stop, r.cancel = make(chan struct{}), cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		b := backoff.Backoff{Min: r.opts.MinBackoff, Max: r.opts.MaxBackoff, Rand: mrand.Float64}
		for {
			wait := r.opts.Interval
			if err := r.Once(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				wait = b.Next()
				r.log.Info("exchange with the central hub failed; will retry", "in", wait.Round(time.Millisecond), "err", err)
			} else {
				b.Reset()
			}
			select {
			case <-r.stop:
				return
			case <-ctx.Done():
				return
			case <-r.kick:
			case <-time.After(wait):
			}
		}
	}()
}

// Kick asks for an exchange with the centre now. It never blocks.
func (r *Relay) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}
