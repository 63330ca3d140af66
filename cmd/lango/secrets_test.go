package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// umask022 runs this test binary as lango under umask 022 (the usual
// default), so that files come out as they would for an operator: the
// umask is the process's, and the test process keeps its own.
func umask022(t *testing.T, data string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", `umask 022 && exec "$0" "$@"`, os.Args[0], "--data", data}, args...)...)
	cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1", "LANGO_PIN=1234")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, errb.String()
}

// keyFiles returns the files under dir that hold private key material
// (the store keeps keys as PKCS #8 PEM), with their modes.
func keyFiles(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("PRIVATE KEY")) || strings.HasPrefix(d.Name(), "lango.db") {
			out[p] = fi.Mode().Perm()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Issue 11: "Private keys world-readable". A data folder that already
// exists as 0755 (the README's /var/lib/lango) under umask 022 gets a
// store that only its owner can read, -wal and -shm included.
func TestPrivateKeysAre0600WhateverTheFolder(t *testing.T) {
	data := filepath.Join(t.TempDir(), "lango")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755)
	for _, args := range [][]string{
		{"init", "--site", "NNP", "--terminal", "gate-1", "--catalogue", catalogue("kws.json"), "--printer", "none"},
		{"shift", "open", "--as", "admin", "--float", "KES=1000"},
		{"sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "defer", "--json"},
	} {
		if code, errs := umask022(t, data, args...); code != 0 {
			t.Fatalf("lango %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
	}
	files := keyFiles(t, data)
	if len(files) == 0 {
		t.Fatal("no file in the data folder holds a key: the test looks in the wrong place")
	}
	for p, mode := range files {
		if mode != 0o600 {
			t.Errorf("%s: mode %04o; want 0600", p, mode)
		}
	}
}

// A store that others can read is refused at open, before anything is
// read from it, with the command that mends it.
func TestStoreReadableByOthersIsRefused(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	db := filepath.Join(c.data, "lango.db")
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	c.refused(1, "chmod 600", "sales", "--json")
	if err := os.Chmod(db, 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("sales", "--json")
}
