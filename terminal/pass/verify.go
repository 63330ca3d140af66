package pass

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Why a pass is refused is the domain's (terminal.PassReason); the names
// below keep this package's callers short.
type (
	Reason       = terminal.PassReason
	RefusedError = terminal.PassRefusal
)

// The contract's reason codes. A Verifier returns the first six; Revoked
// and AlreadyUsed need the store and are decided by the caller, which uses
// Refuse to report them the same way.
const (
	BadSignature  = terminal.PassBadSignature
	UnknownIssuer = terminal.PassUnknownIssuer
	WrongSite     = terminal.PassWrongSite
	Expired       = terminal.PassExpired
	NotYetValid   = terminal.PassNotYetValid
	Revoked       = terminal.PassRevoked
	AlreadyUsed   = terminal.PassAlreadyUsed
	Malformed     = terminal.PassMalformed
)

// Reasons lists every reason code, in the contract's order.
func Reasons() []Reason { return terminal.PassReasons() }

// Refuse returns a refusal for reason with a formatted detail.
func Refuse(reason Reason, format string, args ...any) *RefusedError {
	return terminal.RefusePass(reason, format, args...)
}

func refuse(reason Reason, cause error) *RefusedError {
	return &RefusedError{Reason: reason, Err: cause}
}

// ReasonOf returns the reason of the first *RefusedError in err's chain,
// or "" when there is none.
func ReasonOf(err error) Reason { return terminal.PassReasonOf(err) }

// DefaultSkew is how far ahead of a verifier's clock an issuing terminal's
// clock may run before its fresh passes are refused as not_yet_valid.
const DefaultSkew = 10 * time.Minute

// DefaultCacheSize bounds the verified certificates a Verifier remembers.
const DefaultCacheSize = 1024

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Site is the verifier's own site code; passes of other sites are
	// refused as wrong_site.
	Site string
	// Authorities are the public keys trusted to certify terminals of
	// Site: the hub's, and during a rotation its next key, and for a
	// standalone terminal its local authority.
	Authorities []ed25519.PublicKey
	// Certificates are terminal certificates learned through sync. They
	// are needed only for compact passes (issued without an embedded
	// certificate); each is verified before it is kept.
	Certificates []*Certificate
	// Skew is the clock tolerance for not_yet_valid: 0 means DefaultSkew,
	// a negative value none. Expiry has no tolerance.
	Skew time.Duration
	// CacheSize bounds the certificates remembered: 0 means
	// DefaultCacheSize.
	CacheSize int
}

// Verifier decides whether a pass is honoured at its site, offline, with
// only the site authorities' public keys. It is safe for concurrent use.
//
// A certificate is verified once: the verifier remembers every verified
// certificate by its bytes, so in the steady state a pass costs a single
// Ed25519 verification.
type Verifier struct {
	site   string
	skew   time.Duration
	max    int
	verify func(pub ed25519.PublicKey, msg, sig []byte) bool // ed25519.Verify; tests count calls

	mu          sync.RWMutex
	authorities map[KeyID]ed25519.PublicKey
	seen        map[string]*Certificate  // verified embedded certificates, by their bytes in the pass
	known       map[KeyID][]*Certificate // verified certificates, by terminal key id, for compact passes
}

// NewVerifier returns a verifier for cfg.Site.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if !isCode(cfg.Site) {
		return nil, fmt.Errorf("%w: verifier site %q: A–Z, 0–9, '-' or '_'", ErrInvalid, cfg.Site)
	}
	v := &Verifier{
		site:        cfg.Site,
		skew:        cfg.Skew,
		max:         cfg.CacheSize,
		verify:      ed25519.Verify,
		authorities: map[KeyID]ed25519.PublicKey{},
		seen:        map[string]*Certificate{},
		known:       map[KeyID][]*Certificate{},
	}
	if v.skew == 0 {
		v.skew = DefaultSkew
	} else if v.skew < 0 {
		v.skew = 0
	}
	if v.max <= 0 {
		v.max = DefaultCacheSize
	}
	for _, a := range cfg.Authorities {
		if err := v.Trust(a); err != nil {
			return nil, err
		}
	}
	for _, c := range cfg.Certificates {
		if err := v.AddCertificate(c); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Site is the verifier's site.
func (v *Verifier) Site() string { return v.site }

// Trust adds an authority key (key rotation: trust the new key before
// terminals are certified with it, distrust the old one after).
func (v *Verifier) Trust(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: authority public key is %d bytes, want %d", ErrInvalid, len(pub), ed25519.PublicKeySize)
	}
	id := KeyIDOf(pub)
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, ok := v.authorities[id]; ok && !old.Equal(pub) {
		return fmt.Errorf("%w: two authority keys share key id %s", ErrInvalid, id)
	}
	v.authorities[id] = slices.Clone(pub)
	return nil
}

// Distrust removes an authority key and forgets every certificate it
// signed: passes of terminals it certified become unknown_issuer.
func (v *Verifier) Distrust(id KeyID) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.authorities, id)
	for k, c := range v.seen {
		if c.Authority == id {
			delete(v.seen, k)
		}
	}
	for k, cs := range v.known {
		cs = slices.DeleteFunc(cs, func(c *Certificate) bool { return c.Authority == id })
		if len(cs) == 0 {
			delete(v.known, k)
		} else {
			v.known[k] = cs
		}
	}
}

// AddCertificate verifies a terminal certificate (learned through sync) and
// keeps it, so compact passes of that terminal verify. Certificates
// embedded in passes are learned the same way as they are verified.
func (v *Verifier) AddCertificate(c *Certificate) error {
	if c == nil {
		return fmt.Errorf("%w: no certificate", ErrInvalid)
	}
	if c.Site != v.site {
		return Refuse(WrongSite, "certificate of terminal %s is for site %s, not %s", c.Terminal, c.Site, v.site)
	}
	if err := c.check(); err != nil {
		return refuse(Malformed, err)
	}
	v.mu.RLock()
	auth := v.authorities[c.Authority]
	v.mu.RUnlock()
	if auth == nil {
		return Refuse(UnknownIssuer, "certificate of terminal %s is signed by authority %s, which site %s does not trust", c.Terminal, c.Authority, v.site)
	}
	if !v.verify(auth, c.signedMessage(), c.Signature) {
		return Refuse(BadSignature, "certificate of terminal %s (%s) does not match its signature", c.Terminal, c.KeyID())
	}
	v.mu.Lock()
	v.remember(cloneCert(c))
	v.mu.Unlock()
	return nil
}

// remember keeps c for compact passes; v.mu is held.
func (v *Verifier) remember(c *Certificate) {
	id := c.KeyID()
	for _, old := range v.known[id] {
		if slices.Equal(old.Signature, c.Signature) {
			return
		}
	}
	if len(v.known[id]) >= 8 {
		v.known[id] = v.known[id][1:]
	}
	v.known[id] = append(v.known[id], c)
}

func cloneCert(c *Certificate) *Certificate {
	d := *c
	d.PublicKey = slices.Clone(c.PublicKey)
	d.Signature = slices.Clone(c.Signature)
	return &d
}

// Verify decides whether the pass in text (as scanned) is honoured at the
// verifier's site at time now. It returns the pass, or a *RefusedError
// whose Reason is one of the contract codes. When the reason is Expired or
// NotYetValid the pass is genuine and is returned too (the exit may still
// settle an overstayed deferred pass); for other reasons it is zero.
//
// The checks run in this order: malformed, wrong_site, unknown_issuer or
// bad_signature for the certificate, bad_signature for the pass,
// unknown_issuer when the certificate does not cover the pass's window,
// not_yet_valid, expired.
func (v *Verifier) Verify(text string, now time.Time) (Pass, error) {
	msg, err := decodeText(text, len(passContext))
	if err != nil {
		return Pass{}, err
	}
	return v.verifyMessage(msg, now)
}

// VerifyBinary is Verify for the binary form.
func (v *Verifier) VerifyBinary(b []byte, now time.Time) (Pass, error) {
	if len(b) > MaxBinary {
		return Pass{}, refuse(Malformed, fmt.Errorf("%d bytes; a pass has at most %d", len(b), MaxBinary))
	}
	msg := make([]byte, len(passContext)+len(b))
	copy(msg[len(passContext):], b)
	return v.verifyMessage(msg, now)
}

func (v *Verifier) verifyMessage(msg []byte, now time.Time) (Pass, error) {
	copy(msg, passContext)
	e, err := parseMessage(msg)
	if err != nil {
		return Pass{}, refuse(Malformed, err)
	}
	p := e.pass
	if p.Site != v.site {
		return Pass{}, Refuse(WrongSite, "the pass is for site %s; this is %s", p.Site, v.site)
	}
	c, rerr := v.certificate(e)
	if rerr != nil {
		return Pass{}, rerr
	}
	if !v.verify(c.PublicKey, e.signed, e.sig) {
		return Pass{}, Refuse(BadSignature, "the pass does not match the signature of terminal %s (%s)", c.Terminal, c.KeyID())
	}
	p.Terminal = c.Terminal
	p.KeyID = c.KeyID()
	if !c.Covers(p.IssuedAt, p.ValidUntil) {
		return Pass{}, Refuse(UnknownIssuer, "terminal %s was certified from %s to %s, which does not cover the pass (%s to %s)",
			c.Terminal, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339),
			p.IssuedAt.Format(time.RFC3339), p.ValidUntil.Format(time.RFC3339))
	}
	if now.Before(p.IssuedAt.Add(-v.skew)) {
		return p, Refuse(NotYetValid, "issued at %s, after this terminal's time %s", p.IssuedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(p.ValidUntil) {
		return p, Refuse(Expired, "valid until %s; now %s", p.ValidUntil.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return p, nil
}

// certificate returns the verified certificate of the terminal that signed
// e: the embedded one (verified once, then remembered) or a known one.
func (v *Verifier) certificate(e *envelope) (*Certificate, *RefusedError) {
	if e.cert == nil {
		v.mu.RLock()
		cs := v.known[e.pass.KeyID]
		var c *Certificate
		for _, k := range cs {
			if c == nil || k.Covers(e.pass.IssuedAt, e.pass.ValidUntil) {
				c = k
			}
		}
		v.mu.RUnlock()
		if c == nil {
			return nil, Refuse(UnknownIssuer, "terminal key %s is not known at site %s: its certificate has not been synced (passes with an embedded certificate need no sync)", e.pass.KeyID, v.site)
		}
		return c, nil
	}
	v.mu.RLock()
	c := v.seen[string(e.embedded)]
	auth := v.authorities[e.cert.Authority]
	v.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	if auth == nil {
		return nil, Refuse(UnknownIssuer, "terminal %s is certified by authority %s, which site %s does not trust", e.cert.Terminal, e.cert.Authority, v.site)
	}
	if !v.verify(auth, e.cert.signedMessage(), e.cert.Signature) {
		return nil, Refuse(BadSignature, "the certificate of terminal %s does not match the signature of authority %s", e.cert.Terminal, e.cert.Authority)
	}
	c = cloneCert(e.cert)
	v.mu.Lock()
	if _, ok := v.authorities[c.Authority]; ok { // not distrusted meanwhile
		if len(v.seen) >= v.max {
			clear(v.seen)
		}
		v.seen[string(e.embedded)] = c
		v.remember(c)
	}
	v.mu.Unlock()
	return c, nil
}
