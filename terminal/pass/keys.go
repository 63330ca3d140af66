package pass

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"
)

// Storage forms. Keys use the standard PEM encodings (PKCS #8 "PRIVATE
// KEY", PKIX "PUBLIC KEY"), which openssl reads; certificates use a PEM
// block "LANGO TERMINAL CERTIFICATE" around the standalone binary form, with
// informational headers that are not signed and are ignored on reading.

// CertificatePEMType is the PEM block type of a terminal certificate.
const CertificatePEMType = "LANGO TERMINAL CERTIFICATE"

// MarshalPrivateKeyPEM encodes an Ed25519 private key as PKCS #8 PEM. The
// caller writes it with mode 0600.
func MarshalPrivateKeyPEM(key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key is %d bytes, want %d", ErrInvalid, len(key), ed25519.PrivateKeySize)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM reads the first "PRIVATE KEY" block of b, which must
// hold an Ed25519 key.
func ParsePrivateKeyPEM(b []byte) (ed25519.PrivateKey, error) {
	blk := findPEM(b, "PRIVATE KEY")
	if blk == nil {
		return nil, fmt.Errorf("%w: no PRIVATE KEY PEM block", ErrInvalid)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: private key: %w", ErrInvalid, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: private key is %T, not Ed25519", ErrInvalid, k)
	}
	return ek, nil
}

// MarshalPublicKeyPEM encodes an Ed25519 public key as PKIX PEM, with the
// key id as a header comment.
func MarshalPublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key is %d bytes, want %d", ErrInvalid, len(pub), ed25519.PublicKeySize)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"Key-Id": KeyIDOf(pub).String()}, Bytes: der}), nil
}

// ParsePublicKeysPEM reads every "PUBLIC KEY" block of b (a verifier's
// trust file may hold several authority keys during a rotation).
func ParsePublicKeysPEM(b []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: public key: %w", ErrInvalid, err)
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: public key is %T, not Ed25519", ErrInvalid, k)
		}
		keys = append(keys, ek)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no PUBLIC KEY PEM block", ErrInvalid)
	}
	return keys, nil
}

// MarshalPEM encodes the certificate as a PEM block.
func (c *Certificate) MarshalPEM() ([]byte, error) {
	der, err := c.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{
		Type: CertificatePEMType,
		Headers: map[string]string{
			"Site":         c.Site,
			"Terminal":     c.Terminal,
			"Key-Id":       c.KeyID().String(),
			"Authority-Id": c.Authority.String(),
			"Not-Before":   c.NotBefore.Format(time.RFC3339),
			"Not-After":    c.NotAfter.Format(time.RFC3339),
		},
		Bytes: der,
	}), nil
}

// ParseCertificatesPEM reads every certificate block of b, in order.
// Signatures are not checked here: a Verifier checks them.
func ParseCertificatesPEM(b []byte) ([]*Certificate, error) {
	var out []*Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != CertificatePEMType {
			continue
		}
		c, err := ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no %s PEM block", ErrInvalid, CertificatePEMType)
	}
	return out, nil
}

func findPEM(b []byte, typ string) *pem.Block {
	for len(bytes.TrimSpace(b)) > 0 {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil
		}
		if blk.Type == typ {
			return blk
		}
	}
	return nil
}
