package hub_test

import (
	"context"
	"testing"

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
// A terminal enrolled later withdraws the promise until it has synced;
// one that checks a compact pass before it synced — the issuer's promise
// made before it was enrolled, so broken — refuses it as unknown_issuer,
// and honours it once synced. A revoked terminal does not hold the
// promise back.
func TestCompactPassPromise(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "GATE-1", 0)
	lane := newTerm(t, h, "GATE-2", 0)
	exit := newTerm(t, h, "EXIT-1", 0)

	embedded := passBytes(t, gate.sell("cash").Pass)
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

	// Nobody has synced: no promise.
	gate.mustSync()
	if p := gate.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass before the verifiers got the certificate")
	}
	// The verifiers get the certificate in a feed answer, but have not
	// said so yet: still no promise.
	lane.mustSync()
	exit.mustSync()
	gate.mustSync()
	if p := gate.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass before the verifiers acknowledged the certificate")
	}
	// Only one of two acknowledges: no promise.
	lane.mustSync()
	gate.mustSync()
	if p := gate.sell("cash").Pass; isCompact(p) {
		t.Fatal("compact pass while EXIT-1 had not acknowledged the certificate")
	}
	// Both have: compact, and both verify it.
	exit.mustSync()
	gate.mustSync()
	compact := gate.sell("cash").Pass
	if !isCompact(compact) {
		t.Fatalf("pass of %d bytes after every verifier acknowledged; want compact (under %d)", passBytes(t, compact), embedded-90)
	}
	check(lane, compact, "")
	check(exit, compact, "")

	// A new terminal: before the issuer syncs again, its promise (made
	// before the terminal existed) is broken: the newcomer refuses the
	// compact pass as unknown_issuer, and only then.
	late := newTerm(t, h, "EXIT-2", 0)
	check(late, compact, string(pass.UnknownIssuer))
	check(late, gate.sell("cash").Pass, string(pass.UnknownIssuer)) // the issuer still holds the old promise
	// The issuer syncs: the promise is withdrawn until the newcomer holds
	// the certificate.
	gate.mustSync()
	withdrawn := gate.sell("cash").Pass
	if isCompact(withdrawn) {
		t.Fatal("compact pass while EXIT-2 had not synced")
	}
	check(late, withdrawn, "")
	late.mustSync() // gets the certificate
	check(late, compact, "")
	late.mustSync() // says so
	gate.mustSync()
	if p := gate.sell("cash").Pass; !isCompact(p) {
		t.Fatal("no compact pass after EXIT-2 acknowledged")
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
