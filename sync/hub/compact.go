package hub

import (
	"context"
	"net/http"
	"slices"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal/pass"
)

// maxHolds bounds a feed request's holds: a site has far fewer terminals.
const maxHolds = 10000

// certificates is what a feed answer says about the site's certificates:
// each peer's, and the reader's own certificates every other verifier of
// the site holds (the compact-pass promise, docs/PASS-FORMAT.md).
//
// It records the reader's holds (its request's list) first, so the answer
// to the other terminals reflects it from now on. The promise covers every
// enrolled, unrevoked terminal of the site except relays (they verify no
// passes); a terminal enrolled later holds nothing until its first feed
// request, which withdraws the promise from every issuer until then.
func (h *Hub) certificates(ctx context.Context, t Terminal, holds []string) (map[string]string, []string, error) {
	if len(holds) > maxHolds {
		return nil, nil, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "too many holds")
	}
	mine := make([]string, 0, len(holds))
	for _, k := range holds {
		if !isKeyID(k) {
			return nil, nil, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "hold %q is not a key id (8 hex digits)", k)
		}
		mine = append(mine, k)
	}
	slices.Sort(mine)
	mine = slices.Compact(mine)
	terms, err := h.store.SiteTerminals(ctx, t.Site)
	if err != nil {
		return nil, nil, err
	}
	var own []string
	for _, o := range terms {
		if o.ID == t.ID && !o.Revoked() {
			own = h.keyIDsOf(o.Certificate)
		}
	}
	// Of the others' holds, only whether they hold this terminal's keys.
	held, all, err := h.store.SiteHolds(ctx, t.Site, t.ID, own)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(held, mine) {
		if err := h.store.SetCertificateHolds(ctx, t.ID, mine); err != nil {
			return nil, nil, err
		}
	}
	certs := map[string]string{}
	var verifiers []string
	for _, o := range terms {
		if o.Revoked() || o.ID == t.ID {
			continue
		}
		// A peer's certificate goes only to a terminal that does not say
		// it holds all of its keys: at 143 terminals a site, every feed
		// answer carried every one, and every terminal parsed, verified
		// and stored them all again at each exchange.
		if o.Relay {
			continue
		}
		verifiers = append(verifiers, o.ID)
		if !holdsAll(mine, h.keyIDsOf(o.Certificate)) {
			certs[o.ID] = o.Certificate
		}
	}
	var compact []string
	for _, k := range own {
		ok := true
		for _, id := range verifiers {
			if _, found := slices.BinarySearch(all[id], k); !found {
				ok = false
				break
			}
		}
		if ok {
			compact = append(compact, k)
		}
	}
	return certs, compact, nil
}

// holdsAll reports whether the sorted key ids held include every one of
// keys (none: the certificate is not one the hub can read, so it is sent).
func holdsAll(held, keys []string) bool {
	if len(keys) == 0 {
		return false
	}
	for _, k := range keys {
		if _, ok := slices.BinarySearch(held, k); !ok {
			return false
		}
	}
	return true
}

func isKeyID(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// keyIDsOf returns the key ids of the certificates in a PEM text (none if
// it holds no certificate the hub can read), parsed once a text.
func (h *Hub) keyIDsOf(certPEM string) []string {
	if ids, ok := h.keyIDs.Load(certPEM); ok {
		return ids.([]string)
	}
	var out []string
	if cs, err := pass.ParseCertificatesPEM([]byte(certPEM)); err == nil {
		for _, c := range cs {
			out = append(out, c.KeyID().String())
		}
	}
	h.keyIDs.Store(certPEM, out)
	return out
}

// enrollCertificates gives a terminal just enrolled the certificates of
// the site's other terminals, and records them as held: a newcomer does
// not withdraw the issuers' promises, and verifies their compact passes
// from its first minute. (A newcomer that refuses one, not signed by the
// site authority it trusts, says so in its first feed request.)
func (h *Hub) enrollCertificates(ctx context.Context, t Terminal) ([]wire.Peer, error) {
	terms, err := h.store.SiteTerminals(ctx, t.Site)
	if err != nil {
		return nil, err
	}
	var peers []wire.Peer
	var holds []string
	for _, o := range terms {
		if o.ID == t.ID || o.Revoked() || o.Relay || o.Certificate == "" {
			continue
		}
		peers = append(peers, wire.Peer{TerminalID: o.ID, Name: o.Name, Certificate: o.Certificate})
		holds = append(holds, h.keyIDsOf(o.Certificate)...)
	}
	slices.Sort(holds)
	holds = slices.Compact(holds)
	if err := h.store.SetCertificateHolds(ctx, t.ID, holds); err != nil {
		return nil, err
	}
	return peers, nil
}
