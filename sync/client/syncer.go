package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lango-pos/lango/internal/backoff"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

// Once runs one complete exchange with the hub: it asks where the hub
// stands, applies a newer signed catalogue, uploads the outbox until the
// hub holds all of it, then applies the site feed. The outcome is recorded for
// Status. It returns a *terminal.Error: EUNAVAILABLE when the hub cannot be
// reached (nothing is lost; the next Once resumes), EUNAUTHORIZED when the
// hub refuses this terminal, ECONFLICT when the hub's records disagree with
// the store's.
func (s *Syncer) Once(ctx context.Context) error {
	s.run.Lock()
	defer s.run.Unlock()
	reached, err := s.once(ctx)
	if ctx.Err() != nil {
		return err
	}
	a := terminal.SyncAttempt{At: s.cfg.Now(), Reached: reached}
	if err != nil {
		a.Err = terminal.ErrorMessage(err)
		if we, ok := WireError(err); ok && we.Message != "" {
			a.Err += ": " + we.Message
		}
	}
	if rerr := s.db.RecordSyncAttempt(context.WithoutCancel(ctx), a); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// once runs the exchange with the first hub that is available: one that
// cannot be reached, answers 5xx or does not accept the terminal gives way
// to the next (a relay that is down, to the centre). Each exchange starts again with the first, so a
// terminal comes back to its relay as soon as it answers. Whichever hub
// took which events, the exchange starts by asking the hub where it
// stands, so nothing is lost or sent twice.
func (s *Syncer) once(ctx context.Context) (reached bool, err error) {
	urls, err := s.hubURLs(ctx)
	if err != nil {
		return false, err
	}
	if len(urls) == 0 {
		urls = []string{""}
	}
	var refused error
	for i, u := range urls {
		reached, err = s.onceWith(ctx, u)
		// A relay that does not know this terminal yet (new, or its disk
		// replaced) gives way too; if no later hub answers, its refusal
		// is the answer.
		kind := terminal.ErrorKind(err)
		if kind == terminal.EUNAUTHORIZED && refused == nil {
			refused = err
		}
		if err == nil || (kind != terminal.EUNAVAILABLE && kind != terminal.EUNAUTHORIZED) || i == len(urls)-1 || ctx.Err() != nil {
			break
		}
		s.log.Info("hub not available; trying the next", "hub", u, "next", urls[i+1], "err", err)
	}
	if err != nil && terminal.ErrorKind(err) == terminal.EUNAVAILABLE && refused != nil {
		return true, refused
	}
	return reached, err
}

func (s *Syncer) onceWith(ctx context.Context, base string) (reached bool, err error) {
	ss, err := s.session(ctx, base)
	if err != nil {
		return false, err
	}
	var st wire.StateResponse
	if reached, err = s.call(ctx, ss, http.MethodGet, wire.PathState, nil, &st); err != nil {
		return reached, err
	}
	acked, err := s.reconcile(ctx, st)
	if err != nil {
		return true, err
	}
	// The catalogue first: switching writes an event, which the upload
	// then carries, so one exchange leaves nothing queued.
	if err := s.catalogue(ctx, ss, st.CatalogueSeq); err != nil {
		return true, err
	}
	if err := s.upload(ctx, ss, st.HubID, acked); err != nil {
		return true, err
	}
	return true, s.feed(ctx, ss, st.HubID)
}

// reconcile compares the hub's view of this terminal with the store's and
// returns the seq to upload after. The hub is the truth about what it
// holds: behind acked_seq means it was restored from an older backup (send
// the rest again); ahead of the store, or holding another event at its
// last seq, means this store was replaced, which only a person can sort
// out.
func (s *Syncer) reconcile(ctx context.Context, st wire.StateResponse) (int64, error) {
	local, err := s.db.SyncState(ctx)
	if err != nil {
		return 0, err
	}
	if st.LastSeq > local.LastSeq {
		return 0, &terminal.Error{Kind: terminal.ECONFLICT,
			Message: fmt.Sprintf("the hub holds %d events of this terminal but this store has %d: was it restored from a backup? Call support", st.LastSeq, local.LastSeq),
			Err:     wire.Errorf(0, wire.CodeTerminalAhead, "hub last_seq %d > store %d", st.LastSeq, local.LastSeq)}
	}
	if st.LastSeq > 0 {
		h, err := s.db.EventHash(ctx, st.LastSeq)
		if err != nil {
			return 0, err
		}
		if h != st.LastHash {
			return 0, &terminal.Error{Kind: terminal.ECONFLICT,
				Message: fmt.Sprintf("the hub holds another event %d of this terminal than this store: was it restored from a backup? Call support", st.LastSeq),
				Err:     wire.Errorf(0, wire.CodeFork, "hash at %d differs", st.LastSeq)}
		}
	}
	if st.LastSeq != local.AckedSeq || st.HubID != local.HubID {
		switch {
		case local.HubID != "" && st.HubID != local.HubID:
			s.log.Warn("syncing with another hub database than before", "was", local.HubID, "now", st.HubID, "hub_last_seq", st.LastSeq)
		case st.LastSeq < local.AckedSeq:
			s.log.Warn("the hub is behind this terminal (restored from a backup?): sending events again", "acked", local.AckedSeq, "hub_last_seq", st.LastSeq)
		}
		if err := s.db.SyncAcked(ctx, st.HubID, st.LastSeq); err != nil {
			return 0, err
		}
	}
	return st.LastSeq, nil
}

// upload sends the events after acked in batches until the hub holds all
// of them, with up to Config.Pipeline batches in flight, recording each
// acknowledgement on disk as it comes. The hub's answer is the only thing
// that moves acked_seq; after any refusal the upload goes on from where
// the hub says it stands.
func (s *Syncer) upload(ctx context.Context, ss *session, hubID string, acked int64) error {
	type result struct {
		resp wire.UploadResponse
		err  error
	}
	type flight struct {
		last int64
		done chan result
	}
	var q []*flight
	ctx, cancel := context.WithCancel(ctx)
	drain := func() {
		for _, f := range q {
			<-f.done
		}
		q = nil
	}
	defer drain()
	defer cancel()
	batch, next, stuck := s.cfg.BatchSize, acked, 0
	var encoded []byte
	var wevs []wire.Event // the batch in the protocol's own type
	for {
		for len(q) < s.cfg.Pipeline {
			evs, err := s.db.Events(ctx, next, batch)
			if err != nil {
				return err
			}
			if len(evs) == 0 {
				break
			}
			// The JSON is only needed until it is compressed: it is encoded
			// into a buffer the next batch reuses.
			wevs = wevs[:0]
			for i := range evs {
				wevs = append(wevs, wire.Event(evs[i]))
			}
			encoded = wire.AppendUpload(encoded[:0], wevs)
			if len(encoded) > wire.MaxBody && batch > 1 {
				batch = max(1, batch/2)
				continue
			}
			body := wire.Compress(encoded)
			f := &flight{last: evs[len(evs)-1].Seq, done: make(chan result, 1)}
			go func() {
				var r result
				_, r.err = s.send(ctx, ss, http.MethodPost, wire.PathEvents, body, &r.resp)
				f.done <- r
			}()
			q, next = append(q, f), f.last
		}
		if len(q) == 0 {
			return nil
		}
		f := q[0]
		q = q[1:]
		r := <-f.done
		resp, err := r.resp, r.err
		we, isWire := WireError(err)
		switch {
		case isWire && we.Code == wire.CodeTooLarge && batch > 1:
			drain()
			batch, next = max(1, batch/2), acked
			continue
		case isWire && we.Code == wire.CodeGap && we.LastSeq != nil:
			// The batch overtook one still in flight, or another process
			// of this terminal got there first: go on from where the hub
			// stands. (A hub that lost events mid-exchange answers gaps
			// until this gives up; the next exchange's state check then
			// rewinds.)
			drain()
			resp = wire.UploadResponse{HubID: hubID, LastSeq: max(acked, *we.LastSeq)}
			next = resp.LastSeq
		case err != nil:
			return err
		}
		if resp.LastSeq > f.last {
			// A batch of duplicates answers with the hub's last seq, which
			// a pipelined or concurrent upload may have taken further; but
			// never beyond this store.
			if h, err := s.db.EventHash(ctx, resp.LastSeq); err != nil {
				return err
			} else if h == "" {
				return &terminal.Error{Kind: terminal.ECONFLICT, Message: "the hub holds more events of this terminal than this store has: was it restored from a backup? Call support",
					Err: wire.Errorf(0, wire.CodeTerminalAhead, "hub last_seq %d after a batch ending at %d", resp.LastSeq, f.last)}
			}
			if len(q) > 0 {
				drain()
			}
			next = max(next, resp.LastSeq)
		}
		if resp.LastSeq <= acked {
			if stuck++; stuck > 3 {
				return &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the hub does not take this terminal's events; the work is queued",
					Err: wire.Errorf(0, wire.CodeBadResponse, "no progress past %d", acked)}
			}
		} else {
			stuck = 0
		}
		if resp.HubID != "" {
			hubID = resp.HubID
		}
		if resp.LastSeq != acked {
			if err := s.db.SyncAcked(ctx, hubID, resp.LastSeq); err != nil {
				return err
			}
		}
		acked = resp.LastSeq
	}
}

// catalogue fetches, verifies and applies a catalogue published after the
// one this terminal applied.
func (s *Syncer) catalogue(ctx context.Context, ss *session, hubSeq int64) error {
	st, err := s.db.SyncState(ctx)
	if err != nil {
		return err
	}
	if hubSeq <= st.CatalogueSeq {
		return nil
	}
	var c wire.CatalogueResponse
	if _, err := s.call(ctx, ss, http.MethodGet, wire.PathCatalogue+"?after="+strconv.FormatInt(st.CatalogueSeq, 10), nil, &c); err != nil {
		return err
	}
	if c.Seq == 0 { // 204: nothing newer after all
		return nil
	}
	cat, err := s.verifyCatalogue(ctx, ss, &c)
	if err != nil {
		// Keep selling on the catalogue this terminal has, and go on
		// syncing: a bad publication must not stop a site.
		reason := terminal.ErrorMessage(err)
		var we *wire.Error
		if errors.As(err, &we) {
			reason = we.Message
		}
		s.log.Warn("catalogue from the hub refused: selling on the one this terminal has", "version", c.Version, "seq", c.Seq, "reason", reason)
		return s.db.RefuseHubCatalogue(ctx, c.Seq, c.Version, reason)
	}
	if err := s.db.ApplyHubCatalogue(ctx, cat, c.Seq); err != nil {
		if terminal.ErrorKind(err) == terminal.ECONFLICT { // applied meanwhile by another process
			return nil
		}
		return err
	}
	s.log.Info("catalogue from the hub applied", "version", cat.Version, "seq", c.Seq)
	return nil
}

// verifyCatalogue checks a catalogue's signature against the authority keys
// this terminal trusts, then parses it and checks it covers the site.
func (s *Syncer) verifyCatalogue(ctx context.Context, ss *session, c *wire.CatalogueResponse) (*terminal.Catalogue, error) {
	if c.Site != ss.id.Site {
		return nil, wire.Errorf(0, wire.CodeBadCatalogue, "catalogue for site %q, not %s", c.Site, ss.id.Site)
	}
	keys, err := s.db.Authorities(ctx)
	if err != nil {
		return nil, err
	}
	msg := wire.CatalogueMessage(c.Site, c.Seq, c.Body)
	ok := false
	for _, k := range keys {
		if pass.KeyIDOf(k).String() == c.Authority && ed25519Verify(k, msg, c.Signature) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, wire.Errorf(0, wire.CodeBadCatalogue, "catalogue %s (publication %d) is not signed by a trusted site authority", c.Version, c.Seq)
	}
	cat, err := terminal.ParseCatalogue(c.Body)
	if err != nil {
		return nil, fmt.Errorf("catalogue %s: %w", c.Version, err)
	}
	if _, ok := cat.Site(ss.id.Site); !ok {
		return nil, wire.Errorf(0, wire.CodeBadCatalogue, "catalogue %s does not cover site %s", cat.Version, ss.id.Site)
	}
	return cat, nil
}

// feed reads the site feed until the hub has no more, applying each page.
func (s *Syncer) feed(ctx context.Context, ss *session, hubID string) error {
	tickets, withTickets := s.db.(TicketStore)
	for range 10000 {
		cursors, err := s.db.FeedCursors(ctx)
		if err != nil {
			return err
		}
		revoked, err := s.db.RevocationCursor(ctx)
		if err != nil {
			return err
		}
		cs, _ := s.db.(certificateStore)
		var holds []string
		if cs != nil {
			if holds, err = cs.PeerCertificateHolds(ctx); err != nil {
				return err
			}
		}
		var ticketsAfter *int64
		if withTickets {
			n, err := tickets.TicketCursor(ctx, hubID)
			if err != nil {
				return err
			}
			ticketsAfter = &n
		}
		var resp wire.FeedResponse
		req, err := wire.Marshal(wire.FeedRequest{Cursors: cursors, Limit: s.cfg.FeedPage, RevocationsAfter: revoked, Holds: holds, TicketsAfter: ticketsAfter})
		if err != nil {
			return err
		}
		if _, err := s.call(ctx, ss, http.MethodPost, wire.PathFeed, req, &resp); err != nil {
			return err
		}
		peers := make([]terminal.FeedPeer, 0, len(resp.Peers))
		known := map[string]bool{}
		for _, p := range resp.Peers {
			peers = append(peers, terminal.FeedPeer{TerminalID: p.TerminalID, Name: p.Name, Seq: p.Seq, Certificate: p.Certificate})
			known[p.TerminalID] = true
		}
		evs := make([]terminal.FeedEvent, 0, len(resp.Events))
		for i := range resp.Events {
			e := &resp.Events[i]
			if !known[e.Terminal] || e.Terminal == ss.id.TerminalID {
				return badResponse("feed event %s/%d is not of another terminal of the site", e.Terminal, e.Seq)
			}
			if e.ComputeHash() != e.Hash {
				// The hub keeps a broken chain's events and reports the
				// break; the marks they carry only make passes refused, so
				// they are applied all the same.
				s.log.Warn("feed event does not match its hash", "terminal", e.Name, "seq", e.Seq, "type", e.Type)
			}
			evs = append(evs, terminal.FeedEvent{Event: terminal.Event(e.Event), Name: e.Name})
		}
		rs, err := revocations(resp.Revocations, revoked)
		if err != nil {
			return err
		}
		if _, err := s.db.ApplyFeed(ctx, evs, peers); err != nil {
			return err
		}
		if err := s.db.ApplyRevocations(ctx, rs); err != nil {
			return err
		}
		if cs != nil {
			if err := s.certificates(ctx, cs, peers, resp.Compact); err != nil {
				return err
			}
		}
		for _, r := range rs {
			s.log.Warn("a terminal of the site was revoked: its passes not received by the hub are refused", "name", r.Name, "terminal", r.TerminalID, "honoured", len(r.Honoured))
		}
		if withTickets && len(resp.Tickets) > 0 {
			if err := s.applyTickets(ctx, tickets, hubID, resp.Tickets); err != nil {
				if terminal.ErrorKind(err) != terminal.EINVALID {
					return err
				}
				// Refused and recorded (sync status shows it): the list
				// held stays in use, and the feed's events go on without
				// tickets for this exchange.
				s.log.Warn("ticket list refused", "err", err)
				withTickets = false
				if !resp.More {
					return nil
				}
				continue
			}
		}
		if !resp.More {
			return nil
		}
	}
	return badResponse("the feed does not end")
}

// certificateStore is an Outbox that keeps the site's certificates for
// compact passes (*sqlite.DB is one).
type certificateStore interface {
	PeerCertificateHolds(ctx context.Context) ([]string, error)
	AddPeerCertificates(ctx context.Context, peers []terminal.FeedPeer) (int, error)
	SetCompactKeys(ctx context.Context, keyIDs []string) error
}

// certificates keeps the peers' certificates the feed carried and the
// hub's compact-pass promise. The promise is checked to name only this
// terminal's key ids (8 hex digits).
func (s *Syncer) certificates(ctx context.Context, cs certificateStore, peers []terminal.FeedPeer, compact []string) error {
	n, err := cs.AddPeerCertificates(ctx, peers)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Warn("the feed carried certificates not signed by the site authority; not kept", "refused", n)
	}
	for _, k := range compact {
		if len(k) != 8 || strings.Trim(k, "0123456789abcdef") != "" {
			return badResponse("compact key id %q is not 8 hex digits", k)
		}
	}
	return cs.SetCompactKeys(ctx, compact)
}

// TicketStore is what a store that keeps the site's prepaid tickets
// offers the feed (*sqlite.DB is one); a store without it is not asked
// for tickets.
type TicketStore interface {
	// TicketCursor is the last change number taken from hubID's feed.
	TicketCursor(ctx context.Context, hubID string) (int64, error)
	// ApplyTickets takes a page whole or refuses it (EINVALID), keeping
	// the list held.
	ApplyTickets(ctx context.Context, hubID string, page []ticket.Change) error
	// RefuseTickets records why a page was refused.
	RefuseTickets(ctx context.Context, reason string) error
}

// applyTickets reads a feed page's tickets strictly and gives them to the
// store; a page that cannot be read is refused as the store refuses one.
func (s *Syncer) applyTickets(ctx context.Context, st TicketStore, hubID string, in []wire.Ticket) error {
	page, err := ticketsFromWire(in)
	if err != nil {
		err = terminal.Errorf(terminal.EINVALID, "the hub's ticket list is refused, the list held stays in use: %v", err)
		if rerr := st.RefuseTickets(ctx, err.Error()); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return st.ApplyTickets(ctx, hubID, page)
}

// ticketsFromWire reads the party and vehicle of each ticket, refusing
// unknown fields; the store checks the rest (terminal/ticket Validate).
func ticketsFromWire(in []wire.Ticket) ([]ticket.Change, error) {
	out := make([]ticket.Change, 0, len(in))
	for i := range in {
		w := &in[i]
		c := ticket.Change{N: w.N, Day: w.Day, Ticket: ticket.Ticket{No: w.TicketNo, Site: w.Site, ValidFrom: w.ValidFrom, ValidTo: w.ValidTo, Status: w.Status}}
		if err := strictJSON(w.Party, &c.Party); err != nil {
			return nil, fmt.Errorf("ticket %.50q: party: %v", w.TicketNo, err)
		}
		if len(w.Vehicle) > 0 && string(w.Vehicle) != "null" {
			c.Vehicle = &ticket.Vehicle{}
			if err := strictJSON(w.Vehicle, c.Vehicle); err != nil {
				return nil, fmt.Errorf("ticket %.50q: vehicle: %v", w.TicketNo, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one value")
	}
	return nil
}

// revocations checks the feed's revocations: numbered above after, with
// well-formed key ids and pass ids, and the honoured list whole (its
// digest).
func revocations(in []wire.Revocation, after int64) ([]terminal.Revocation, error) {
	out := make([]terminal.Revocation, 0, len(in))
	for _, r := range in {
		if r.N <= after || !wire.IsUUID(r.TerminalID) || len(r.KeyIDs) == 0 {
			return nil, badResponse("revocation %d of %q is not well formed", r.N, r.Name)
		}
		after = r.N
		if !slices.IsSorted(r.Honoured) || wire.HonouredDigest(r.Honoured) != r.Digest {
			return nil, badResponse("revocation %d of %s: the honoured passes do not match their digest", r.N, r.Name)
		}
		rv := terminal.Revocation{N: r.N, TerminalID: r.TerminalID, Name: r.Name, RevokedAt: r.RevokedAt, Honoured: r.Honoured}
		for _, k := range r.KeyIDs {
			var id pass.KeyID
			if err := id.UnmarshalText([]byte(k)); err != nil {
				return nil, badResponse("revocation %d of %s: key id %q: %v", r.N, r.Name, k, err)
			}
			rv.KeyIDs = append(rv.KeyIDs, id)
		}
		for _, id := range r.Honoured {
			if !wire.IsUUID(id) {
				return nil, badResponse("revocation %d of %s: honoured pass %q is not a UUID", r.N, r.Name, id)
			}
		}
		out = append(out, rv)
	}
	return out, nil
}

// Start runs exchanges in the background until Close: every Interval when
// caught up, and after a failure with capped exponential backoff and
// jitter, reset by the next success. Kick asks for an exchange now.
func (s *Syncer) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.stop, s.cancel = make(chan struct{}), cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		b := backoff.Backoff{Min: s.cfg.MinBackoff, Max: s.cfg.MaxBackoff, Rand: s.cfg.Rand}
		for {
			wait := s.cfg.Interval
			failed := false
			if err := s.Once(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				wait, failed = b.Next(), true
				s.log.Info("sync failed; will retry", "in", wait.Round(time.Millisecond), "err", err)
			} else {
				b.Reset()
			}
			var probe <-chan time.Time
			var ticker *time.Ticker
			if failed && s.cfg.ProbeEvery > 0 && wait > s.cfg.ProbeEvery {
				ticker = time.NewTicker(s.cfg.ProbeEvery)
				probe = ticker.C
			}
			after := s.cfg.After(wait)
		waiting:
			for {
				select {
				case <-s.stop:
					return
				case <-ctx.Done():
					return
				case <-s.kick:
					break waiting
				case <-after:
					break waiting
				case <-probe:
					if s.hubAnswers(ctx) {
						s.log.Info("the hub answers again: syncing now")
						break waiting
					}
				}
			}
			if ticker != nil {
				ticker.Stop()
			}
		}
	}()
}

// hubAnswers asks each hub's /healthz, unsigned, whether one is back.
func (s *Syncer) hubAnswers(ctx context.Context) bool {
	urls, err := s.hubURLs(ctx)
	if err != nil {
		return false
	}
	for _, u := range urls {
		if s.healthy(ctx, u) {
			return true
		}
	}
	return false
}

func (s *Syncer) healthy(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+wire.PathHealth, nil)
	if err != nil {
		return false
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Kick asks the background worker for an exchange now (after a sale has
// committed, say). It never blocks.
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close stops the background worker, cancelling an exchange in flight
// (which loses nothing: the hub's answer is what moves acked_seq), and
// waits for it.
func (s *Syncer) Close() error {
	if s.stop != nil {
		close(s.stop)
		s.cancel()
		s.wg.Wait()
		s.stop = nil
	}
	return nil
}
