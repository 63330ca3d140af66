package pass

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

// Every single-bit flip and every truncation of a valid pass is refused,
// in the binary form and in the text form, by a verifier that has cached
// the issuing terminal's certificate (warm) and by one that has not (cold).
func TestEveryBitFlipAndTruncationIsRefused(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	is := w.issuer["GATE-2"]
	compactOf := func(p Pass) string {
		s, err := is.IssueCompact(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	passes := []struct {
		name string
		text string
	}{
		{"typical", mustIssue(t, is, typicalPass(t))},
		{"walk-in", mustIssue(t, is, walkInPass(t))},
		{"bus", mustIssue(t, is, busPass(t))},
		{"exempt vehicle", mustIssue(t, is, exemptVehiclePass(t))},
		{"typical compact", compactOf(typicalPass(t))},
	}
	newV := func() *Verifier {
		v, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: []ed25519.PublicKey{w.auth.PublicKey()}, Certificates: []*Certificate{w.certs["GATE-2"]}})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	now := t0.Add(time.Hour)
	for _, pc := range passes {
		t.Run(pc.name, func(t *testing.T) {
			warm := newV()
			if _, err := warm.Verify(pc.text, now); err != nil {
				t.Fatalf("the valid pass: %v", err)
			}
			bin, err := DecodeText(pc.text)
			if err != nil {
				t.Fatal(err)
			}
			refused := func(form string, at int, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s changed at %d: verified; want refused", form, at)
				}
				if ReasonOf(err) == "" {
					t.Fatalf("%s changed at %d: %v; want a *RefusedError", form, at, err)
				}
			}
			// Binary: flips and truncations, warm and cold.
			for i := range bin {
				for bit := range 8 {
					b := bytes.Clone(bin)
					b[i] ^= 1 << bit
					_, err := warm.VerifyBinary(b, now)
					refused("binary bit flip", i*8+bit, err)
					_, err = newV().VerifyBinary(b, now)
					refused("binary bit flip (cold)", i*8+bit, err)
					if i >= len(bin)-ed25519.SignatureSize && ReasonOf(err) != BadSignature {
						t.Errorf("flip in the signature at byte %d: got %v; want %s", i, err, BadSignature)
					}
				}
			}
			for n := range len(bin) {
				_, err := warm.VerifyBinary(bin[:n], now)
				refused("binary truncated", n, err)
			}
			_, err = warm.VerifyBinary(append(bytes.Clone(bin), 0), now)
			refused("binary extended", len(bin), err)

			// Text: flips and truncations.
			for i := range len(pc.text) {
				for bit := range 8 {
					s := []byte(pc.text)
					s[i] ^= 1 << bit
					_, err := warm.Verify(string(s), now)
					refused("text bit flip", i*8+bit, err)
				}
			}
			for n := range len(pc.text) {
				_, err := warm.Verify(pc.text[:n], now)
				refused("text truncated", n, err)
			}
			for _, tail := range []string{"0", "00", "000", "1"} {
				_, err := warm.Verify(pc.text+tail, now)
				refused("text extended", len(pc.text), err)
			}
			// Nothing above poisoned the cache.
			if _, err := warm.Verify(pc.text, now); err != nil {
				t.Errorf("the valid pass after the attempts: %v", err)
			}
		})
	}
}

func TestTextCodec(t *testing.T) {
	r := newSeededReader("text codec")
	for n := 0; n <= 40; n++ {
		b := make([]byte, n)
		r.Read(b)
		if n%3 == 0 && n > 0 {
			for i := range b {
				b[i] = 0xff // the largest value of every chunk
			}
		}
		s := EncodeText(b)
		if want := len(TextPrefix) + n/7*17 + digitsFor[n%7]; len(s) != want {
			t.Errorf("%d bytes: %d characters; want %d", n, len(s), want)
		}
		got, err := DecodeText(s)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%d bytes: DecodeText(EncodeText(b)) = %x, %v; want %x", n, got, err, b)
		}
	}
	for _, bad := range []string{
		"LG1:256",               // one byte, too large
		"LG1:72057594037927936", // seven bytes: 2^56
		"LG1:99999999999999999", // seven bytes, all nines
		"LG1:1",                 // no whole byte
		"LG1:0000000000000000",  // 16 digits
		"LG1:12a",               // a letter
		"LG1:-12",               // a sign
		"LG2:123",               // another version
		"lG1:123",               // mixed case
		"LG1:" + strings.Repeat("0", maxTextDigits+17), // too long
	} {
		if _, err := DecodeText(bad); ReasonOf(err) != Malformed {
			t.Errorf("DecodeText(%.30q): got %v; want %s", bad, err, Malformed)
		}
	}
	if got, err := DecodeText("lg1:255\r\n"); err != nil || !bytes.Equal(got, []byte{255}) {
		t.Errorf(`DecodeText("lg1:255\r\n") = %x, %v; want ff`, got, err)
	}
}

func TestParseRefusesNonCanonical(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	bin, err := w.issuer["GATE-2"].IssueBinary(walkInPass(t))
	if err != nil {
		t.Fatal(err)
	}
	// Offsets in the walk-in pass: version, flags, site "NNP".
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(bin)) }
	cases := []struct {
		name string
		b    []byte
	}{
		{"version 2", mutate(func(b []byte) []byte { b[0] = 2; return b })},
		{"unknown flag", mutate(func(b []byte) []byte { b[1] |= 0x80; return b })},
		{"site lower case", mutate(func(b []byte) []byte { b[3] = 'n'; return b })},
		{"site length 0", mutate(func(b []byte) []byte { b[2] = 0; return b })},
		{"empty", nil},
		{"too long", make([]byte, MaxBinary+1)},
	}
	for _, tc := range cases {
		if _, err := Parse(tc.b); ReasonOf(err) != Malformed {
			t.Errorf("%s: got %v; want %s", tc.name, err, Malformed)
		}
	}
	// Readers refuse non-minimal integers and spelled-out dictionary codes.
	r := &reader{b: []byte{0x81, 0x00}}
	if r.uvarint("x", 0, 1000); r.err == nil {
		t.Error("uvarint 0x81 0x00: accepted; want refused as not shortest")
	}
	r = &reader{b: appendStr(nil, "INT")}
	if r.code("category"); r.err == nil {
		t.Error(`code "INT" spelled out: accepted; want refused`)
	}
	r = &reader{b: []byte{0x80 | byte(len(codeDict))}}
	if r.code("category"); r.err == nil {
		t.Error("code past the dictionary: accepted; want refused")
	}
}
