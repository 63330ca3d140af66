package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// umask022 returns this test binary as lango-hub under umask 022, as an
// operator's shell would start it (the umask is the process's: the test
// keeps its own).
func umask022(args ...string) *exec.Cmd {
	cmd := exec.Command("sh", append([]string{"-c", `umask 022 && exec "$0" "$@"`, os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1")
	return cmd
}

// Issue 11: "Private keys world-readable". hub.db holds every site's
// authority key; with a data folder that exists as 0755 and umask 022,
// it and every other file holding key material (its -wal and -shm, the
// M-PESA ledger beside it) are 0600.
func TestHubKeysAre0600WhateverTheFolder(t *testing.T) {
	data := filepath.Join(t.TempDir(), "hub")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755)
	if out, err := umask022("terminal", "add", "--data", data, "--site", "NNP", "--name", "gate-1").CombinedOutput(); err != nil {
		t.Fatalf("terminal add: %v: %s", err, out)
	}
	listen := freeAddr(t)
	serve := umask022("serve", "--data", data, "--listen", listen, "--log-level", "error")
	var errb bytes.Buffer
	serve.Stderr = &errb
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			serve.Process.Kill()
			t.Fatalf("serve did not answer: %v: %s", err, &errb)
		}
	}
	// Look while it runs (the -wal and -shm exist), and after.
	check := func(when string) {
		found := 0
		err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fi, _ := d.Info()
			if bytes.Contains(b, []byte("PRIVATE KEY")) || strings.Contains(d.Name(), ".db") {
				found++
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: %s: mode %04o; want 0600", when, p, fi.Mode().Perm())
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if found == 0 {
			t.Fatalf("%s: no file holds a key: the test looks in the wrong place", when)
		}
	}
	check("serving")
	serve.Process.Signal(syscall.SIGTERM)
	serve.Wait()
	check("stopped")

	// A hub.db others may read is refused, with the mending command.
	if err := os.Chmod(filepath.Join(data, "hub.db"), 0o640); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "report", "--data", data, "--json")
	if code != 1 || !strings.Contains(stderr, "chmod 600") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("report on a 0640 hub.db: exit %d, stderr %q; want 1 and one line naming chmod 600", code, stderr)
	}
}
