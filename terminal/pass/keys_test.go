package pass

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestKeyStorage(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-1", "GATE-2")

	// The authority (hub or standalone) stores its private key and gets the
	// same authority back.
	pemKey, err := MarshalPrivateKeyPEM(w.auth.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pemKey, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("private key PEM:\n%s\nwant a PKCS #8 PRIVATE KEY block", pemKey)
	}
	k, err := ParsePrivateKeyPEM(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	a, err := AuthorityFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != w.auth.KeyID() || !a.PublicKey().Equal(w.auth.PublicKey()) {
		t.Errorf("authority from stored key: id %s; want %s", a.KeyID(), w.auth.KeyID())
	}

	// A trust file with two authority keys (a rotation).
	other := newWorld(t, "NNP-2")
	p1, err := MarshalPublicKeyPEM(w.auth.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	p2, err := MarshalPublicKeyPEM(other.auth.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParsePublicKeysPEM(append(p1, p2...))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys[0].Equal(w.auth.PublicKey()) || !keys[1].Equal(other.auth.PublicKey()) {
		t.Errorf("ParsePublicKeysPEM: got %d keys; want the two written", len(keys))
	}

	// A terminal's certificates over time, in one file.
	var certFile []byte
	for _, name := range []string{"GATE-1", "GATE-2"} {
		b, err := w.certs[name].MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		certFile = append(certFile, b...)
	}
	certs, err := ParseCertificatesPEM(certFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || !reflect.DeepEqual(certs[1], w.certs["GATE-2"]) {
		t.Errorf("ParseCertificatesPEM: got %+v; want the two certificates", certs)
	}
	for _, c := range certs {
		if err := c.Verify(w.auth.PublicKey()); err != nil {
			t.Errorf("stored certificate of %s: %v", c.Terminal, err)
		}
		if err := c.Verify(other.auth.PublicKey()); err == nil {
			t.Errorf("certificate of %s verified with another authority's key", c.Terminal)
		}
	}

	for name, b := range map[string][]byte{
		"empty":                 nil,
		"public key as private": p1,
		"garbage":               []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
	} {
		if _, err := ParsePrivateKeyPEM(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePrivateKeyPEM(%s): got %v; want ErrInvalid", name, err)
		}
	}
	if _, err := ParsePublicKeysPEM(pemKey); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParsePublicKeysPEM(private key): got %v; want ErrInvalid", err)
	}
	if _, err := ParseCertificatesPEM(p1); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseCertificatesPEM(public key): got %v; want ErrInvalid", err)
	}
}

func TestCertificateBinary(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	c := w.certs["GATE-2"]
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("ParseCertificate(MarshalBinary):\ngot  %+v\nwant %+v", back, c)
	}
	for n := range len(b) {
		if _, err := ParseCertificate(b[:n]); err == nil {
			t.Fatalf("certificate truncated to %d bytes: parsed", n)
		}
	}
	if _, err := ParseCertificate(append(bytes.Clone(b), 0)); err == nil {
		t.Error("certificate with a trailing byte: parsed")
	}
	for i := range b {
		for bit := range 8 {
			d := bytes.Clone(b)
			d[i] ^= 1 << bit
			if x, err := ParseCertificate(d); err == nil && x.Verify(w.auth.PublicKey()) == nil {
				t.Fatalf("certificate with bit %d flipped: verified", i*8+bit)
			}
		}
	}
}

func TestCertifyRefusesInvalid(t *testing.T) {
	w := newWorld(t, "NNP")
	pub := seededKey("x").Public().(ed25519.PublicKey)
	cases := []struct {
		name           string
		site, terminal string
		pub            ed25519.PublicKey
		from, until    time.Time
	}{
		{"lower-case site", "nnp", "GATE-1", pub, certFrom, certUntil},
		{"terminal with a space", "NNP", "GATE 1", pub, certFrom, certUntil},
		{"short key", "NNP", "GATE-1", pub[:31], certFrom, certUntil},
		{"empty window", "NNP", "GATE-1", pub, certFrom, certFrom.Add(59 * time.Minute)},
		{"eleven years", "NNP", "GATE-1", pub, certFrom, certFrom.AddDate(11, 0, 0)},
	}
	for _, tc := range cases {
		if _, err := w.auth.Certify(tc.site, tc.terminal, tc.pub, tc.from, tc.until); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v; want ErrInvalid", tc.name, err)
		}
	}
	c, err := w.auth.Certify("NNP", "GATE-1", pub, certFrom.Add(90*time.Minute), certUntil.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !c.NotBefore.Equal(certFrom.Add(time.Hour)) || !c.NotAfter.Equal(certUntil) {
		t.Errorf("window %v–%v; want rounded down to whole hours", c.NotBefore, c.NotAfter)
	}
	if _, err := NewIssuer(seededKey("y"), c); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewIssuer with another key's certificate: got %v; want ErrInvalid", err)
	}
}
