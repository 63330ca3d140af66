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
