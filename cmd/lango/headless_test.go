package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeadlessBuild: `go build -tags headless` links no GUI (no Fyne, no
// GL, no cgo at all), so the command-line terminal starts where there is
// no X11 or GL; it works as lango; and its `lango run` becomes the
// lango-kiosk beside it, with the same arguments, or says there is none.
func TestHeadlessBuild(t *testing.T) {
	gobin := goTool(t)
	out, err := exec.Command(gobin, "list", "-deps", "-tags", "headless", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "fyne.io/") || strings.HasPrefix(p, "github.com/go-gl/") || p == "github.com/lango-pos/lango/terminal/ui" {
			t.Errorf("the headless build links %s", p)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lango")
	build := exec.Command(gobin, "build", "-tags", "headless", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build -tags headless: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	f.Close()
	if len(libs) != 0 {
		t.Errorf("the headless lango needs shared libraries %v", libs)
	}
	data := filepath.Join(dir, "data")
	env := []string{"LANGO_PIN=1234", "PATH=/nonexistent"}
	if code, _, errs := runEnv(t, bin, env, "--data", data, "init", "--site", "NNP", "--terminal", "gate-1", "--catalogue", catalogue("kws.json")); code != 0 {
		t.Fatalf("headless init: exit %d: %s", code, errs)
	}
	if code, _, errs := runEnv(t, bin, env, "--data", data, "run"); code != 3 || !strings.Contains(errs, "no kiosk") {
		t.Errorf("headless run without lango-kiosk: exit %d, %q; want 3 and 'no kiosk'", code, errs)
	}
	kiosk := filepath.Join(dir, "lango-kiosk")
	if err := os.WriteFile(kiosk, []byte("#!/bin/sh\necho \"kiosk $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runEnv(t, bin, env, "--data", data, "run", "--windowed"); code != 0 || out != "kiosk --data "+data+" run --windowed\n" {
		t.Errorf("headless run: exit %d, %q, %q; want the kiosk run with the same arguments", code, out, errs)
	}
}
