package hub_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal/pass"
)

// passBytes is the binary size of a pass's text: a compact pass is the
// certificate's 100-odd bytes shorter than one that embeds it.
func passBytes(t *testing.T, text string) int {
	t.Helper()
	b, err := pass.DecodeText(text)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// TestCompactPassPromise runs the compact-pass promise with a real hub on
// loopback and real terminal stores: an issuer embeds its certificate
// until the hub's feed says every enrolled, unrevoked terminal of the site
// holds it (each got it in a feed answer and said so in its next feed
// request), then issues compact passes, which every one of them verifies.
// A terminal enrolled later gets the certificates in its enrollment
// answer and holds the promise from the start. A verifier that lost the
// certificate (the promise broken) refuses compact passes as
// unknown_issuer until its next sync, which also withdraws the promise
// until it acknowledges again. A revoked terminal does not hold the
// promise back.
func TestCompactPassPromise(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "GATE-1", 0)
	lane := newTerm(t, h, "GATE-2", 0)
	exit := newTerm(t, h, "EXIT-1", 0)

	embedded := passBytes(t, exit.sell("cash").Pass)
	isCompact := func(text string) bool { return passBytes(t, text) < embedded-90 }
	check := func(te *termEnv, text, want string) {
		t.Helper()
		pc, err := te.db.CheckPass(ctx, text)
		if err != nil {
			t.Fatalf("%s: check: %v", te.name, err)
		}
		got := ""
		if pc.Refusal != nil {
			got = string(pc.Refusal.Reason)
		}
		if got != want {
			t.Errorf("%s checks the pass: refusal %q; want %q", te.name, got, want)
		}
	}

	// EXIT-1, enrolled last: the others have never been told of its
	// certificate. No promise before they acknowledge it.
	if p := gate.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass before the issuer synced")
	}
	exit.mustSync()
	if p := exit.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass before the verifiers got the certificate")
	}
	// They get it in a feed answer, but have not said so yet.
	gate.mustSync()
	lane.mustSync()
	exit.mustSync()
	if p := exit.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass before the verifiers acknowledged the certificate")
	}
	// Only one of two acknowledges: no promise.
	gate.mustSync()
	exit.mustSync()
	if p := exit.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass while GATE-2 had not acknowledged the certificate")
	}
	// Both have: compact, and both verify it.
	lane.mustSync()
	exit.mustSync()
	fromExit := exit.sell("cash").Pass
	if !isCompact(fromExit) {
		t.Fatalf("pass of %d bytes after every verifier acknowledged; want compact (under %d)", passBytes(t, fromExit), embedded-90)
	}
	check(gate, fromExit, "")
	check(lane, fromExit, "")
	check(exit, fromExit, "") // the issuer itself: a pass rescanned where it was sold

	// GATE-1, enrolled first: the others got its certificate in their
	// enrollment answers, so its first promise came with its first sync.
	compact := gate.sell("cash").Pass
	if !isCompact(compact) {
		t.Fatal("GATE-1's certificate, given at the others' enrollment, is not promised")
	}
	check(lane, compact, "")
	check(exit, compact, "")

	// A new terminal gets the site's certificates at enrollment: it
	// verifies the compact pass at once, and the promise stands.
	late := newTerm(t, h, "EXIT-2", 0)
	check(late, compact, "")
	gate.mustSync()
	if p := gate.sell("cash").Pass; !isCompact(p) {
		t.Fatal("a terminal enrolled with the certificates withdrew the promise")
	}

	// A verifier whose store lost the certificate (a disk restored, a
	// bug) breaks the promise: it refuses the compact pass as
	// unknown_issuer, and only it. Its next sync says it holds nothing
	// (the promise is withdrawn) and brings the certificate back (it
	// verifies again); the one after restores the promise.
	forgetPeerCertificates(t, exit)
	check(exit, compact, string(pass.UnknownIssuer))
	check(lane, compact, "")
	check(exit, gate.sell("cash").Pass, string(pass.UnknownIssuer)) // the issuer does not know yet
	exit.mustSync()
	check(exit, compact, "")
	gate.mustSync()
	if p := gate.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass after EXIT-1 said it holds no certificate")
	}
	exit.mustSync()
	gate.mustSync()
	if p := gate.sell("cash").Pass; !isCompact(p) {
		t.Fatal("no compact pass after EXIT-1 acknowledged again")
	}

	// A revoked terminal holds nothing back: a new one enrolled and
	// revoked before it synced leaves the promise standing.
	newTerm(t, h, "EXIT-3", 0)
	if err := h.Hub().RevokeTerminal(ctx, "NNP", "EXIT-3"); err != nil {
		t.Fatal(err)
	}
	gate.mustSync()
	if p := gate.sell("cash").Pass; !isCompact(p) {
		t.Fatal("a revoked terminal withdrew the promise")
	}
}

// forgetPeerCertificates empties te's store of the certificates it
// learnt, as a store restored from before it had them would be.
func forgetPeerCertificates(t *testing.T, te *termEnv) {
	t.Helper()
	te.close()
	db, err := sql.Open("sqlite", te.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM peer_certs`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	te.open()
}

// TestFeedSendsOnlyCertificatesNotHeld: a feed answer carries a peer's
// certificate only to a terminal whose request does not list all of its
// keys as held (before, every answer carried every peer's: at 143
// terminals a site each exchange sent, parsed and verified them all).
func TestFeedSendsOnlyCertificatesNotHeld(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "GATE-1", 0)
	lane := newTerm(t, h, "GATE-2", 0)
	exit := newTerm(t, h, "EXIT-1", 0)
	keyOf := func(te *termEnv) string {
		t.Helper()
		iss, err := te.db.Issuer(ctx, te.now())
		if err != nil {
			t.Fatal(err)
		}
		return iss.Certificate().KeyID().String()
	}
	me, err := h.Store().Terminal(ctx, gate.id)
	if err != nil {
		t.Fatal(err)
	}
	sent := func(holds ...string) map[string]bool {
		t.Helper()
		res, err := h.Hub().Feed(ctx, me, wire.FeedRequest{Holds: holds})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, p := range res.Peers {
			if p.Certificate != "" {
				got[p.Name] = true
			}
		}
		return got
	}
	lane.mustSync()
	exit.mustSync()
	if got := sent(); !got["gate-2"] || !got["exit-1"] {
		t.Errorf("holding nothing, GATE-1 was sent the certificates of %v; want GATE-2 and EXIT-1", got)
	}
	if got := sent(keyOf(lane)); got["gate-2"] || !got["exit-1"] {
		t.Errorf("holding GATE-2's key, GATE-1 was sent the certificates of %v; want EXIT-1's only", got)
	}
	if got := sent(keyOf(lane), keyOf(exit)); len(got) != 0 {
		t.Errorf("holding every peer's key, GATE-1 was sent the certificates of %v; want none", got)
	}
}
