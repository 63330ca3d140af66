package terminal

import (
	"strings"
	"testing"
)

func TestValidPINHash(t *testing.T) {
	h, err := HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	if !ValidPINHash(h) || !CheckPIN(h, "2468") {
		t.Fatalf("HashPIN's own hash %q is refused", h)
	}
	parts := strings.Split(h, "$")
	bad := map[string]string{
		"a gigabyte a login": strings.Replace(h, "m=19456,", "m=1048576,", 1),
		"more passes":        strings.Replace(h, ",t=2,", ",t=16,", 1),
		"argon2i":            strings.Replace(h, "$argon2id$", "$argon2i$", 1),
		"short salt":         strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4][:8], parts[5]}, "$"),
		"short key":          strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], parts[5][:20]}, "$"),
		"not base64":         strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!!", parts[5]}, "$"),
		"trailing field":     h + "$x",
		"empty":              "",
	}
	for name, b := range bad {
		if ValidPINHash(b) {
			t.Errorf("%s: %q accepted", name, b)
		}
	}
}
