package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// do makes one request to the centre: signed by the relay when sign is
// set (nil body: none), with the extra headers hdr, decoding a 2xx answer
// into out. It re-signs at once when the centre says the clock is off (its
// time learnt from the answer) or that it saw the nonce.
func (r *Relay) do(ctx context.Context, method, path string, body []byte, hdr map[string]string, sign *identity, out any) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, r.opts.Upstream+path, bytes.NewReader(body))
		if err != nil {
			return terminal.Errorf(terminal.EINVALID, "the central hub's URL %q is not valid: %v", r.opts.Upstream, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if sign != nil {
			r.mu.Lock()
			at := r.opts.Now().Add(r.offset)
			r.mu.Unlock()
			var n [16]byte
			rand.Read(n[:])
			sig := wire.Sign(sign.Key, sign.RelayID, method, path, body, at, hex.EncodeToString(n[:]))
			for k, v := range sig.Header() {
				req.Header.Set(k, v)
			}
		}
		err = r.exchange(req, out)
		var we *wire.Error
		if attempt < 2 && errors.As(err, &we) && (we.Code == wire.CodeClockSkew || we.Code == wire.CodeReplay) {
			continue
		}
		return err
	}
}

func (r *Relay) exchange(req *http.Request, out any) error {
	resp, err := r.opts.HTTPClient.Do(req)
	if err != nil {
		return &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the central hub cannot be reached",
			Err: &wire.Error{Code: wire.CodeNetwork, Message: err.Error()}}
	}
	defer resp.Body.Close()
	if ms, err := strconv.ParseInt(resp.Header.Get(wire.HeaderHubTime), 10, 64); err == nil {
		r.mu.Lock()
		r.offset = time.UnixMilli(ms).Sub(r.opts.Now())
		r.mu.Unlock()
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxBody+1))
	if err != nil {
		return &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the connection to the central hub was cut",
			Err: &wire.Error{Code: wire.CodeNetwork, Message: err.Error()}}
	}
	if resp.StatusCode/100 == 2 {
		if resp.StatusCode == http.StatusNoContent || out == nil {
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the central hub's answer was unreadable",
				Err: wire.Errorf(0, wire.CodeBadResponse, "%s: %v", req.URL.Path, err)}
		}
		return nil
	}
	we := &wire.Error{}
	if json.Unmarshal(b, we) != nil || we.Code == "" {
		we = &wire.Error{Code: wire.CodeUnavailable, Message: strings.TrimSpace(string(b[:min(len(b), 200)]))}
	}
	we.Status = resp.StatusCode
	kind := terminal.EUNAUTHORIZED
	switch {
	case we.Status >= 500 || we.Status == http.StatusNotFound || we.Code == wire.CodeClockSkew || we.Code == wire.CodeReplay:
		kind = terminal.EUNAVAILABLE
	case we.Status == http.StatusConflict:
		kind = terminal.ECONFLICT
	case we.Status == http.StatusBadRequest:
		kind = terminal.EINVALID
	}
	return &terminal.Error{Kind: kind, Message: "the central hub refused: " + we.Message, Err: we}
}

// Once runs one exchange with the centre: the site's terminals (keys,
// revocations, where the centre stands with each), the catalogue, the
// site feed, then every upload the centre does not hold yet.
func (r *Relay) Once(ctx context.Context) error {
	r.run.Lock()
	defer r.run.Unlock()
	r.mu.Lock()
	id := r.id
	r.mu.Unlock()
	if id.RelayID == "" {
		return terminal.Errorf(terminal.EINVALID, "this relay is not enrolled: start it with --upstream URL --token TOKEN (from lango-hub relay add)")
	}
	err := r.terminals(ctx, &id)
	r.noteRefusal(err)
	if err != nil {
		return err
	}
	if err := r.catalogue(ctx, &id); err != nil {
		return err
	}
	if err := r.feed(ctx, &id); err != nil {
		return err
	}
	return r.forward(ctx, &id)
}

// noteRefusal records whether the centre refuses the relay itself (401,
// or 403 revoked), which stops it serving its lanes until the centre
// takes it again; a centre that cannot be reached changes nothing.
func (r *Relay) noteRefusal(err error) {
	we, ok := wireErr(err)
	why := ""
	switch {
	case ok && (we.Status == http.StatusUnauthorized && we.Code == wire.CodeUnauthorized || we.Code == wire.CodeRevoked):
		why = we.Message
	case err != nil:
		return // the centre did not say: as it was
	}
	r.mu.Lock()
	was := r.refused
	r.refused = why
	r.mu.Unlock()
	if why != "" && was == "" {
		r.log.Error("the central hub refuses this relay: answering the lanes 503 so they sync with the centre", "reason", why)
	}
}

func wireErr(err error) (*wire.Error, bool) {
	var we *wire.Error
	ok := errors.As(err, &we)
	return we, ok
}

func (r *Relay) terminals(ctx context.Context, id *identity) error {
	var resp wire.RelayTerminalsResponse
	if err := r.do(ctx, http.MethodGet, wire.PathRelayTerminals, nil, nil, id, &resp); err != nil {
		return err
	}
	if resp.Site != id.Site {
		return terminal.Errorf(terminal.EUNAVAILABLE, "the central hub listed the terminals of %s, not %s", resp.Site, id.Site)
	}
	if resp.Authorities != "" && resp.Authorities != id.Authorities {
		if err := r.db.setAuthorities(ctx, resp.Authorities); err != nil {
			return err
		}
		r.mu.Lock()
		r.id.Authorities = resp.Authorities
		r.mu.Unlock()
		id.Authorities = resp.Authorities
	}
	// Revocations first: a name freed by one may be taken by a new lane.
	for _, t := range resp.Terminals {
		if t.RevokedAt == nil {
			continue
		}
		if lt, err := r.local.Terminal(ctx, t.TerminalID); err == nil && !lt.Revoked() {
			if err := r.local.RevokeTerminal(ctx, id.Site, lt.Name, *t.RevokedAt); err != nil && !errors.Is(err, hub.ErrNotFound) {
				return err
			}
			r.log.Warn("terminal revoked at the centre: refused at the relay", "name", lt.Name, "terminal", lt.ID)
		}
	}
	for _, t := range resp.Terminals {
		if t.RevokedAt != nil {
			continue
		}
		if err := r.admit(ctx, t.TerminalID, t.Name, t.PublicKey, t.Certificate, id.Authorities); err != nil {
			r.log.Warn("a terminal of the site cannot be admitted at the relay", "name", t.Name, "terminal", t.TerminalID, "err", err)
			continue
		}
		if err := r.db.forwarded(ctx, t.TerminalID, t.Name, t.LastSeq, t.LastHash); err != nil {
			return err
		}
	}
	return nil
}

func (r *Relay) catalogue(ctx context.Context, id *identity) error {
	last, _, err := r.local.LatestCatalogue(ctx, id.Site)
	if err != nil {
		return err
	}
	var c wire.CatalogueResponse
	if err := r.do(ctx, http.MethodGet, wire.PathCatalogue+"?after="+strconv.FormatInt(last.Seq, 10), nil, nil, id, &c); err != nil {
		return err
	}
	if c.Seq <= last.Seq {
		return nil
	}
	// The terminals verify it against the site authority; the relay only
	// keeps it as signed.
	if err := r.local.PublishCatalogue(ctx, hub.Catalogue{Site: c.Site, Seq: c.Seq, Version: c.Version, Body: c.Body, Signature: c.Signature, KeyID: c.Authority, PublishedAt: c.PublishedAt}); err != nil {
		return fmt.Errorf("keep catalogue %s: %w", c.Version, err)
	}
	r.log.Info("catalogue brought down from the centre", "version", c.Version, "seq", c.Seq)
	return nil
}

func (r *Relay) feed(ctx context.Context, id *identity) error {
	for range 10000 {
		cursors, revAfter, err := r.db.feedCursors(ctx)
		if err != nil {
			return err
		}
		ticketsAfter, err := r.ticketCursor(ctx)
		if err != nil {
			return err
		}
		req, err := wire.Marshal(wire.FeedRequest{Cursors: cursors, Limit: wire.MaxFeedPage, RevocationsAfter: revAfter, TicketsAfter: &ticketsAfter})
		if err != nil {
			return err
		}
		var resp wire.FeedResponse
		if err := r.do(ctx, http.MethodPost, wire.PathFeed, wire.Compress(req), map[string]string{"Content-Encoding": "gzip"}, id, &resp); err != nil {
			return err
		}
		for _, e := range resp.Events {
			if e.Terminal == id.RelayID {
				return terminal.Errorf(terminal.EUNAVAILABLE, "the centre's feed carries the relay's own id")
			}
		}
		if err := r.db.addFeed(ctx, resp.Events, resp.Peers, resp.Revocations); err != nil {
			return err
		}
		if err := r.keepTickets(ctx, id.Site, resp.Tickets); err != nil {
			return err
		}
		for _, rv := range resp.Revocations {
			if lt, err := r.local.Terminal(ctx, rv.TerminalID); err == nil && !lt.Revoked() {
				if err := r.local.RevokeTerminal(ctx, id.Site, lt.Name, rv.RevokedAt); err != nil && !errors.Is(err, hub.ErrNotFound) {
					return err
				}
			}
		}
		if !resp.More {
			return nil
		}
	}
	return terminal.Errorf(terminal.EUNAVAILABLE, "the centre's feed does not end")
}

// forward sends the centre every kept upload it does not hold, each
// terminal's in seq order, as the terminal signed it.
func (r *Relay) forward(ctx context.Context, id *identity) error {
	ps, err := r.db.pending(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		if err := r.forwardTerminal(ctx, id, p); err != nil {
			if terminal.ErrorKind(err) == terminal.EUNAVAILABLE {
				return err
			}
			// One terminal refused (a fork, a forbidden event): the
			// centre recorded it; the others go on.
			r.log.Warn("the centre refused a relayed upload", "name", p.Name, "terminal", p.Terminal, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pipeline is how many uploads of one terminal the relay has in flight
// to the centre at once: the centre applies them in order (a batch that
// arrives early waits for its predecessor), and the next is on the wire
// while it stores the last.
const pipeline = 3

func (r *Relay) forwardTerminal(ctx context.Context, id *identity, p pending) error {
	at := p.Forwarded
	for at < p.Covered {
		var chain []upload
		for next := at; len(chain) < pipeline && next < p.Covered; {
			u, ok, err := r.db.nextUpload(ctx, p.Terminal, next)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			chain, next = append(chain, u), u.LastSeq
		}
		if len(chain) == 0 {
			r.log.Warn("the relay holds no upload that follows what the centre holds; waiting for the terminal to send again", "name", p.Name, "centre", at, "relay", p.Covered)
			return nil
		}
		type result struct {
			resp wire.UploadResponse
			err  error
		}
		results := make([]result, len(chain))
		var wg sync.WaitGroup
		for i := range chain {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := &chain[i]
				hdr := map[string]string{wire.HeaderRelayedEncoding: u.Encoding}
				for k, v := range u.Sig.Header() {
					hdr[wire.RelayedHeader(k)] = v
				}
				results[i].err = r.do(ctx, http.MethodPost, wire.PathRelayEvents, u.Body, hdr, id, &results[i].resp)
			}()
		}
		wg.Wait()
		for i, res := range results {
			var we *wire.Error
			if errors.As(res.err, &we) && we.Code == wire.CodeGap && we.LastSeq != nil {
				if *we.LastSeq == at && i > 0 {
					break // overtook a predecessor that failed: sent again next round
				}
				if *we.LastSeq != at {
					// The centre stands elsewhere (the terminal reached it
					// directly): go on from there.
					at = *we.LastSeq
					if err := r.db.forwarded(ctx, p.Terminal, p.Name, at, ""); err != nil {
						return err
					}
					break
				}
			}
			if res.err != nil {
				return res.err
			}
			if res.resp.LastSeq <= at {
				return terminal.Errorf(terminal.EUNAVAILABLE, "the centre took the upload of %s through %d but stands at %d", p.Name, chain[i].LastSeq, res.resp.LastSeq)
			}
			at = res.resp.LastSeq
			if err := r.db.forwarded(ctx, p.Terminal, p.Name, at, res.resp.LastHash); err != nil {
				return err
			}
		}
	}
	return nil
}

// Status is what the relay holds and has forwarded, for tests and
// operators.
type Status struct {
	Enrolled  bool           `json:"enrolled"`
	Site      string         `json:"site,omitempty"`
	Name      string         `json:"name,omitempty"`
	Pending   int64          `json:"pending"` // events held that the centre does not hold yet
	Terminals int            `json:"terminals"`
	Counts    map[string]int `json:"counts"`
}

// Status reports the relay's state.
func (r *Relay) Status(ctx context.Context) (Status, error) {
	_, site, name := r.Identity()
	st := Status{Enrolled: r.Enrolled(), Site: site, Name: name}
	ps, err := r.db.pending(ctx)
	if err != nil {
		return st, err
	}
	for _, p := range ps {
		st.Pending += p.Covered - p.Forwarded
	}
	if st.Counts, err = r.db.counts(ctx); err != nil {
		return st, err
	}
	st.Terminals = st.Counts["terminals"]
	return st, nil
}
