package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

func ed25519Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig)
}

// StaleAfter is how long after its last answer from the hub a terminal
// still counts as online (terminal.SyncState.OnlineAt).
const StaleAfter = terminal.StaleAfter

// Status is the sync line the UI shows and `lango sync status --json`
// prints.
type Status struct {
	Online         bool       `json:"online"`
	Queued         int64      `json:"queued"`
	OldestUnsynced *time.Time `json:"oldest_unsynced"`
	LastSuccess    *time.Time `json:"last_success"`
	LastError      string     `json:"last_error"`
	Hub            string     `json:"hub"`
	AckedSeq       int64      `json:"acked_seq"`
	LastSeq        int64      `json:"last_seq"`
	// CatalogueRefused is the hub's last catalogue publication this
	// terminal could not use (it sells on its own): null when none.
	CatalogueRefused *terminal.CatalogueRefusal `json:"catalogue_refused"`
}

// ReadStatus reads the sync status from disk, as of now: online means the
// last attempt reached the hub within StaleAfter.
func ReadStatus(ctx context.Context, db Outbox, now time.Time) (Status, error) {
	st, err := db.SyncState(ctx)
	if err != nil {
		return Status{}, err
	}
	hub, err := db.Setting(ctx, "hub")
	if err != nil {
		return Status{}, err
	}
	s := Status{
		Online:    st.OnlineAt(now),
		Queued:    st.Queued(),
		LastError: st.LastError,
		Hub:       hub,
		AckedSeq:  st.AckedSeq,
		LastSeq:   st.LastSeq,

		CatalogueRefused: st.CatalogueRefused,
	}
	if !st.OldestUnsynced.IsZero() {
		t := st.OldestUnsynced
		s.OldestUnsynced = &t
	}
	if !st.LastSuccess.IsZero() {
		t := st.LastSuccess
		s.LastSuccess = &t
	}
	return s, nil
}

// Status reads the sync status from disk with the Syncer's clock.
func (s *Syncer) Status(ctx context.Context) (Status, error) {
	return ReadStatus(ctx, s.db, s.cfg.Now())
}

// Enrollment is what a successful enrollment established.
type Enrollment struct {
	HubID      string
	TerminalID string
	Site       string
	Name       string
	Hub        string
}

// Enroll joins the hub at hubURL with a one-time token from
// `lango-hub terminal add`: the hub certifies this terminal's key, and the
// store keeps the certificate, trusts the site authority keys and records
// the hub URL (db.Enrolled).
func Enroll(ctx context.Context, db Outbox, hubURL, token string) (*Enrollment, error) {
	return EnrollWith(ctx, db, hubURL, token, Config{})
}

// EnrollWith is Enroll with a Config (its HTTPClient, Now and Logger).
func EnrollWith(ctx context.Context, db Outbox, hubURL, token string, cfg Config) (*Enrollment, error) {
	cfg = cfg.withDefaults()
	hub, err := terminal.ValidateSetting("hub", strings.TrimSpace(hubURL))
	if err != nil {
		return nil, err
	}
	if hub == "" {
		return nil, terminal.Errorf(terminal.EINVALID, "the hub URL is missing: --hub http://HOST:PORT")
	}
	if strings.Contains(hub, " ") {
		return nil, terminal.Errorf(terminal.EINVALID, "enroll with one hub (the relay, or the centre); add the others after with lango config set hub \"URL URL\"")
	}
	token = strings.ToLower(strings.TrimSpace(token))
	if token == "" || len(token) > 128 {
		return nil, terminal.Errorf(terminal.EINVALID, "the enrollment token is missing: it is printed by lango-hub terminal add")
	}
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	key, err := db.TerminalKey(ctx)
	if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	req := wire.EnrollRequest{Token: token, TerminalID: id.TerminalID, Site: id.Site, Name: id.Name, PublicKey: pub,
		Proof: ed25519.Sign(key, wire.EnrollMessage(token, id.TerminalID, pub))}
	body, err := wire.Marshal(req)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(hub)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(u.String(), "/")+wire.PathEnroll, bytes.NewReader(body))
	if err != nil {
		return nil, terminal.Errorf(terminal.EINVALID, "hub URL %q is not valid: %v", hub, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	s := New(db, cfg)
	var resp wire.EnrollResponse
	if _, err := s.exchange(ctx, hreq, &resp); err != nil {
		return nil, err
	}
	if resp.TerminalID != id.TerminalID || resp.Site != id.Site || resp.Name != id.Name {
		return nil, badResponse("the hub enrolled %s %s/%s, not this terminal", resp.TerminalID, resp.Site, resp.Name)
	}
	if err := db.Enrolled(ctx, []byte(resp.Certificate), []byte(resp.Authorities), hub); err != nil {
		return nil, fmt.Errorf("store enrollment: %w", err)
	}
	if err := db.SyncAcked(ctx, resp.HubID, resp.LastSeq); err != nil {
		return nil, err
	}
	if cs, ok := db.(certificateStore); ok && len(resp.Peers) > 0 {
		peers := make([]terminal.FeedPeer, 0, len(resp.Peers))
		for _, p := range resp.Peers {
			peers = append(peers, terminal.FeedPeer{TerminalID: p.TerminalID, Name: p.Name, Certificate: p.Certificate})
		}
		if _, err := cs.AddPeerCertificates(ctx, peers); err != nil {
			return nil, fmt.Errorf("store the site's certificates: %w", err)
		}
	}
	return &Enrollment{HubID: resp.HubID, TerminalID: resp.TerminalID, Site: resp.Site, Name: resp.Name, Hub: hub}, nil
}
