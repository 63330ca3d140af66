package pass

import (
	"crypto/ed25519"
	"fmt"
	"time"
)

// Issuer signs passes on a terminal with the terminal's private key, under
// the certificate a site authority gave that key. It holds no mutable
// state and is safe for concurrent use.
type Issuer struct {
	key  ed25519.PrivateKey
	cert *Certificate
}

// NewIssuer returns the issuer for key and its certificate.
func NewIssuer(key ed25519.PrivateKey, cert *Certificate) (*Issuer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: terminal private key is %d bytes, want %d", ErrInvalid, len(key), ed25519.PrivateKeySize)
	}
	if cert == nil {
		return nil, fmt.Errorf("%w: no certificate", ErrInvalid)
	}
	if err := cert.check(); err != nil {
		return nil, err
	}
	if !cert.PublicKey.Equal(key.Public()) {
		return nil, fmt.Errorf("%w: certificate of terminal %s is for key %s, not this terminal's key %s",
			ErrInvalid, cert.Terminal, cert.KeyID(), KeyIDOf(key.Public().(ed25519.PublicKey)))
	}
	return &Issuer{key: key, cert: cloneCert(cert)}, nil
}

// Certificate is the issuer's certificate.
func (is *Issuer) Certificate() *Certificate { return cloneCert(is.cert) }

// Issue signs p and returns its text form, for the QR code and the
// contract's "pass" field. The certificate is embedded, so any verifier
// that trusts the site authority verifies the pass without having seen this
// terminal.
//
// The caller sets ID (NewID), ValidUntil, CatalogueVersion, Party, Plate and
// SeatBand (or neither), and Paid or Due. Site, Terminal and KeyID, when
// set, must match the certificate; IssuedAt, when set, must match ID. The
// pass window must lie within the certificate's. Issue is deterministic:
// the same pass gives the same text, so a reprint is identical.
func (is *Issuer) Issue(p Pass) (string, error) {
	b, err := is.issue(p, true)
	if err != nil {
		return "", err
	}
	return EncodeText(b), nil
}

// IssueCompact is Issue without the embedded certificate (about 100 bytes
// smaller). Only verifiers that learned this terminal's certificate through
// sync (Verifier.AddCertificate) can verify it: a verifier that has never
// seen the terminal refuses it as unknown_issuer.
func (is *Issuer) IssueCompact(p Pass) (string, error) {
	b, err := is.issue(p, false)
	if err != nil {
		return "", err
	}
	return EncodeText(b), nil
}

// IssueBinary is Issue returning the binary form.
func (is *Issuer) IssueBinary(p Pass) ([]byte, error) { return is.issue(p, true) }

func (is *Issuer) issue(p Pass, embed bool) ([]byte, error) {
	c := is.cert
	switch {
	case p.Site != "" && p.Site != c.Site:
		return nil, fmt.Errorf("%w: pass for site %s, but terminal %s is certified for %s", ErrInvalid, p.Site, c.Terminal, c.Site)
	case p.Terminal != "" && p.Terminal != c.Terminal:
		return nil, fmt.Errorf("%w: pass names terminal %s, but the certificate is for %s", ErrInvalid, p.Terminal, c.Terminal)
	case p.KeyID != 0 && p.KeyID != c.KeyID():
		return nil, fmt.Errorf("%w: pass names key %s, but this terminal's key is %s", ErrInvalid, p.KeyID, c.KeyID())
	}
	q, err := canonical(p)
	if err != nil {
		return nil, err
	}
	q.Site, q.Terminal, q.KeyID = c.Site, c.Terminal, c.KeyID()
	if !c.Covers(q.IssuedAt, q.ValidUntil) {
		return nil, fmt.Errorf("%w: terminal %s is certified from %s to %s, which does not cover the pass (%s to %s): renew the certificate",
			ErrInvalid, c.Terminal, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339),
			q.IssuedAt.Format(time.RFC3339), q.ValidUntil.Format(time.RFC3339))
	}
	msg := make([]byte, 0, 256)
	msg = append(msg, passContext...)
	if embed {
		msg = appendBody(msg, &q, c)
	} else {
		msg = appendBody(msg, &q, nil)
	}
	if len(msg)-len(passContext)+ed25519.SignatureSize > MaxBinary {
		return nil, fmt.Errorf("%w: the pass is %d bytes, more than %d: split the sale", ErrInvalid, len(msg)-len(passContext)+ed25519.SignatureSize, MaxBinary)
	}
	sig := ed25519.Sign(is.key, msg)
	return append(msg[len(passContext):], sig...), nil
}

// SelectCertificate picks, among a terminal's certificates (it may hold
// several over time: renewals, a new key after rotation, the hub's after a
// standalone start), the one for key that is valid at t and lasts longest.
func SelectCertificate(certs []*Certificate, key ed25519.PrivateKey, t time.Time) (*Certificate, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: terminal private key is %d bytes, want %d", ErrInvalid, len(key), ed25519.PrivateKeySize)
	}
	pub := key.Public()
	var best *Certificate
	for _, c := range certs {
		if c == nil || !c.PublicKey.Equal(pub) || t.Before(c.NotBefore) || !t.Before(c.NotAfter) {
			continue
		}
		if best == nil || c.NotAfter.After(best.NotAfter) {
			best = c
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: no certificate for key %s is valid at %s: enroll or renew", ErrInvalid, KeyIDOf(pub.(ed25519.PublicKey)), t.UTC().Format(time.RFC3339))
	}
	return best, nil
}
