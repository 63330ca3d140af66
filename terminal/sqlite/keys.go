package sqlite

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// certLifetime is how long a terminal's self-certified key is valid before
// enrollment replaces its certificate.
const certLifetime = 5 * 365 * 24 * time.Hour

// createKeys makes the terminal's Ed25519 key pair and a local site
// authority that certifies it, so a standalone terminal issues passes that
// it (and any terminal given this authority's public key) verifies. Enrolling
// with a hub adds the hub's certificate and authority.
func (tx *Tx) createKeys(ctx context.Context, site, name string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("terminal key: %w", err)
	}
	auth, err := pass.NewAuthority(rand.Reader)
	if err != nil {
		return fmt.Errorf("local authority: %w", err)
	}
	nb := tx.now.UTC().Truncate(time.Hour).Add(-time.Hour)
	cert, err := auth.Certify(site, name, pub, nb, nb.Add(certLifetime))
	if err != nil {
		return fmt.Errorf("certify terminal key: %w", err)
	}
	privPEM, err := pass.MarshalPrivateKeyPEM(priv)
	if err != nil {
		return err
	}
	pubPEM, err := pass.MarshalPublicKeyPEM(pub)
	if err != nil {
		return err
	}
	certPEM, err := cert.MarshalPEM()
	if err != nil {
		return err
	}
	authPriv, err := pass.MarshalPrivateKeyPEM(auth.PrivateKey())
	if err != nil {
		return err
	}
	authPub, err := pass.MarshalPublicKeyPEM(auth.PublicKey())
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO keys (kid, kind, private, public, cert, created_at) VALUES (?, 'terminal', ?, ?, ?, ?)`,
		pass.KeyIDOf(pub).String(), privPEM, pubPEM, certPEM, ts(tx.now)); err != nil {
		return fmt.Errorf("store terminal key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO keys (kid, kind, private, public, created_at) VALUES (?, 'authority', ?, ?, ?)`,
		auth.KeyID().String(), authPriv, authPub, ts(tx.now)); err != nil {
		return fmt.Errorf("store local authority: %w", err)
	}
	return nil
}

// TerminalKey returns the terminal's private key.
func (db *DB) TerminalKey(ctx context.Context) (ed25519.PrivateKey, error) {
	var privPEM []byte
	if err := db.db.QueryRowContext(ctx, `SELECT private FROM keys WHERE kind = 'terminal' AND active = 1 ORDER BY created_at DESC LIMIT 1`).Scan(&privPEM); err != nil {
		return nil, fmt.Errorf("terminal key: %w", err)
	}
	return pass.ParsePrivateKeyPEM(privPEM)
}

// Certificates returns every certificate held for the terminal's keys.
func (db *DB) Certificates(ctx context.Context) ([]*pass.Certificate, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT cert FROM keys WHERE kind = 'terminal' AND cert IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	defer rows.Close()
	var out []*pass.Certificate
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		cs, err := pass.ParseCertificatesPEM(b)
		if err != nil {
			return nil, fmt.Errorf("stored certificate: %w", err)
		}
		out = append(out, cs...)
	}
	return out, rows.Err()
}

// Authorities returns the public keys of the site authorities this terminal
// trusts.
func (db *DB) Authorities(ctx context.Context) ([]ed25519.PublicKey, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT public FROM keys WHERE kind = 'authority' AND active = 1 ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("authorities: %w", err)
	}
	defer rows.Close()
	var out []ed25519.PublicKey
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		ks, err := pass.ParsePublicKeysPEM(b)
		if err != nil {
			return nil, fmt.Errorf("stored authority: %w", err)
		}
		out = append(out, ks...)
	}
	return out, rows.Err()
}

// Enrolled records what a hub returned at enrollment: a certificate for the
// terminal's key (it becomes the one passes carry, being the newest) and the
// site authority public keys to trust. The local authority stays trusted, so
// passes issued before enrollment still verify here.
func (db *DB) Enrolled(ctx context.Context, certPEM, authorityPubPEM []byte, hubURL string) error {
	id, err := db.Identity(ctx)
	if err != nil {
		return err
	}
	key, err := db.TerminalKey(ctx)
	if err != nil {
		return err
	}
	certs, err := pass.ParseCertificatesPEM(certPEM)
	if err != nil || len(certs) != 1 {
		return terminal.Errorf(terminal.EINVALID, "the hub's certificate is not readable: %v", err)
	}
	cert := certs[0]
	if !cert.PublicKey.Equal(key.Public()) || cert.Site != id.Site {
		return terminal.Errorf(terminal.EINVALID, "the hub certified another key or site (%s), not this terminal's", cert.Site)
	}
	auths, err := pass.ParsePublicKeysPEM(authorityPubPEM)
	if err != nil || len(auths) == 0 {
		return terminal.Errorf(terminal.EINVALID, "the hub's authority keys are not readable: %v", err)
	}
	signed := false
	for _, a := range auths {
		signed = signed || cert.Verify(a) == nil
	}
	if !signed {
		return terminal.Errorf(terminal.EINVALID, "the hub's certificate is not signed by the authority keys it sent")
	}
	hub, err := terminal.ValidateSetting("hub", hubURL)
	if err != nil {
		return err
	}
	defer db.resetClockWindow()
	return db.record(ctx, "the enrollment", func(tx *Tx) error {
		// The terminal row keeps its key; its certificate becomes the hub's.
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET cert = ? WHERE kind = 'terminal' AND kid = ?`, certPEM, cert.KeyID().String()); err != nil {
			return fmt.Errorf("store certificate: %w", err)
		}
		for _, a := range auths {
			pem, err := pass.MarshalPublicKeyPEM(a)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO keys (kid, kind, public, created_at) VALUES (?, 'authority', ?, ?)
				ON CONFLICT (kid) DO UPDATE SET active = 1`, pass.KeyIDOf(a).String(), pem, ts(tx.now)); err != nil {
				return fmt.Errorf("store authority: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('hub', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, hub, ts(tx.now)); err != nil {
			return err
		}
		_, err := tx.appendEvent(ctx, "", terminal.TerminalEnrolled{Hub: hub, CertificateAuthority: cert.Authority.String(), NotAfter: cert.NotAfter})
		return err
	})
}

// Issuer returns the pass issuer for the terminal's key and its newest
// certificate valid at t.
func (db *DB) Issuer(ctx context.Context, t time.Time) (*pass.Issuer, error) {
	if err := db.checkClock(ctx, db.db, t); err != nil {
		return nil, err
	}
	key, err := db.TerminalKey(ctx)
	if err != nil {
		return nil, err
	}
	certs, err := db.Certificates(ctx)
	if err != nil {
		return nil, err
	}
	cert, err := pass.SelectCertificate(certs, key, t)
	if err != nil {
		return nil, terminal.Errorf(terminal.ECONFLICT, "this terminal cannot sign passes: %v", err)
	}
	return pass.NewIssuer(key, cert)
}

// Verifier returns a pass verifier for this terminal's site that trusts the
// stored authorities.
func (db *DB) Verifier(ctx context.Context) (*pass.Verifier, error) {
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	auths, err := db.Authorities(ctx)
	if err != nil {
		return nil, err
	}
	peers, err := db.peerCertificates(ctx)
	if err != nil {
		return nil, err
	}
	// The terminal's own certificates too: its compact passes are
	// rescanned where they were sold (an exit lane at the same gate).
	own, err := db.Certificates(ctx)
	if err != nil {
		return nil, err
	}
	// Peer certificates were checked when kept; NewVerifier checks them
	// again and refuses the lot if one fails, so keep only those that
	// verify now (an authority key retired since).
	var ok []*pass.Certificate
	for _, c := range append(peers, own...) {
		if signedByAny(c, auths) {
			ok = append(ok, c)
		}
	}
	return pass.NewVerifier(pass.VerifierConfig{Site: id.Site, Authorities: auths, Certificates: ok})
}
