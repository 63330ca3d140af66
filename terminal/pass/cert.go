package pass

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Signature contexts: every signed message starts with one, so a pass
// signature can never pass for a certificate signature or the reverse.
const (
	passContext = "LANGO-PASS-1"
	certContext = "LANGO-CERT-1"
)

// Certificate bounds. Times are whole hours since the Unix epoch.
const (
	maxCertLifetime = 10 * 366 * 24 * time.Hour
	maxCertHours    = 1 << 32
)

// KeyID names an Ed25519 public key (see terminal.KeyID).
type KeyID = terminal.KeyID

// KeyIDOf returns the KeyID of pub.
func KeyIDOf(pub ed25519.PublicKey) KeyID {
	h := sha256.Sum256(pub)
	return KeyID(binary.BigEndian.Uint32(h[:4]))
}

// Certificate is a site authority's statement that a terminal's public key
// may issue passes for a site during a window of time.
type Certificate struct {
	Authority KeyID             // the key that signed this certificate
	Site      string            // the site the terminal sells for
	Terminal  string            // the terminal's name
	PublicKey ed25519.PublicKey // the terminal's key
	NotBefore time.Time         // whole hour, UTC
	NotAfter  time.Time         // whole hour, UTC
	Signature []byte            // Ed25519 by the authority
}

// KeyID is the KeyID of the certified terminal key.
func (c *Certificate) KeyID() KeyID { return KeyIDOf(c.PublicKey) }

// Covers reports whether the window [from, until] lies within the
// certificate's.
func (c *Certificate) Covers(from, until time.Time) bool {
	return !from.Before(c.NotBefore) && !until.After(c.NotAfter)
}

// appendTail writes what follows the site in both encodings: terminal,
// public key and validity (the signed part), and with sig the signature.
func (c *Certificate) appendTail(b []byte, sig bool) []byte {
	b = appendStr(b, c.Terminal)
	b = append(b, c.PublicKey...)
	nb := uint64(c.NotBefore.Unix() / 3600)
	b = appendUvarint(b, nb)
	b = appendUvarint(b, uint64(c.NotAfter.Unix()/3600)-nb)
	if sig {
		b = append(b, c.Signature...)
	}
	return b
}

// signedMessage is what the authority signs: the context, then the
// standalone encoding without the signature.
func (c *Certificate) signedMessage() []byte {
	b := make([]byte, 0, len(certContext)+1+4+1+len(c.Site)+1+len(c.Terminal)+32+10)
	b = append(b, certContext...)
	return c.appendHead(b)
}

func (c *Certificate) appendHead(b []byte) []byte {
	b = append(b, Version1)
	b = binary.BigEndian.AppendUint32(b, uint32(c.Authority))
	b = appendStr(b, c.Site)
	return c.appendTail(b, false)
}

// MarshalBinary returns the standalone encoding (docs/PASS-FORMAT.md
// §Certificate), which ParseCertificate reads.
func (c *Certificate) MarshalBinary() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	b := c.appendHead(nil)
	return append(b, c.Signature...), nil
}

func (c *Certificate) check() error {
	switch {
	case !isCode(c.Site):
		return fmt.Errorf("%w: site %q: A–Z, 0–9, '-' or '_' (at most %d)", ErrInvalid, c.Site, maxCodeLen)
	case !isTerminalName(c.Terminal):
		return fmt.Errorf("%w: terminal name %q: 1–%d of A–Z, a–z, 0–9, '-', '_', '.'", ErrInvalid, c.Terminal, maxTerminalLen)
	case len(c.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: terminal public key is %d bytes, want %d", ErrInvalid, len(c.PublicKey), ed25519.PublicKeySize)
	case len(c.Signature) != ed25519.SignatureSize:
		return fmt.Errorf("%w: certificate signature is %d bytes, want %d", ErrInvalid, len(c.Signature), ed25519.SignatureSize)
	}
	return checkCertWindow(c.NotBefore, c.NotAfter)
}

func checkCertWindow(nb, na time.Time) error {
	if nb.Unix()%3600 != 0 || na.Unix()%3600 != 0 || nb.Nanosecond() != 0 || na.Nanosecond() != 0 {
		return fmt.Errorf("%w: certificate times must be whole hours", ErrInvalid)
	}
	if nb.Unix() < 0 || nb.Unix()/3600 >= maxCertHours {
		return fmt.Errorf("%w: certificate start %v out of range", ErrInvalid, nb)
	}
	if d := na.Sub(nb); d < time.Hour || d > maxCertLifetime {
		return fmt.Errorf("%w: certificate window %v to %v: 1 hour to 10 years", ErrInvalid, nb, na)
	}
	return nil
}

// Verify checks the certificate's signature with the authority key pub.
func (c *Certificate) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || KeyIDOf(pub) != c.Authority {
		return fmt.Errorf("certificate is signed by authority %s, not by this key", c.Authority)
	}
	if err := c.check(); err != nil {
		return err
	}
	if !ed25519.Verify(pub, c.signedMessage(), c.Signature) {
		return fmt.Errorf("certificate of terminal %s (%s) has a bad signature", c.Terminal, c.KeyID())
	}
	return nil
}

// ParseCertificate reads the standalone encoding. It does not verify the
// signature: a Verifier does, with the authority's key.
func ParseCertificate(b []byte) (*Certificate, error) {
	r := &reader{b: b}
	if v := r.u8("certificate version"); r.err == nil && v != Version1 {
		return nil, fmt.Errorf("certificate version %d; this terminal reads version %d", v, Version1)
	}
	auth := r.keyID("authority key id")
	site := r.str("site", maxCodeLen, isCode)
	c := parseCertTail(r, site)
	if r.err == nil && r.off != len(b) {
		r.fail("%d bytes after the certificate", len(b)-r.off)
	}
	if r.err != nil {
		return nil, fmt.Errorf("certificate: %w", r.err)
	}
	c.Authority = auth
	return c, nil
}

// parseCertTail reads terminal, key, validity and signature. The slices
// alias r's buffer.
func parseCertTail(r *reader, site string) *Certificate {
	c := &Certificate{Site: site}
	c.Terminal = r.str("terminal name", maxTerminalLen, isTerminalName)
	c.PublicKey = ed25519.PublicKey(r.bytes(ed25519.PublicKeySize, "terminal public key"))
	nb := r.uvarint("certificate start", 0, maxCertHours-1)
	life := r.uvarint("certificate lifetime", 1, uint64(maxCertLifetime/time.Hour))
	c.Signature = r.bytes(ed25519.SignatureSize, "certificate signature")
	c.NotBefore = time.Unix(int64(nb)*3600, 0).UTC()
	c.NotAfter = time.Unix(int64(nb+life)*3600, 0).UTC()
	return c
}

// Authority is a site authority: the hub's key once a terminal is enrolled,
// or a key a standalone terminal creates for itself. It certifies terminal
// keys; verifiers trust its public key.
type Authority struct {
	key ed25519.PrivateKey
	id  KeyID
}

// NewAuthority creates an authority with a fresh key from rand
// (crypto/rand.Reader in production).
func NewAuthority(rand io.Reader) (*Authority, error) {
	_, key, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("authority key: %w", err)
	}
	return AuthorityFromKey(key)
}

// AuthorityFromKey returns the authority whose private key is key (as read
// back with ParsePrivateKeyPEM).
func AuthorityFromKey(key ed25519.PrivateKey) (*Authority, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: authority private key is %d bytes, want %d", ErrInvalid, len(key), ed25519.PrivateKeySize)
	}
	return &Authority{key: key, id: KeyIDOf(key.Public().(ed25519.PublicKey))}, nil
}

// PublicKey is what verifiers trust.
func (a *Authority) PublicKey() ed25519.PublicKey { return a.key.Public().(ed25519.PublicKey) }

// PrivateKey is for storage (MarshalPrivateKeyPEM).
func (a *Authority) PrivateKey() ed25519.PrivateKey { return a.key }

// KeyID names the authority's key; certificates carry it.
func (a *Authority) KeyID() KeyID { return a.id }

// Certify certifies that terminal, holding the private key of pub, may
// issue passes for site from notBefore to notAfter. Both are rounded down
// to the hour; the window must be 1 hour to 10 years.
func (a *Authority) Certify(site, terminal string, pub ed25519.PublicKey, notBefore, notAfter time.Time) (*Certificate, error) {
	c := &Certificate{
		Authority: a.id,
		Site:      site,
		Terminal:  terminal,
		PublicKey: append(ed25519.PublicKey(nil), pub...),
		NotBefore: notBefore.UTC().Truncate(time.Hour),
		NotAfter:  notAfter.UTC().Truncate(time.Hour),
		Signature: make([]byte, ed25519.SignatureSize),
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	c.Signature = ed25519.Sign(a.key, c.signedMessage())
	return c, nil
}
