// Package hub is the central sync service: it enrolls terminals, takes
// their events exactly once and in order, verifies their hash chains,
// serves signed catalogues and the site feed, and reports takings and
// conflicts. Server is its HTTP face (protocol: package sync/wire).
package hub

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// Options configure a Hub. Zero values take the defaults.
type Options struct {
	Now    func() time.Time // the clock; time.Now
	Rand   io.Reader        // key and token randomness; crypto/rand
	Logger *slog.Logger     // slog.Default()
	// TokenTTL is how long an enrollment token stays valid (72 hours).
	TokenTTL time.Duration
	// CertLifetime is how long a terminal certificate is valid (5 years).
	CertLifetime time.Duration
	// CertBackdate starts certificates this long before enrollment (7
	// days), so a terminal whose clock runs behind still issues passes its
	// certificate covers.
	CertBackdate time.Duration
	// GapWait is how long a batch that arrives ahead of its predecessor
	// (a terminal pipelining its uploads) waits for it before it is
	// refused as a gap (1 s).
	GapWait time.Duration
	// MpesaCallbacks, if set, serves Daraja's callbacks under /mpesa/
	// (an mpesa.Callbacks over the store, whose ledger the report
	// reconciles the M-PESA codes of uploaded sales with).
	MpesaCallbacks http.Handler
	// Bank is the ledger of imported bank statements; with it the report
	// has its bank section. BankZone is the time zone of the statements'
	// days (nil: UTC).
	Bank     *bank.Ledger
	BankZone *time.Location
	// Platform is the national platform's URL the hub forwards to
	// (package sync/hub/forward), for the report; "" if it forwards
	// nothing.
	Platform string
}

// Hub is the sync service over a Store.
type Hub struct {
	store   Store
	now     func() time.Time
	rand    io.Reader
	log     *slog.Logger
	opts    Options
	metrics *metrics
	seq     *sequencer
	// keyIDs holds the key ids of each certificate PEM text the hub has
	// read (keyIDsOf), parsed once: every feed request asks them of every
	// peer of its site. A pure function's results: nothing here decides.
	keyIDs sync.Map
}

// New returns a hub over store.
func New(store Store, opts Options) *Hub {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 72 * time.Hour
	}
	if opts.CertLifetime <= 0 {
		opts.CertLifetime = 5 * 365 * 24 * time.Hour
	}
	if opts.CertBackdate <= 0 {
		opts.CertBackdate = 7 * 24 * time.Hour
	}
	if opts.GapWait <= 0 {
		opts.GapWait = time.Second
	}
	h := &Hub{store: store, now: opts.Now, rand: opts.Rand, log: opts.Logger, opts: opts, metrics: newMetrics(),
		seq: &sequencer{ch: map[string]chan struct{}{}}}
	h.metrics.reg.MustRegister(newForwardCollector(store), newReportCollector(store))
	return h
}

// sequencer lets a batch that arrived early wait for the terminal's last
// seq to move.
type sequencer struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

// watch returns a channel closed at the terminal's next advance.
func (q *sequencer) watch(id string) <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, ok := q.ch[id]
	if !ok {
		c = make(chan struct{})
		q.ch[id] = c
	}
	return c
}

func (q *sequencer) advanced(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c, ok := q.ch[id]; ok {
		close(c)
		delete(q.ch, id)
	}
}

// Store is the hub's store.
func (h *Hub) Store() Store { return h.store }

var (
	siteRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,23}$`)
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)
)

// NormalizeSite upper-cases and checks a site code.
func NormalizeSite(s string) (string, error) {
	site := strings.ToUpper(strings.TrimSpace(s))
	if !siteRE.MatchString(site) {
		return "", terminal.Errorf(terminal.EINVALID, "site %q is not valid: 1–24 letters, digits, '-' or '_', e.g. NNP", s)
	}
	return site, nil
}

// NormalizeName lower-cases and checks a terminal name.
func NormalizeName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if !nameRE.MatchString(name) {
		return "", terminal.Errorf(terminal.EINVALID, "terminal name %q is not valid: 1–32 letters, digits, '.', '-' or '_'", s)
	}
	return name, nil
}

// authority returns the site's newest authority key, creating the site's
// first key when create is set.
func (h *Hub) authority(ctx context.Context, site string, create bool) (AuthorityKey, error) {
	keys, err := h.store.AuthorityKeys(ctx, site)
	if err != nil {
		return AuthorityKey{}, err
	}
	if len(keys) > 0 {
		return keys[0], nil
	}
	if !create {
		return AuthorityKey{}, ErrNotFound
	}
	a, err := pass.NewAuthority(h.rand)
	if err != nil {
		return AuthorityKey{}, err
	}
	k := AuthorityKey{KeyID: a.KeyID().String(), Site: site, Private: a.PrivateKey(), CreatedAt: h.now()}
	if fs, ok := h.store.(FirstAuthorityStore); ok {
		// Several processes: the one whose key went in first wins, and
		// every terminal of the site is certified under that one key.
		return fs.AddFirstAuthorityKey(ctx, k)
	}
	if err := h.store.AddAuthorityKey(ctx, k); err != nil {
		return AuthorityKey{}, err
	}
	h.log.Info("created site authority key", "site", site, "kid", k.KeyID)
	return k, nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// AddTerminal makes a one-time enrollment token for a new terminal name at
// site, valid for Options.TokenTTL. The hub keeps only its hash. The token
// enrolls only a terminal id the hub has never seen.
func (h *Hub) AddTerminal(ctx context.Context, site, name string) (string, error) {
	return h.issue(ctx, site, name, false, false)
}

// RekeyTerminal makes a one-time token that gives the enrolled terminal
// name at site a new certificate, for its key or a new one (renewal, key
// rotation): only that terminal's id may redeem it, and it keeps its name
// and events.
func (h *Hub) RekeyTerminal(ctx context.Context, site, name string) (string, error) {
	return h.issue(ctx, site, name, true, false)
}

func (h *Hub) issue(ctx context.Context, site, name string, rekey, relay bool) (string, error) {
	site, err := NormalizeSite(site)
	if err != nil {
		return "", err
	}
	if name, err = NormalizeName(name); err != nil {
		return "", err
	}
	if _, err := h.authority(ctx, site, true); err != nil {
		return "", err
	}
	e := Enrollment{Site: site, Name: name, Relay: relay}
	if rekey {
		ts, err := h.store.SiteTerminals(ctx, site)
		if err != nil {
			return "", err
		}
		for _, t := range ts {
			if t.Name == name && !t.Revoked() {
				e.TerminalID = t.ID
			}
		}
		if e.TerminalID == "" {
			return "", terminal.Errorf(terminal.ENOTFOUND, "no enrolled terminal %s at %s to rekey: add it with lango-hub terminal add", name, site)
		}
	}
	var b [20]byte
	if _, err := io.ReadFull(h.rand, b[:]); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	token := strings.ToLower(tokenEncoding.EncodeToString(b[:]))
	now := h.now()
	e.TokenHash, e.CreatedAt, e.ExpiresAt = tokenHash(token), now, now.Add(h.opts.TokenTTL)
	if err := h.store.AddEnrollment(ctx, e); err != nil {
		return "", err
	}
	return token, nil
}

// RevokeTerminal revokes an enrolled terminal: the hub refuses its
// requests from now on.
func (h *Hub) RevokeTerminal(ctx context.Context, site, name string) error {
	site, err := NormalizeSite(site)
	if err != nil {
		return err
	}
	if name, err = NormalizeName(name); err != nil {
		return err
	}
	if err := h.store.RevokeTerminal(ctx, site, name, h.now()); errors.Is(err, ErrNotFound) {
		return terminal.Errorf(terminal.ENOTFOUND, "no enrolled terminal %s at %s", name, site)
	} else if err != nil {
		return err
	}
	return nil
}

// PublishCatalogue signs body (a catalogue file) with the site authority
// key as the site's next catalogue version.
func (h *Hub) PublishCatalogue(ctx context.Context, site string, body []byte) (Catalogue, error) {
	site, err := NormalizeSite(site)
	if err != nil {
		return Catalogue{}, err
	}
	cat, err := terminal.ParseCatalogue(body)
	if err != nil {
		return Catalogue{}, err
	}
	if _, ok := cat.Site(site); !ok {
		return Catalogue{}, terminal.Errorf(terminal.EINVALID, "site %s is not in catalogue %s", site, cat.Version)
	}
	last, ok, err := h.store.LatestCatalogue(ctx, site)
	if err != nil {
		return Catalogue{}, err
	}
	if ok && last.Version == cat.Version {
		if bytes.Equal(last.Body, body) {
			return Catalogue{}, terminal.Errorf(terminal.ECONFLICT, "catalogue %s is already published for %s", cat.Version, site)
		}
		return Catalogue{}, terminal.Errorf(terminal.ECONFLICT, "catalogue %s was published for %s with other content: give the new one a new version", cat.Version, site)
	}
	key, err := h.authority(ctx, site, true)
	if err != nil {
		return Catalogue{}, err
	}
	// The publication number is the publication time in Unix milliseconds
	// (or one more than the last, if the clock is behind): it grows even
	// across a hub restored from an older backup, so terminals that applied
	// a later publication before the restore still take the next one.
	now := h.now()
	c := Catalogue{Site: site, Seq: max(last.Seq+1, now.UnixMilli()), Version: cat.Version, Body: body, KeyID: key.KeyID, PublishedAt: now}
	c.Signature = ed25519.Sign(key.Private, wire.CatalogueMessage(site, c.Seq, body))
	if err := h.store.PublishCatalogue(ctx, c); err != nil {
		return Catalogue{}, err
	}
	return c, nil
}

// Enroll certifies a terminal's key with the site authority, spending its
// one-time token.
func (h *Hub) Enroll(ctx context.Context, req wire.EnrollRequest) (wire.EnrollResponse, error) {
	bad := func(format string, args ...any) (wire.EnrollResponse, error) {
		return wire.EnrollResponse{}, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, format, args...)
	}
	switch {
	case req.Token == "" || len(req.Token) > 128:
		return bad("the enrollment token is missing")
	case !wire.IsUUID(req.TerminalID):
		return bad("terminal_id is not a UUID")
	case !siteRE.MatchString(req.Site):
		return bad("site %q is not valid", req.Site)
	case !nameRE.MatchString(req.Name):
		return bad("name %q is not valid", req.Name)
	case len(req.PublicKey) != ed25519.PublicKeySize:
		return bad("public_key is not an Ed25519 key")
	}
	pub := ed25519.PublicKey(req.PublicKey)
	if len(req.Proof) != ed25519.SignatureSize || !ed25519.Verify(pub, wire.EnrollMessage(req.Token, req.TerminalID, pub), req.Proof) {
		return wire.EnrollResponse{}, wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "the proof of key possession does not verify")
	}
	token := strings.ToLower(strings.TrimSpace(req.Token))
	key, err := h.authority(ctx, req.Site, false)
	if errors.Is(err, ErrNotFound) {
		return wire.EnrollResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeTokenInvalid, "this enrollment token is not valid")
	}
	if err != nil {
		return wire.EnrollResponse{}, err
	}
	auth, err := pass.AuthorityFromKey(key.Private)
	if err != nil {
		return wire.EnrollResponse{}, err
	}
	now := h.now()
	cert, err := auth.Certify(req.Site, req.Name, pub, now.Add(-h.opts.CertBackdate), now.Add(h.opts.CertLifetime))
	if err != nil {
		return bad("cannot certify: %v", err)
	}
	certPEM, err := cert.MarshalPEM()
	if err != nil {
		return wire.EnrollResponse{}, err
	}
	t, err := h.store.RedeemEnrollment(ctx, tokenHash(token), Terminal{ID: req.TerminalID, Site: req.Site, Name: req.Name, PublicKey: pub, Certificate: string(certPEM)}, now)
	switch {
	case errors.Is(err, ErrTokenInvalid), errors.Is(err, ErrTokenUsed), errors.Is(err, ErrTokenExpired):
		return wire.EnrollResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeTokenInvalid, "this enrollment token is not valid: %v", err)
	case errors.Is(err, ErrTokenSite):
		return wire.EnrollResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeWrongSite, "this enrollment token is for another site or terminal name than %s at %s", req.Name, req.Site)
	case errors.Is(err, ErrTerminalEnrolled):
		return wire.EnrollResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeTokenInvalid, "terminal %s is already enrolled: this token enrolls a new terminal; to give an enrolled terminal a new key use a token from lango-hub terminal rekey", req.TerminalID)
	case errors.Is(err, ErrTokenTerminal):
		return wire.EnrollResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeTokenInvalid, "this rekey token is for another terminal than %s", req.TerminalID)
	case errors.Is(err, ErrRevoked):
		return wire.EnrollResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeRevoked, "terminal %s of %s was revoked", req.Name, req.Site)
	case errors.Is(err, ErrNameTaken):
		return wire.EnrollResponse{}, wire.Errorf(http.StatusConflict, wire.CodeConflict, "another enrolled terminal is named %s at %s: revoke it first", req.Name, req.Site)
	case err != nil:
		return wire.EnrollResponse{}, err
	}
	auths, err := h.authoritiesPEM(ctx, req.Site)
	if err != nil {
		return wire.EnrollResponse{}, err
	}
	hubID, err := h.store.HubID(ctx)
	if err != nil {
		return wire.EnrollResponse{}, err
	}
	peers, err := h.enrollCertificates(ctx, t)
	if err != nil {
		return wire.EnrollResponse{}, err
	}
	h.log.Info("terminal enrolled", "site", t.Site, "name", t.Name, "terminal", t.ID)
	return wire.EnrollResponse{HubID: hubID, TerminalID: t.ID, Site: t.Site, Name: t.Name, Certificate: t.Certificate, Authorities: auths, LastSeq: t.LastSeq, Peers: peers}, nil
}

func (h *Hub) authoritiesPEM(ctx context.Context, site string) (string, error) {
	keys, err := h.store.AuthorityKeys(ctx, site)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	for _, k := range keys {
		p, err := pass.MarshalPublicKeyPEM(k.Public())
		if err != nil {
			return "", err
		}
		b.Write(p)
	}
	return b.String(), nil
}

// State says where the hub stands with terminal t.
func (h *Hub) State(ctx context.Context, t Terminal) (wire.StateResponse, error) {
	hubID, err := h.store.HubID(ctx)
	if err != nil {
		return wire.StateResponse{}, err
	}
	c, _, err := h.store.LatestCatalogue(ctx, t.Site)
	if err != nil {
		return wire.StateResponse{}, err
	}
	return wire.StateResponse{HubID: hubID, TerminalID: t.ID, Site: t.Site, Name: t.Name, LastSeq: t.LastSeq, LastHash: t.LastHash, CatalogueSeq: c.Seq}, nil
}

// Upload applies a batch of terminal t's events.
func (h *Hub) Upload(ctx context.Context, t Terminal, events []terminal.Event) (wire.UploadResponse, error) {
	if t.Relay {
		return wire.UploadResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeForbidden, "%s of %s is a relay: it forwards its terminals' uploads and sends no events of its own", t.Name, t.Site)
	}
	flags, werr := validateBatch(t, events)
	if werr != nil {
		h.metrics.batches.WithLabelValues(werr.Code).Inc()
		return wire.UploadResponse{}, werr
	}
	hubID, err := h.store.HubID(ctx)
	if err != nil {
		return wire.UploadResponse{}, err
	}
	now := h.now()
	var res ApplyResult
	var gap *GapError
	var fork *ForkError
	var forbidden *ForbiddenError
	var timeout <-chan time.Time
	for {
		advanced := h.seq.watch(t.ID)
		res, err = h.store.Apply(ctx, t.ID, events, now, flags...)
		if !errors.As(err, &gap) || events[0].Seq > gap.LastSeq+1+2*wire.MaxBatch {
			break
		}
		// Its predecessor may be in flight: wait for it a moment.
		if timeout == nil {
			timeout = time.After(h.opts.GapWait)
		}
		select {
		case <-advanced:
			continue
		case <-timeout:
		case <-ctx.Done():
		}
		break
	}
	if err == nil && res.Applied > 0 {
		h.seq.advanced(t.ID)
	}
	switch {
	case errors.As(err, &gap):
		h.metrics.batches.WithLabelValues(wire.CodeGap).Inc()
		return wire.UploadResponse{}, &wire.Error{Status: http.StatusConflict, Code: wire.CodeGap, LastSeq: &gap.LastSeq,
			Message: fmt.Sprintf("the batch starts at %d; the hub holds up to %d: send from %d", events[0].Seq, gap.LastSeq, gap.LastSeq+1)}
	case errors.As(err, &fork):
		h.metrics.batches.WithLabelValues(wire.CodeFork).Inc()
		kind := "fork"
		c := Conflict{Kind: kind, Site: t.Site, Terminal: t.Name, TerminalID: t.ID, Seq: fork.Seq, Reason: fork.Reason, At: now}
		if cerr := h.store.AddConflict(ctx, c); cerr != nil {
			return wire.UploadResponse{}, errors.Join(err, cerr)
		}
		h.metrics.conflicts.WithLabelValues(kind).Inc()
		h.log.Warn("refused a batch that rewrites history", "site", t.Site, "name", t.Name, "seq", fork.Seq, "reason", fork.Reason)
		return wire.UploadResponse{}, &wire.Error{Status: http.StatusConflict, Code: wire.CodeFork, LastSeq: &fork.LastSeq,
			Message: fmt.Sprintf("event %d differs from the one the hub holds (%s): this terminal's store was replaced or restored; call support", fork.Seq, fork.Reason)}
	case errors.As(err, &forbidden):
		// Nothing of the batch is stored; the refusal is kept for finance.
		h.metrics.batches.WithLabelValues(wire.CodeForbidden).Inc()
		c := Conflict{Kind: "forbidden_reference", Site: t.Site, Terminal: t.Name, TerminalID: t.ID, Seq: forbidden.Seq, Reason: forbidden.Error(), At: now}
		if cerr := h.store.AddConflict(ctx, c); cerr != nil {
			return wire.UploadResponse{}, errors.Join(err, cerr)
		}
		h.metrics.conflicts.WithLabelValues(c.Kind).Inc()
		h.log.Warn("refused a batch that names what its terminal may not", "site", t.Site, "name", t.Name, "seq", forbidden.Seq, "reason", forbidden.Reason)
		return wire.UploadResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeForbidden, "%s: nothing of this batch was stored", forbidden.Error())
	case errors.Is(err, ErrRevoked):
		return wire.UploadResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeRevoked, "this terminal was revoked at the hub")
	case errors.Is(err, ErrNotFound):
		return wire.UploadResponse{}, wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "unknown terminal")
	case err != nil:
		return wire.UploadResponse{}, err
	}
	h.metrics.batches.WithLabelValues("ok").Inc()
	h.metrics.applied.Add(float64(res.Applied))
	h.metrics.duplicates.Add(float64(res.Duplicates))
	for _, c := range res.Conflicts {
		h.metrics.conflicts.WithLabelValues(c.Kind).Inc()
		h.log.Warn("conflict at upload", "kind", c.Kind, "site", t.Site, "name", t.Name, "seq", c.Seq, "reason", c.Reason)
	}
	return wire.UploadResponse{HubID: hubID, LastSeq: res.LastSeq, LastHash: res.LastHash, Applied: res.Applied, Duplicates: res.Duplicates}, nil
}

// Feed returns the next page of the site feed for terminal t.
func (h *Hub) Feed(ctx context.Context, t Terminal, req wire.FeedRequest) (wire.FeedResponse, error) {
	if len(req.Cursors) > 10000 {
		return wire.FeedResponse{}, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "too many cursors")
	}
	for id, seq := range req.Cursors {
		if !wire.IsUUID(id) || seq < 0 {
			return wire.FeedResponse{}, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "cursor %q: %d is not a terminal id and seq", id, seq)
		}
	}
	limit := req.Limit
	if limit <= 0 || limit > wire.MaxFeedPage {
		limit = wire.MaxFeedPage
	}
	certs, compact, err := h.certificates(ctx, t, req.Holds)
	if err != nil {
		return wire.FeedResponse{}, err
	}
	page, err := h.store.Feed(ctx, t.Site, t.ID, req.Cursors, limit)
	if err != nil {
		return wire.FeedResponse{}, err
	}
	out := wire.FeedResponse{Events: make([]wire.FeedEvent, 0, len(page.Events)), Peers: make([]wire.Peer, 0, len(page.Cursors)), More: page.More, Compact: compact}
	for _, e := range page.Events {
		out.Events = append(out.Events, wire.FeedEvent{Event: wire.Event(e.Event), Name: e.Name})
	}
	for _, c := range page.Cursors {
		out.Peers = append(out.Peers, wire.Peer{TerminalID: c.TerminalID, Name: c.Name, Seq: c.Seq, Certificate: certs[c.TerminalID]})
	}
	// Revocations travel a few at a time: each carries its honoured set.
	if req.RevocationsAfter < 0 {
		return wire.FeedResponse{}, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "revocations_after %d is negative", req.RevocationsAfter)
	}
	if out.Revocations, err = h.store.Revocations(ctx, t.Site, req.RevocationsAfter, 4); err != nil {
		return wire.FeedResponse{}, err
	}
	if len(out.Revocations) == 4 {
		out.More = true
	}
	if req.TicketsAfter != nil {
		if *req.TicketsAfter < 0 {
			return wire.FeedResponse{}, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "tickets_after %d is negative", *req.TicketsAfter)
		}
		ts, err := h.store.Tickets(ctx, t.Site, *req.TicketsAfter, wire.MaxFeedTickets)
		if err != nil {
			return wire.FeedResponse{}, err
		}
		out.Tickets = make([]wire.Ticket, 0, len(ts))
		for _, x := range ts {
			out.Tickets = append(out.Tickets, wire.Ticket{N: x.N, TicketNo: x.No, Site: x.Site, Day: x.Day, ValidFrom: x.ValidFrom, ValidTo: x.ValidTo,
				Party: x.Party, Vehicle: x.Vehicle, Status: x.Status})
		}
		if len(ts) == wire.MaxFeedTickets {
			out.More = true
		}
	}
	return out, nil
}

// Catalogue returns the site's newest catalogue if its publication number
// is above after, else nil.
func (h *Hub) Catalogue(ctx context.Context, t Terminal, after int64) (*wire.CatalogueResponse, error) {
	c, ok, err := h.store.LatestCatalogue(ctx, t.Site)
	if err != nil || !ok || c.Seq <= after {
		return nil, err
	}
	return &wire.CatalogueResponse{Site: c.Site, Seq: c.Seq, Version: c.Version, Body: c.Body, Signature: c.Signature, Authority: c.KeyID, PublishedAt: c.PublishedAt}, nil
}
