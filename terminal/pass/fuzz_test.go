package pass

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

// fuzzVerifier trusts the fixture authority and knows GATE-2's certificate,
// so fuzzed inputs reach every check, including the signatures.
func fuzzVerifier(f *testing.F) (*world, *Verifier) {
	w := newWorld(f, "NNP", "GATE-2")
	v, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: []ed25519.PublicKey{w.auth.PublicKey()}, Certificates: []*Certificate{w.certs["GATE-2"]}})
	if err != nil {
		f.Fatal(err)
	}
	return w, v
}

// FuzzDecode feeds scanned text to the decoder and the verifier. Seeds are
// in testdata/fuzz/FuzzDecode (written by TestGolden -update) and below.
//
//	go test ./terminal/pass -run '^$' -fuzz FuzzDecode -fuzztime 20s
func FuzzDecode(f *testing.F) {
	w, v := fuzzVerifier(f)
	for _, p := range []Pass{typicalPass(f), walkInPass(f), busPass(f), exemptVehiclePass(f)} {
		f.Add(mustIssue(f, w.issuer["GATE-2"], p))
	}
	f.Add("LG1:")
	f.Add("lg1:255\n")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeText(s)
		if err != nil {
			if ReasonOf(err) != Malformed {
				t.Fatalf("DecodeText: %v; want a malformed refusal", err)
			}
			return
		}
		// The text form is canonical: the same bytes give the same text,
		// up to the whitespace and case a scanner may add.
		if got, want := EncodeText(b), strings.ToUpper(strings.Trim(s, " \t\r\n")); got != want {
			t.Fatalf("EncodeText(DecodeText(%q)) = %q", want, got)
		}
		p, perr := Parse(b)
		vp, verr := v.Verify(s, t0)
		if verr == nil && perr != nil {
			t.Fatalf("Verify accepted what Parse refused: %v", perr)
		}
		if verr == nil && vp.ID != p.ID {
			t.Fatalf("Verify and Parse disagree on the id")
		}
		if verr != nil && ReasonOf(verr) == "" {
			t.Fatalf("Verify: %v; want a *RefusedError", verr)
		}
	})
}

// FuzzParse feeds binary forms to the parser and the verifier. A binary
// form that parses re-encodes to the same bytes (one encoding per pass).
//
//	go test ./terminal/pass -run '^$' -fuzz FuzzParse -fuzztime 20s
func FuzzParse(f *testing.F) {
	w, v := fuzzVerifier(f)
	for _, p := range []Pass{typicalPass(f), walkInPass(f), busPass(f), exemptVehiclePass(f)} {
		b, err := w.issuer["GATE-2"].IssueBinary(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		s, err := w.issuer["GATE-2"].IssueCompact(p)
		if err != nil {
			f.Fatal(err)
		}
		if b, err = DecodeText(s); err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg := append([]byte(passContext), b...)
		e, err := parseMessage(msg)
		if _, verr := v.VerifyBinary(b, t0.Add(time.Hour)); err != nil && ReasonOf(verr) != Malformed {
			t.Fatalf("Verify of an unparsable pass: %v; want malformed", verr)
		}
		if err != nil {
			return
		}
		back := appendBody(nil, &e.pass, e.cert)
		back = append(back, e.sig...)
		if !bytes.Equal(back, b) {
			t.Fatalf("parsed %x\nre-encoded as %x", b, back)
		}
	})
}
