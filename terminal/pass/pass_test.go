package pass

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTripEveryField(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	cases := []struct {
		name string
		p    Pass
	}{
		{"typical deferred in two currencies", typicalPass(t)},
		{"walk-in paid", walkInPass(t)},
		{"bus, codes outside the dictionary", busPass(t)},
		{"vehicle without a seat band (exempt)", exemptVehiclePass(t)},
		{"vehicle only, paid", Pass{ID: mustID(t, t0, "car"), ValidUntil: t0.Add(90 * time.Minute), CatalogueVersion: "v 7", Plate: "UAA123B", SeatBand: "CAR", Paid: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := canonical(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			c := w.certs["GATE-2"]
			want.Site, want.Terminal, want.KeyID = "NNP", "GATE-2", c.KeyID()
			if want.Paid {
				want.Due = nil
			}
			text := mustIssue(t, w.issuer["GATE-2"], tc.p)
			got, err := w.verifier(t, "NNP").Verify(text, t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Verify:\ngot  %+v\nwant %+v", got, want)
			}

			parsed, err := ParseText(text)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(parsed, want) {
				t.Errorf("ParseText:\ngot  %+v\nwant %+v", parsed, want)
			}

			// Compact form: verifies once the certificate is known.
			compact, err := w.issuer["GATE-2"].IssueCompact(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			v, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: []ed25519.PublicKey{w.auth.PublicKey()}, Certificates: []*Certificate{c}})
			if err != nil {
				t.Fatal(err)
			}
			got, err = v.Verify(compact, t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("Verify compact: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Verify compact:\ngot  %+v\nwant %+v", got, want)
			}
			parsed, err = ParseText(compact)
			if err != nil {
				t.Fatal(err)
			}
			want.Terminal = "" // a compact pass names only the key
			if !reflect.DeepEqual(parsed, want) {
				t.Errorf("ParseText compact:\ngot  %+v\nwant %+v", parsed, want)
			}
		})
	}
}

func TestIssueIsDeterministicAndCanonical(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	p := typicalPass(t)
	a := mustIssue(t, w.issuer["GATE-2"], p)
	// Same content, lines and amounts in another order, fields the issuer
	// fills given explicitly.
	p.Party[0], p.Party[1] = p.Party[1], p.Party[0]
	p.Due[0], p.Due[1] = p.Due[1], p.Due[0]
	p.Site, p.Terminal, p.KeyID, p.IssuedAt, p.Version = "NNP", "GATE-2", w.certs["GATE-2"].KeyID(), t0, 1
	b := mustIssue(t, w.issuer["GATE-2"], p)
	if a != b {
		t.Errorf("same pass issued twice:\n%s\n%s\nwant identical texts", a, b)
	}
	if !strings.HasPrefix(a, TextPrefix) || strings.Trim(a[len(TextPrefix):], "0123456789") != "" {
		t.Errorf("text %q: want %q then digits only", a, TextPrefix)
	}
}

func TestSecondTerminalVerifiesWithOnlyTheAuthorityKey(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-1", "EXIT-3")
	text := mustIssue(t, w.issuer["GATE-1"], typicalPass(t))

	// The exit terminal knows nothing but the authority's public key, as
	// stored on disk.
	pemKey, err := MarshalPublicKeyPEM(w.auth.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParsePublicKeysPEM(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: keys})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(text, t0.Add(5*time.Hour))
	if err != nil {
		t.Fatalf("exit terminal: Verify: %v", err)
	}
	if got.Terminal != "GATE-1" || got.Site != "NNP" {
		t.Errorf("got terminal %q site %q; want GATE-1 at NNP", got.Terminal, got.Site)
	}
	// And the other way round.
	back := mustIssue(t, w.issuer["EXIT-3"], walkInPass(t))
	if _, err := w.verifier(t, "NNP").Verify(back, t0); err != nil {
		t.Errorf("pass of EXIT-3: %v", err)
	}
}

func TestVerifyAsScanned(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	text := mustIssue(t, w.issuer["GATE-2"], typicalPass(t))
	v := w.verifier(t, "NNP")
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"as printed", text, true},
		{"keyboard wedge: trailing Enter", text + "\n", true},
		{"keyboard wedge: CR LF", text + "\r\n", true},
		{"keyboard wedge: Caps Lock (lower case)", strings.ToLower(text), true},
		{"lower case with a newline", strings.ToLower(text) + "\n", true},
		{"surrounding spaces and tab", "  \t" + text + " ", true},
		{"mixed-case prefix", "Lg1:" + text[4:], false},
		{"space inside", text[:40] + " " + text[40:], false},
		{"another prefix", "HC1:" + text[4:], false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		_, err := v.Verify(tc.in, t0)
		if tc.ok && err != nil {
			t.Errorf("%s: got %v; want valid", tc.name, err)
		}
		if !tc.ok && ReasonOf(err) != Malformed {
			t.Errorf("%s: got %v; want %s", tc.name, err, Malformed)
		}
	}
}

func TestVerifyReasons(t *testing.T) {
	nnp := newWorld(t, "NNP", "GATE-2")
	amb := newWorld(t, "AMB", "GATE-1")
	typical := mustIssue(t, nnp.issuer["GATE-2"], typicalPass(t))
	ambPass := mustIssue(t, amb.issuer["GATE-1"], typicalPass(t))

	// A terminal certified for NNP by AMB's authority: a pass from another
	// site's authority.
	rogueKey := seededKey("rogue")
	rogueCert, err := amb.auth.Certify("NNP", "ROGUE", rogueKey.Public().(ed25519.PublicKey), certFrom, certUntil)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := NewIssuer(rogueKey, rogueCert)
	if err != nil {
		t.Fatal(err)
	}
	roguePass := mustIssue(t, rogue, typicalPass(t))

	// A certificate claiming NNP's authority but signed by another key.
	forgedCert := *rogueCert
	forgedCert.Authority = nnp.auth.KeyID()
	forgedCert.Signature = ed25519.Sign(amb.auth.PrivateKey(), forgedCert.signedMessage())
	forger, err := NewIssuer(rogueKey, &forgedCert)
	if err != nil {
		t.Fatal(err)
	}
	forgedPass := mustIssue(t, forger, typicalPass(t))

	// A pass whose content was changed after signing (plate KDA123A → KDA128A).
	b, err := DecodeText(typical)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "KDA123A")
	b[i+5] = '8'
	tampered := EncodeText(b)

	// A pass outside its terminal's certificate window, signed directly.
	short, err := nnp.auth.Certify("NNP", "GATE-9", nnp.keys["GATE-2"].Public().(ed25519.PublicKey), certFrom, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	q, err := canonical(typicalPass(t))
	if err != nil {
		t.Fatal(err)
	}
	q.Site = "NNP"
	msg := appendBody([]byte(passContext), &q, short)
	uncovered := EncodeText(append(msg[len(passContext):], ed25519.Sign(nnp.keys["GATE-2"], msg)...))

	compact, err := nnp.issuer["GATE-2"].IssueCompact(typicalPass(t))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		text string
		site string
		now  time.Time
		want Reason // "" for valid
	}{
		{"valid", typical, "NNP", t0.Add(time.Hour), ""},
		{"valid at the last instant", typical, "NNP", t0.Add(24 * time.Hour), ""},
		{"expired", typical, "NNP", t0.Add(24*time.Hour + time.Second), Expired},
		{"issuer clock 9 minutes ahead: within skew", typical, "NNP", t0.Add(-9 * time.Minute), ""},
		{"not yet valid", typical, "NNP", t0.Add(-11 * time.Minute), NotYetValid},
		{"wrong site", typical, "AMB", t0, WrongSite},
		{"another site's pass and authority", ambPass, "NNP", t0, WrongSite},
		{"certified by another site's authority", roguePass, "NNP", t0, UnknownIssuer},
		{"forged certificate", forgedPass, "NNP", t0, BadSignature},
		{"tampered plate", tampered, "NNP", t0, BadSignature},
		{"certificate does not cover the pass", uncovered, "NNP", t0, UnknownIssuer},
		{"compact pass, certificate never synced", compact, "NNP", t0, UnknownIssuer},
		{"garbage", "LG1:12345", "NNP", t0, Malformed},
		{"a URL", "https://example.org/x", "NNP", t0, Malformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := nnp.verifier(t, tc.site)
			got, err := v.Verify(tc.text, tc.now)
			if r := ReasonOf(err); r != tc.want {
				t.Fatalf("Verify: got reason %q (%v); want %q", r, err, tc.want)
			}
			if err != nil {
				var re *RefusedError
				if !errors.As(err, &re) {
					t.Fatalf("got %T; want *RefusedError", err)
				}
				if re.Message("en") == "" || re.Message("sw") == "" {
					t.Errorf("reason %s has no message", re.Reason)
				}
			}
			// Expired and not-yet-valid passes are genuine and returned.
			genuine := tc.want == "" || tc.want == Expired || tc.want == NotYetValid
			if genuine != (got.Site != "") {
				t.Errorf("got pass %+v with reason %q; want a pass only when genuine", got, tc.want)
			}
		})
	}
}

func TestSkewConfig(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	text := mustIssue(t, w.issuer["GATE-2"], walkInPass(t))
	for _, tc := range []struct {
		skew time.Duration
		at   time.Duration
		want Reason
	}{
		{0, -10 * time.Minute, ""},
		{0, -10*time.Minute - time.Millisecond, NotYetValid},
		{-1, -time.Millisecond, NotYetValid},
		{-1, 0, ""},
		{time.Hour, -59 * time.Minute, ""},
	} {
		v, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: []ed25519.PublicKey{w.auth.PublicKey()}, Skew: tc.skew})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(text, t0.Add(tc.at))
		if got := ReasonOf(err); got != tc.want {
			t.Errorf("skew %v, now issued-at%+v: got %q; want %q", tc.skew, tc.at, got, tc.want)
		}
	}
}

func TestIssueRefusesInvalid(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	mod := func(f func(p *Pass)) Pass {
		p := typicalPass(t)
		f(&p)
		return p
	}
	cases := []struct {
		name string
		p    Pass
	}{
		{"no id", mod(func(p *Pass) { p.ID = [16]byte{} })},
		{"id not v7", mod(func(p *Pass) { p.ID[6] = 0x40 })},
		{"issued-at not the id's time", mod(func(p *Pass) { p.IssuedAt = t0.Add(time.Second) })},
		{"valid-until before issue", mod(func(p *Pass) { p.ValidUntil = t0 })},
		{"validity too long", mod(func(p *Pass) { p.ValidUntil = t0.Add(MaxValidity + time.Minute) })},
		{"beyond the certificate", mod(func(p *Pass) { p.ValidUntil = certUntil.Add(time.Minute) })},
		{"other site", mod(func(p *Pass) { p.Site = "AMB" })},
		{"other terminal", mod(func(p *Pass) { p.Terminal = "GATE-9" })},
		{"other key", mod(func(p *Pass) { p.KeyID = 7 })},
		{"version 2", mod(func(p *Pass) { p.Version = 2 })},
		{"no catalogue version", mod(func(p *Pass) { p.CatalogueVersion = "" })},
		{"catalogue version with a newline", mod(func(p *Pass) { p.CatalogueVersion = "a\nb" })},
		{"lower-case category", mod(func(p *Pass) { p.Party[0].Category = "int" })},
		{"count 0", mod(func(p *Pass) { p.Party[0].Count = 0 })},
		{"count too big", mod(func(p *Pass) { p.Party[0].Count = MaxCount + 1 })},
		{"line twice", mod(func(p *Pass) { p.Party[1] = p.Party[0] })},
		{"too many lines", mod(func(p *Pass) {
			p.Party = nil
			for i := range MaxPartyLines + 1 {
				p.Party = append(p.Party, PartyLine{Category: "C" + string(rune('A'+i/26)) + string(rune('A'+i%26)), Band: "ADULT", Count: 1})
			}
		})},
		{"plate with a space", mod(func(p *Pass) { p.Plate = "KDA 123A" })},
		{"lower-case seat band", mod(func(p *Pass) { p.SeatBand = "car" })},
		{"seat band without plate", mod(func(p *Pass) { p.Plate = "" })},
		{"nobody and no vehicle", mod(func(p *Pass) { p.Party, p.Plate, p.SeatBand = nil, "", "" })},
		{"deferred with nothing due", mod(func(p *Pass) { p.Due = nil })},
		{"paid with something due", mod(func(p *Pass) { p.Paid = true })},
		{"currency lower case", mod(func(p *Pass) { p.Due[0].Currency = "kes" })},
		{"currency twice", mod(func(p *Pass) { p.Due[1].Currency = "KES" })},
		{"amount 0", mod(func(p *Pass) { p.Due[0].Minor = 0 })},
		{"amount negative", mod(func(p *Pass) { p.Due[0].Minor = -5 })},
		{"amount too big", mod(func(p *Pass) { p.Due[0].Minor = MaxMinor + 1 })},
	}
	for _, tc := range cases {
		if _, err := w.issuer["GATE-2"].Issue(tc.p); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v; want ErrInvalid", tc.name, err)
		}
	}
}

func TestNormalizePlate(t *testing.T) {
	for in, want := range map[string]string{"kda 123a": "KDA123A", " KDA-123A\t": "KDA123A", "GK 001": "GK001"} {
		if got := NormalizePlate(in); got != want {
			t.Errorf("NormalizePlate(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestVerifierCachesCertificates(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-1", "GATE-2")
	v := w.verifier(t, "NNP")
	calls := 0
	v.verify = func(pub ed25519.PublicKey, msg, sig []byte) bool {
		calls++
		return ed25519.Verify(pub, msg, sig)
	}
	a := mustIssue(t, w.issuer["GATE-1"], typicalPass(t))
	b := mustIssue(t, w.issuer["GATE-1"], walkInPass(t))
	c := mustIssue(t, w.issuer["GATE-2"], walkInPass(t))
	steps := []struct {
		name string
		text string
		want int
	}{
		{"first pass of GATE-1: certificate and pass", a, 2},
		{"same pass again", a, 1},
		{"another pass of GATE-1", b, 1},
		{"first pass of GATE-2", c, 2},
		{"GATE-2 again", c, 1},
	}
	for _, s := range steps {
		calls = 0
		if _, err := v.Verify(s.text, t0); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if calls != s.want {
			t.Errorf("%s: %d Ed25519 verifications; want %d", s.name, calls, s.want)
		}
	}
	// A verifier that saw GATE-1's certificate embedded also verifies its
	// compact passes.
	compact, err := w.issuer["GATE-1"].IssueCompact(walkInPass(t))
	if err != nil {
		t.Fatal(err)
	}
	calls = 0
	if _, err := v.Verify(compact, t0); err != nil || calls != 1 {
		t.Errorf("compact pass after the certificate was seen: %v, %d verifications; want valid, 1", err, calls)
	}
}

func TestVerifierCacheIsBounded(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-1", "GATE-2", "GATE-3")
	v, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: []ed25519.PublicKey{w.auth.PublicKey()}, CacheSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for _, name := range []string{"GATE-1", "GATE-2", "GATE-3"} {
			if _, err := v.Verify(mustIssue(t, w.issuer[name], walkInPass(t)), t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(v.seen); n > 2 {
		t.Errorf("cache holds %d certificates; want at most 2", n)
	}
}

func TestKeyRotation(t *testing.T) {
	oldAuth := newWorld(t, "NNP", "GATE-1")
	newAuth, err := AuthorityFromKey(seededKey("authority NNP 2027"))
	if err != nil {
		t.Fatal(err)
	}
	// GATE-1 gets a new key pair, certified by the new authority key.
	newKey := seededKey("GATE-1 2027")
	certs := []*Certificate{oldAuth.certs["GATE-1"]}
	c2, err := newAuth.Certify("NNP", "GATE-1", newKey.Public().(ed25519.PublicKey), certFrom.Add(24*time.Hour), certUntil.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	certs = append(certs, c2)
	sel, err := SelectCertificate(certs, newKey, t0)
	if err != nil || sel != c2 {
		t.Fatalf("SelectCertificate(new key) = %v, %v; want the new certificate", sel, err)
	}
	if _, err := SelectCertificate(certs, newKey, certFrom); !errors.Is(err, ErrInvalid) {
		t.Errorf("SelectCertificate before the new certificate starts: got %v; want ErrInvalid", err)
	}
	newIssuer, err := NewIssuer(newKey, sel)
	if err != nil {
		t.Fatal(err)
	}
	oldPass := mustIssue(t, oldAuth.issuer["GATE-1"], walkInPass(t))
	newPass := mustIssue(t, newIssuer, typicalPass(t))
	if KeyIDOf(newKey.Public().(ed25519.PublicKey)) == oldAuth.certs["GATE-1"].KeyID() {
		t.Fatal("rotated key has the old key id")
	}

	v := oldAuth.verifier(t, "NNP")
	if _, err := v.Verify(newPass, t0); ReasonOf(err) != UnknownIssuer {
		t.Errorf("new pass before the new authority is trusted: got %v; want %s", err, UnknownIssuer)
	}
	if err := v.Trust(newAuth.PublicKey()); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"old": oldPass, "new": newPass} {
		if _, err := v.Verify(text, t0); err != nil {
			t.Errorf("%s pass while both keys are trusted: %v", name, err)
		}
	}
	v.Distrust(oldAuth.auth.KeyID())
	if _, err := v.Verify(oldPass, t0); ReasonOf(err) != UnknownIssuer {
		t.Errorf("old pass after distrust: got %v; want %s", err, UnknownIssuer)
	}
	if _, err := v.Verify(newPass, t0); err != nil {
		t.Errorf("new pass after distrust of the old key: %v", err)
	}
}

func TestAddCertificate(t *testing.T) {
	nnp := newWorld(t, "NNP", "GATE-1")
	amb := newWorld(t, "AMB", "GATE-1")
	v := nnp.verifier(t, "NNP")
	bad := *nnp.certs["GATE-1"]
	bad.Terminal = "GATE-7"
	for _, tc := range []struct {
		name string
		c    *Certificate
		want Reason
	}{
		{"own", nnp.certs["GATE-1"], ""},
		{"other site", amb.certs["GATE-1"], WrongSite},
		{"altered", &bad, BadSignature},
	} {
		if got := ReasonOf(v.AddCertificate(tc.c)); got != tc.want {
			t.Errorf("%s: got %q; want %q", tc.name, got, tc.want)
		}
	}
	untrusting, err := NewVerifier(VerifierConfig{Site: "NNP", Authorities: []ed25519.PublicKey{amb.auth.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ReasonOf(untrusting.AddCertificate(nnp.certs["GATE-1"])); got != UnknownIssuer {
		t.Errorf("unknown authority: got %q; want %q", got, UnknownIssuer)
	}
}

func TestReasonsHaveMessages(t *testing.T) {
	rs := Reasons()
	if len(rs) != 8 {
		t.Fatalf("got %d reasons; want the contract's 8", len(rs))
	}
	seen := map[string]bool{}
	for _, r := range rs {
		en, sw := r.Message("en"), r.Message("sw")
		if en == sw || seen[en] || seen[sw] || en == Reason("x").Message("en") {
			t.Errorf("reason %s: messages %q / %q; want distinct English and Swahili", r, en, sw)
		}
		seen[en], seen[sw] = true, true
	}
	err := Refuse(AlreadyUsed, "scanned at %s", "EXIT-3")
	if ReasonOf(err) != AlreadyUsed || !strings.Contains(err.Error(), "already_used: scanned at EXIT-3") {
		t.Errorf("Refuse: got %v", err)
	}
	if got := Expired.Message("sw"); got != "Pasi hii imeisha muda wake." {
		t.Errorf("Expired in Swahili: got %q", got)
	}
}

func TestPassJSON(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	p, err := w.verifier(t, "NNP").Verify(mustIssue(t, w.issuer["GATE-2"], typicalPass(t)), t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"due":{"KES":150000,"USD":26500}`, `"id":"019cc1e1-f5a3-`, `"issued_at":"2026-03-06T06:42:17.123Z"`, `"key_id":"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s\nlacks %s", b, want)
		}
	}
	var back Pass
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("JSON round trip:\ngot  %+v\nwant %+v", back, p)
	}
}

func TestNewID(t *testing.T) {
	id := mustID(t, t0, "x")
	got, ok := idTime(id)
	if !ok || !got.Equal(t0) {
		t.Errorf("idTime(NewID(t0)) = %v, %v; want %v", got, ok, t0)
	}
	if id.Version() != 7 {
		t.Errorf("version %d; want 7", id.Version())
	}
}
