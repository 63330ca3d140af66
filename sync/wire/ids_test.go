package wire

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestIsUUIDAndIsHashAsTheirExpressions: the hand-written checks accept
// exactly what the regular expressions they replaced accept, on real ids
// and hashes and on every one-byte change of them.
func TestIsUUIDAndIsHashAsTheirExpressions(t *testing.T) {
	hashRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []string{"", "\n", "019ae1c2-7b3a-7c55-9d0e-3f4a5b6c7d8e", "019AE1C2-7B3A-7C55-9D0E-3F4A5B6C7D8E", "019ae1c2-7b3a-7c55-9d0e-3f4a5b6c7d8e\n",
		"019ae1c27b3a7c559d0e3f4a5b6c7d8e", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}
	bytes := []byte("0123456789abcdefABCDEFgz-\n\x00\xff")
	for _, base := range cases[2:] {
		for i := range len(base) {
			for _, c := range bytes {
				b := []byte(base)
				b[i] = c
				cases = append(cases, string(b))
			}
			cases = append(cases, base[:i]+base[i+1:], base[:i]+string(bytes[rng.IntN(len(bytes))])+base[i:])
		}
	}
	for _, s := range cases {
		if got, want := IsUUID(s), uuidRE.MatchString(s); got != want {
			t.Errorf("IsUUID(%q) = %v; want %v", s, got, want)
		}
		if got, want := IsHash(s, false), hashRE.MatchString(s); got != want {
			t.Errorf("IsHash(%q, false) = %v; want %v", s, got, want)
		}
	}
	if !IsHash("", true) || IsHash("", false) {
		t.Error("IsHash of the empty string")
	}
}

// FuzzSkipFast: skipFast accepts only what the decoder's walk by
// recursion accepts, ending where it ends, and never deeper than the
// nesting left.
func FuzzSkipFast(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\"y"],"b":null,"c":true}`, `[]`, `{}`, ` [ 1 , { } ] `, `"\u00e9\ud800"`, `01`, `1.`, `[1,]`, `{"a"}`,
		`{"a":1,}`, `nul`, `truex`, `"a` + "\x01" + `"`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		"{\"k\":\"\xff\"} ", `-0e+1`, `[1 2]`, `{"a" 1}`} {
		f.Add([]byte(s), 0)
		f.Add([]byte(s), maxDepth-2)
	}
	f.Fuzz(func(t *testing.T, b []byte, depth int) {
		if depth < 0 || depth > maxDepth {
			return
		}
		end, ok := skipFast(b, 0, maxDepth-depth)
		if !ok {
			return
		}
		d := decoder{b: b, depth: depth}
		if err := d.skipSlow(); err != nil {
			t.Fatalf("skipFast(%q) at depth %d accepted; the walk refuses: %v", b, depth, err)
		}
		if d.i != end {
			t.Fatalf("skipFast(%q) ended at %d; the walk at %d", b, end, d.i)
		}
	})
}

// samplePayload is a sale-like payload: nested objects, arrays, numbers,
// strings with and without escapes.
const samplePayload = `{"id":"019ae1c2-7b3a-7c55-9d0e-3f4a5b6c7d8e","number":7,"kind":"sale","terminal":"t","site":"NNP","at":"2024-01-03T07:00:00Z","state":"paid",` +
	`"lines":[{"code":"ADULT","name":"Adult \u00e9 \"x\"","kind":"entry","qty":2,"currency":"KES","unit":50000,"total":100000},{"code":"V","name":"Vehicle","qty":1,"unit":-1.5e3}],` +
	`"totals":{"KES":100000},"tenders":[{"kind":"cash","currency":"KES","amount":110000,"change":10000}],"void":null,"ok":true,"no":false}`

// TestSkipFastTakesPayloads: the fast walk does take an ordinary payload
// (else every upload would take the slow one and FuzzSkipFast would
// prove nothing about the hub's path).
func TestSkipFastTakesPayloads(t *testing.T) {
	for _, s := range []string{samplePayload, `[]`, `{}`, `"x"`, `-0.5E-7`, `null`} {
		if end, ok := skipFast([]byte(s+" ,"), 0, maxDepth); !ok || end != len(s) {
			t.Errorf("skipFast(%q) = %d, %v; want %d, true", s, end, ok, len(s))
		}
	}
}

// BenchmarkSkip: an event's payload walked as an upload's decoder walks
// it, fast and by recursion.
func BenchmarkSkip(b *testing.B) {
	p := []byte(samplePayload)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for range b.N {
			if _, ok := skipFast(p, 0, maxDepth); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("recursive", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for range b.N {
			d := decoder{b: p}
			if err := d.skipSlow(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
