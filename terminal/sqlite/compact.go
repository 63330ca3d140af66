package sqlite

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// Compact passes (issue 20, docs/PASS-FORMAT.md "Compact by default"): a
// terminal holds the certificates of the site's other terminals, learnt
// from the feed, and tells the hub which (PeerCertificateHolds); the hub
// answers which of this terminal's own certificates every verifier of the
// site holds (SetCompactKeys), and passes signed under those leave the
// certificate out.

// AddPeerCertificates keeps the certificates the feed carries for the
// site's other terminals: each must be of this site and signed by one of
// its authority keys, else it is not kept (and so not listed as held).
// It returns how many were refused.
//
// A feed answer carries a certificate only to a terminal that does not
// hold it yet, so most carry none: those write nothing.
func (db *DB) AddPeerCertificates(ctx context.Context, peers []terminal.FeedPeer) (int, error) {
	id, err := db.Identity(ctx)
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(peers, func(p terminal.FeedPeer) bool { return p.Certificate != "" && p.TerminalID != id.TerminalID }) {
		return 0, nil
	}
	auths, err := db.Authorities(ctx)
	if err != nil {
		return 0, err
	}
	// Parsed and verified before the transaction, so that a sale never
	// waits on the signatures (a terminal new to a site checks every
	// peer's certificate in one answer).
	type row struct{ keyID, terminalID, name, pem string }
	var rows []row
	refused := 0
	for _, p := range peers {
		if p.Certificate == "" || p.TerminalID == id.TerminalID {
			continue
		}
		cs, err := pass.ParseCertificatesPEM([]byte(p.Certificate))
		if err != nil {
			refused++
			continue
		}
		for _, c := range cs {
			if c.Site != id.Site || !signedByAny(c, auths) {
				refused++
				continue
			}
			one, err := c.MarshalPEM()
			if err != nil {
				return 0, err
			}
			rows = append(rows, row{c.KeyID().String(), p.TerminalID, c.Terminal, string(one)})
		}
	}
	if len(rows) == 0 {
		return refused, nil
	}
	err = db.bookkeep(ctx, func(tx *Tx) error {
		// Prepared once for the page, not parsed again for each row.
		st, err := tx.PrepareContext(ctx, `INSERT INTO peer_certs (key_id, terminal_id, name, pem) VALUES (?, ?, ?, ?)
			ON CONFLICT (key_id) DO UPDATE SET terminal_id = excluded.terminal_id, name = excluded.name, pem = excluded.pem`)
		if err != nil {
			return fmt.Errorf("peer certificate: %w", err)
		}
		defer st.Close()
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, r.keyID, r.terminalID, r.name, r.pem); err != nil {
				return fmt.Errorf("peer certificate: %w", err)
			}
		}
		return nil
	})
	return refused, err
}

func signedByAny(c *pass.Certificate, auths []ed25519.PublicKey) bool {
	for _, a := range auths {
		if c.Verify(a) == nil {
			return true
		}
	}
	return false
}

// PeerCertificateHolds lists the key ids of the peer certificates held,
// for the feed request.
func (db *DB) PeerCertificateHolds(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT key_id FROM peer_certs ORDER BY key_id`)
	if err != nil {
		return nil, fmt.Errorf("peer certificates: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// peerCertificates returns the peer certificates held, for the verifier.
func (db *DB) peerCertificates(ctx context.Context) ([]*pass.Certificate, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT pem FROM peer_certs ORDER BY key_id`)
	if err != nil {
		return nil, fmt.Errorf("peer certificates: %w", err)
	}
	defer rows.Close()
	var out []*pass.Certificate
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		cs, err := pass.ParseCertificatesPEM([]byte(p))
		if err != nil {
			return nil, fmt.Errorf("stored peer certificate: %w", err)
		}
		out = append(out, cs...)
	}
	return out, rows.Err()
}

// SetCompactKeys records the hub's promise: the key ids of this terminal's
// certificates every verifier of the site holds. It replaces the last
// promise, so a key id left out withdraws it. The same promise again
// (every feed answer repeats it) writes nothing.
func (db *DB) SetCompactKeys(ctx context.Context, keyIDs []string) error {
	held, err := db.compactKeys(ctx)
	if err != nil {
		return err
	}
	want := slices.Clone(keyIDs)
	slices.Sort(want)
	if slices.Equal(held, slices.Compact(want)) {
		return nil
	}
	err = db.bookkeep(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM compact_keys`); err != nil {
			return fmt.Errorf("compact keys: %w", err)
		}
		for _, k := range keyIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO compact_keys (key_id) VALUES (?) ON CONFLICT DO NOTHING`, k); err != nil {
				return fmt.Errorf("compact keys: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		db.mu.Lock()
		db.compactOK = false // reread at the next sale
		db.mu.Unlock()
	}
	return err
}

// compactKeys lists the key ids of the hub's last promise, in order.
func (db *DB) compactKeys(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT key_id FROM compact_keys ORDER BY key_id`)
	if err != nil {
		return nil, fmt.Errorf("compact keys: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("compact keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// compactFor reports whether passes signed under key leave the
// certificate out: the hub promised every verifier of the site holds it.
func (db *DB) compactFor(ctx context.Context, key pass.KeyID) (bool, error) {
	db.mu.Lock()
	if db.compactOK {
		ok := db.compact[key.String()]
		db.mu.Unlock()
		return ok, nil
	}
	db.mu.Unlock()
	rows, err := db.db.QueryContext(ctx, `SELECT key_id FROM compact_keys`)
	if err != nil {
		return false, fmt.Errorf("compact keys: %w", err)
	}
	defer rows.Close()
	m := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return false, err
		}
		m[k] = true
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	db.mu.Lock()
	db.compact, db.compactOK = m, true
	db.mu.Unlock()
	return m[key.String()], nil
}
