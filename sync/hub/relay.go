package hub

import (
	"context"
	"errors"
	"net/http"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// A site relay is a hub at the site (lango-hub serve --upstream) that
// serves its terminals while the WAN is down and forwards their uploads,
// unchanged, when it is up. To the central hub it is enrolled like a
// terminal (its own key, certified by the site authority, bound to one
// site) but marked Relay: it may list its site's terminals and carry
// uploads they signed, and it never sends events of its own. It holds no
// authority key, so it can certify nothing, and the hub checks each
// relayed upload against the terminal's own signature, so it can forge
// nothing.

// AddRelay makes a one-time enrollment token for a relay named name at
// site, as SITE.NAME.SECRET: the relay learns from it whom to enroll as.
// The hub keeps only the secret's hash.
func (h *Hub) AddRelay(ctx context.Context, site, name string) (string, error) {
	secret, err := h.issue(ctx, site, name, false, true)
	if err != nil {
		return "", err
	}
	site, _ = NormalizeSite(site)
	name, _ = NormalizeName(name)
	return site + "." + name + "." + secret, nil
}

// RelayTerminals lists the terminals of relay r's site, with their
// certified keys and where the hub stands with each.
func (h *Hub) RelayTerminals(ctx context.Context, r Terminal) (wire.RelayTerminalsResponse, error) {
	if !r.Relay {
		return wire.RelayTerminalsResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeForbidden, "%s of %s is a terminal, not a relay", r.Name, r.Site)
	}
	hubID, err := h.store.HubID(ctx)
	if err != nil {
		return wire.RelayTerminalsResponse{}, err
	}
	auths, err := h.authoritiesPEM(ctx, r.Site)
	if err != nil {
		return wire.RelayTerminalsResponse{}, err
	}
	ts, err := h.store.SiteTerminals(ctx, r.Site)
	if err != nil {
		return wire.RelayTerminalsResponse{}, err
	}
	out := wire.RelayTerminalsResponse{HubID: hubID, Site: r.Site, Authorities: auths, Terminals: []wire.RelayTerminal{}}
	for _, t := range ts {
		if t.Relay {
			continue
		}
		rt := wire.RelayTerminal{TerminalID: t.ID, Name: t.Name, PublicKey: t.PublicKey, Certificate: t.Certificate, LastSeq: t.LastSeq, LastHash: t.LastHash}
		if t.Revoked() {
			at := t.RevokedAt
			rt.RevokedAt = &at
		}
		out.Terminals = append(out.Terminals, rt)
	}
	return out, nil
}

// RelayUpload applies an upload that terminal id signed and relay r
// carries: body is the upload exactly as the terminal sent it (encoded as
// enc), sig the terminal's signature over it. The terminal must be of the
// relay's site; its signature must verify with the key the hub certified,
// so a relay that changed a byte of the upload is refused.
func (h *Hub) RelayUpload(ctx context.Context, r Terminal, sig wire.Signed, enc string, body []byte) (wire.UploadResponse, error) {
	if !r.Relay {
		return wire.UploadResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeForbidden, "%s of %s is a terminal, not a relay: it sends its own uploads", r.Name, r.Site)
	}
	t, err := h.store.Terminal(ctx, sig.Terminal)
	switch {
	case errors.Is(err, ErrNotFound):
		return wire.UploadResponse{}, wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "unknown terminal %s", sig.Terminal)
	case err != nil:
		return wire.UploadResponse{}, err
	case t.Site != r.Site || t.Relay:
		return wire.UploadResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeForbidden, "terminal %s is not a terminal of %s", sig.Terminal, r.Site)
	case t.Revoked():
		return wire.UploadResponse{}, wire.Errorf(http.StatusForbidden, wire.CodeRevoked, "terminal %s of %s was revoked", t.Name, t.Site)
	}
	// The terminal signed POST /v1/events with this body; its time and
	// nonce are not checked against the clock or the nonce memory: the
	// upload may have waited at the relay for days, and an upload the hub
	// holds changes nothing when it comes again.
	if !sig.Verify(t.PublicKey, http.MethodPost, wire.PathEvents, body) {
		h.metrics.authFailures.WithLabelValues("relayed_signature").Inc()
		h.log.Warn("refused a relayed upload whose terminal signature does not verify", "relay", r.Name, "site", r.Site, "terminal", t.Name)
		return wire.UploadResponse{}, wire.Errorf(http.StatusUnauthorized, wire.CodeUnauthorized, "the terminal's signature over this upload does not verify: the relay changed it")
	}
	plain, werr := decodeBody(enc, body, nil, wire.MaxBody)
	if werr != nil {
		return wire.UploadResponse{}, werr
	}
	in, err := wire.DecodeUpload(plain)
	if err != nil {
		return wire.UploadResponse{}, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "the relayed body is not an upload: %v", err)
	}
	events := make([]terminal.Event, len(in))
	for i := range in {
		events[i] = terminal.Event(in[i])
	}
	return h.Upload(ctx, t, events)
}

func (s *Server) handleRelayTerminals(w http.ResponseWriter, r *http.Request, t Terminal, _ []byte) {
	resp, err := s.hub.RelayTerminals(r.Context(), t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

// handleRelayEvents serves a relayed upload. The relay sends the
// terminal's body as it was sent (no Content-Encoding of its own): the
// relay's signature covers it, and the terminal's, in the Lango-Relayed-*
// headers, covers it too.
func (s *Server) handleRelayEvents(w http.ResponseWriter, r *http.Request, relay Terminal, body []byte) {
	sig, err := wire.ParseSigned(func(k string) string { return r.Header.Get(wire.RelayedHeader(k)) })
	if err != nil {
		s.writeError(w, r, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "the relayed signature: %v", err))
		return
	}
	resp, err := s.hub.RelayUpload(r.Context(), relay, sig, r.Header.Get(wire.HeaderRelayedEncoding), body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}
