package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildLango builds the real lango binary (not this test binary: package
// initialisation order, which decides whether Fyne's start-up noise is
// caught, is the program's own).
func buildLango(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lango")
	cmd := exec.Command(goTool(t), "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// goTool is the go command the tests run under (go test puts it first on
// the PATH; GOROOT's otherwise).
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
}

// runEnv runs bin with exactly env (no inherited LANG, LC_ALL…).
func runEnv(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return code, out.String(), errb.String()
}

// Issue 12: "Every CLI command prints Fyne's noise when LANG is C or
// unset". Under each locale a cron job or a systemd unit may have, lango
// sales --json prints only the JSON on stdout and nothing on stderr, and
// a failing command exactly one line.
func TestCLIPrintsNoFyneNoiseUnderLangC(t *testing.T) {
	bin := buildLango(t)
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=0")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash", "--json")
	base := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"LANG=C", []string{"LANG=C"}},
		{"LANG=C.UTF-8", []string{"LANG=C.UTF-8"}},
		{"LANG=POSIX", []string{"LANG=POSIX"}},
		{"LC_ALL=C", []string{"LC_ALL=C"}},
		{"LANG and LC_ALL unset", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append(append([]string(nil), base...), tc.env...)
			code, out, errs := runEnv(t, bin, env, "--data", c.data, "sales", "--json")
			if code != 0 {
				t.Fatalf("sales --json: exit %d; want 0 (stderr %q)", code, errs)
			}
			if errs != "" {
				t.Errorf("sales --json: stderr %q; want nothing", errs)
			}
			var sales []map[string]any
			if err := json.Unmarshal([]byte(out), &sales); err != nil {
				t.Errorf("sales --json: stdout is not one JSON document: %v\n%s", err, out)
			} else if len(sales) != 1 {
				t.Errorf("sales --json: got %d sales; want 1", len(sales))
			}

			code, out, errs = runEnv(t, bin, env, "--data", c.data, "sales", "--json", "--since", "yesterday")
			if code != 2 {
				t.Errorf("sales --since yesterday: exit %d; want 2", code)
			}
			if out != "" {
				t.Errorf("sales --since yesterday: stdout %q; want nothing", out)
			}
			if lines := strings.Split(strings.TrimRight(errs, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(errs, "lango: ") {
				t.Errorf("sales --since yesterday: stderr %q; want one line starting 'lango: '", errs)
			}
		})
	}
}

// --log-level sends log lines to stderr, from that level up; without it
// they go to lango.log in the data folder, readable by its owner only.
func TestCLILogLevelSendsLogLinesToStderr(t *testing.T) {
	bin := buildLango(t)
	c := newCLI(t)
	c.initNNP()
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	code, out, errs := runEnv(t, bin, env, "--data", c.data, "--log-level", "debug", "sales", "--json")
	if code != 0 || !strings.HasPrefix(out, "[") {
		t.Fatalf("sales --json: exit %d, stdout %q; want 0 and JSON", code, out)
	}
	// Fyne's locale complaint, caught at start-up, is a debug line.
	if !strings.Contains(errs, "level=DEBUG") || !strings.Contains(errs, "Error parsing user locale") {
		t.Errorf("--log-level debug: stderr %q; want the start-up debug line", errs)
	}
	if code, _, errs := runEnv(t, bin, env, "--data", c.data, "--log-level", "loud", "sales", "--json"); code != 2 || !strings.Contains(errs, "use debug, info, warn or error") {
		t.Errorf("--log-level loud: exit %d, stderr %q; want 2 and the levels", code, errs)
	}
	code, _, errs = runEnv(t, bin, env, "--data", c.data, "sales", "--json")
	if code != 0 || errs != "" {
		t.Fatalf("sales --json: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(c.data, "lango.log")); err == nil {
		t.Errorf("lango.log written for debug lines at the default level info")
	}
}

// lango.log is its owner's only, and moves to lango.log.1 at its cap: the
// two files never hold much more than twice the cap.
func TestLogFileIsPrivateAndCapped(t *testing.T) {
	dir := t.TempDir()
	l := &logFile{folder: func() (string, error) { return dir, nil }}
	defer l.Close()
	line := []byte(strings.Repeat("x", 999) + "\n")
	for i := 0; i < 3*logCap/len(line); i++ {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name string }{{logName}, {logName + ".1"}} {
		fi, err := os.Stat(filepath.Join(dir, tc.name))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("%s: mode %v; want %v", tc.name, got, want)
		}
		if fi.Size() > logCap {
			t.Errorf("%s: %d bytes; want at most %d", tc.name, fi.Size(), logCap)
		}
	}
	// A folder that does not exist is not made for a log line.
	gone := filepath.Join(dir, "not-yet")
	l2 := &logFile{folder: func() (string, error) { return gone, nil }}
	if _, err := l2.Write(line); err != nil {
		t.Errorf("write with no folder: %v; want the line dropped", err)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("the data folder was created for a log line: %v", err)
	}
}
