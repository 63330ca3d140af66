package main

import (
	"os/exec"
	"strings"
	"testing"
)

// decodeQR reads the QR code in a PNG with zbarimg and compares its text.
func decodeQR(t *testing.T, png, want string) {
	t.Helper()
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Skip("zbarimg not installed (make test installs zbar-tools)")
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", png).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v", png, err)
	}
	if got := strings.TrimRight(string(out), "\n"); got != want {
		t.Fatalf("QR in %s reads %q; want %q", png, got, want)
	}
}
