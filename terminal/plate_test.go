package terminal

import "testing"

func TestNormalizePlate(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"kcb 123a", "KCB 123A", true},
		{"  KCB   123A ", "KCB 123A", true},
		{"KBZ-001", "KBZ-001", true},
		{"", "", true},     // no vehicle
		{"K1", "K1", true}, // two characters: the shortest
		{"ABCDEFGHIJKL", "ABCDEFGHIJKL", true},
		{"ABCDEFGHIJKLM", "", false}, // thirteen
		{"K", "", false},
		{"KCB_123A", "", false},
		{"KCB 123Ä", "", false}, // not A–Z
		{"ß1", "", false},       // ß has no one-letter capital: refused, not turned into SS
		{"KCB;1", "", false},
		{"- -", "", false}, // no letter or digit
	} {
		got, err := NormalizePlate(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizePlate(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
