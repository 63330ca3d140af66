package pass

import (
	"crypto/ed25519"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Deterministic fixtures: keys from fixed seeds, a fixed clock, so passes
// and golden files are byte-for-byte reproducible (Ed25519 signing is
// deterministic).

// t0 is when the fixture passes are issued.
var t0 = time.Date(2026, 3, 6, 6, 42, 17, 123e6, time.UTC)

// seededKey returns the Ed25519 key derived from name.
func seededKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("lango pass test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// seededReader is an endless deterministic byte stream.
type seededReader struct {
	state [32]byte
	buf   []byte
}

func newSeededReader(name string) *seededReader {
	return &seededReader{state: sha256.Sum256([]byte(name))}
}

func (r *seededReader) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			r.state = sha256.Sum256(r.state[:])
			r.buf = r.state[:]
		}
		p[i] = r.buf[0]
		r.buf = r.buf[1:]
	}
	return len(p), nil
}

var _ io.Reader = (*seededReader)(nil)

// world is a site with an authority and terminals.
type world struct {
	auth   *Authority
	keys   map[string]ed25519.PrivateKey
	certs  map[string]*Certificate
	issuer map[string]*Issuer
}

// certFrom and certUntil bound the fixture certificates.
var (
	certFrom  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	certUntil = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

// newWorld creates the authority of site and certifies the named
// terminals for it.
func newWorld(t testing.TB, site string, terminals ...string) *world {
	t.Helper()
	a, err := AuthorityFromKey(seededKey("authority " + site))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{auth: a, keys: map[string]ed25519.PrivateKey{}, certs: map[string]*Certificate{}, issuer: map[string]*Issuer{}}
	for _, name := range terminals {
		key := seededKey("terminal " + site + " " + name)
		c, err := a.Certify(site, name, key.Public().(ed25519.PublicKey), certFrom, certUntil)
		if err != nil {
			t.Fatal(err)
		}
		is, err := NewIssuer(key, c)
		if err != nil {
			t.Fatal(err)
		}
		w.keys[name], w.certs[name], w.issuer[name] = key, c, is
	}
	return w
}

// verifier returns a verifier for site trusting only w's authority.
func (w *world) verifier(t testing.TB, site string) *Verifier {
	t.Helper()
	v, err := NewVerifier(VerifierConfig{Site: site, Authorities: []ed25519.PublicKey{w.auth.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mustID returns a deterministic UUID v7 for time at.
func mustID(t testing.TB, at time.Time, name string) uuid.UUID {
	t.Helper()
	id, err := NewID(at, newSeededReader(name))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// typicalPass is the issue's typical pass: 2 adults, 3 children, a 7-seat
// tour van, payment deferred (USD for the visitors, KES for the van).
func typicalPass(t testing.TB) Pass {
	t.Helper()
	return Pass{
		ID:               mustID(t, t0, "typical"),
		ValidUntil:       t0.Add(24 * time.Hour),
		CatalogueVersion: "KWS-2024.1",
		Party: []PartyLine{
			{Category: "INT", Band: "ADULT", Count: 2},
			{Category: "INT", Band: "CHILD", Count: 3},
		},
		Plate:    "KDA123A",
		SeatBand: "TOUR-VAN",
		Due:      Amounts{{Currency: "KES", Minor: 150000}, {Currency: "USD", Minor: 26500}},
	}
}

// walkInPass is a paid walk-in: one EAC citizen adult.
func walkInPass(t testing.TB) Pass {
	t.Helper()
	return Pass{
		ID:               mustID(t, t0, "walk-in"),
		ValidUntil:       t0.Add(24 * time.Hour),
		CatalogueVersion: "KWS-2024.1",
		Party:            []PartyLine{{Category: "EAC", Band: "ADULT", Count: 1}},
		Paid:             true,
	}
}

// busPass is a school bus: many lines, codes outside the dictionary,
// deferred in two currencies.
func busPass(t testing.TB) Pass {
	t.Helper()
	return Pass{
		ID:               mustID(t, t0, "bus"),
		ValidUntil:       t0.Add(24 * time.Hour),
		CatalogueVersion: "KWS-2024.1",
		Party: []PartyLine{
			{Category: "EAC", Band: "ADULT", Count: 4},
			{Category: "EAC", Band: "CHILD", Count: 46},
			{Category: "EAC", Band: "UNDER5", Count: 2},
			{Category: "RES", Band: "ADULT", Count: 1},
			{Category: "EAC", Band: "SENIOR70", Count: 1},
			{Category: "TOURWORKER", Band: "ADULT", Count: 1},
		},
		Plate:    "KCX456B",
		SeatBand: "BUS",
		Due:      Amounts{{Currency: "KES", Minor: 2870000}, {Currency: "USD", Minor: 8000}},
	}
}

// exemptVehiclePass is a government vehicle, which pays no vehicle fee,
// bringing two EAC adults and three children, payment deferred: a plate
// and no seat band.
func exemptVehiclePass(t testing.TB) Pass {
	t.Helper()
	return Pass{
		ID:               mustID(t, t0, "exempt-vehicle"),
		ValidUntil:       t0.Add(24 * time.Hour),
		CatalogueVersion: "KWS-2024.1",
		Party: []PartyLine{
			{Category: "EAC", Band: "ADULT", Count: 2},
			{Category: "EAC", Band: "CHILD", Count: 3},
		},
		Plate: "KCB456Z",
		Due:   Amounts{{Currency: "KES", Minor: 350000}},
	}
}

func mustIssue(t testing.TB, is *Issuer, p Pass) string {
	t.Helper()
	s, err := is.Issue(p)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return s
}
