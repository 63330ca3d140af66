// Package packaging holds the test of the Debian package that
// scripts/package.sh builds (make package).
package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackage builds the .deb from stand-in binaries, checks its files,
// their modes and owners, its control fields and its units, and installs
// it into a scratch root with dpkg (its maintainer script run
// chrootless): the binaries are in place, the lango user exists there and
// owns its data folders, 0700; the host is left as it was.
func TestPackage(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "dpkg", "useradd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run make deps (Debian's dpkg and passwd)", tool)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	for _, b := range []string{"lango", "lango-kiosk", "lango-hub"} {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\necho "+b+" \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("sh", "scripts/package.sh")
	build.Dir = ".."
	build.Env = append(os.Environ(), "BIN="+bin, "OUT="+filepath.Join(dir, "out"), "VERSION=a564c18-dirty")
	out, err := build.Output()
	if err != nil {
		t.Fatalf("package.sh: %v\n%s", err, out)
	}
	deb := strings.TrimSpace(string(out))
	if !strings.HasSuffix(deb, ".deb") || !strings.Contains(deb, "lango_0.0~gita564c18-dirty_") {
		t.Fatalf("package.sh made %q", deb)
	}

	listing, err := exec.Command("dpkg-deb", "-c", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{} // path → mode and owner
	sc := bufio.NewScanner(strings.NewReader(string(listing)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		files[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
	}
	for path, want := range map[string]string{
		"/":                                       "drwxr-xr-x root/root",
		"/usr/bin/lango":                          "-rwxr-xr-x root/root",
		"/usr/bin/lango-kiosk":                    "-rwxr-xr-x root/root",
		"/usr/bin/lango-hub":                      "-rwxr-xr-x root/root",
		"/lib/systemd/system/lango-sync.service":  "-rw-r--r-- root/root",
		"/lib/systemd/system/lango-hub.service":   "-rw-r--r-- root/root",
		"/lib/systemd/system/lango-relay.service": "-rw-r--r-- root/root",
		"/lib/systemd/system/lango-kiosk.service": "-rw-r--r-- root/root",
		"/etc/default/lango":                      "-rw-r--r-- root/root",
		"/usr/share/doc/lango/README.md":          "-rw-r--r-- root/root",
	} {
		if got := files[path]; got != want {
			t.Errorf("%s: %q in the package; want %q", path, got, want)
		}
	}
	for _, f := range []string{"Package", "Version", "Depends"} {
		v, _ := exec.Command("dpkg-deb", "-f", deb, f).Output()
		t.Logf("%s: %s", f, strings.TrimSpace(string(v)))
	}
	if v, _ := exec.Command("dpkg-deb", "-f", deb, "Version").Output(); strings.TrimSpace(string(v)) != "0.0~gita564c18-dirty" {
		t.Errorf("Version %q", v)
	}

	// Every unit runs a program of the package (or xinit) as lango.
	units, _ := filepath.Glob("systemd/*.service")
	if len(units) != 4 {
		t.Fatalf("%d units; want sync, hub, relay and kiosk", len(units))
	}
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		var exe, user string
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
				exe = strings.Fields(v)[0]
			}
			if v, ok := strings.CutPrefix(l, "User="); ok {
				user = v
			}
		}
		if user != "lango" || (files[exe] == "" && exe != "/usr/bin/xinit") {
			t.Errorf("%s: runs %q as %q; want a program of the package, as lango", u, exe, user)
		}
		if !strings.Contains(string(b), "[Install]") {
			t.Errorf("%s has no [Install] section", u)
		}
	}

	// Installed into a scratch root.
	root := filepath.Join(dir, "root")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	for _, f := range []string{"passwd", "group", "shadow", "gshadow"} {
		if b, err := os.ReadFile("/etc/" + f); err == nil {
			os.WriteFile(filepath.Join(root, "etc", f), b, 0o600)
		}
	}
	hostPasswd, _ := os.ReadFile("/etc/passwd")
	args := []string{"dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends", "--log=/dev/null", "-i", deb}
	asRoot := os.Getuid() == 0
	if !asRoot { // a developer's make test: the owners are fakeroot's
		args = append([]string{"fakeroot"}, args...)
	}
	install := exec.Command(args[0], args[1:]...)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("dpkg -i into a scratch root: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "usr/bin/lango")); !strings.Contains(string(b), "echo lango") {
		t.Error("the installed /usr/bin/lango is not the package's")
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	var uid string
	for _, l := range strings.Split(string(passwd), "\n") {
		if f := strings.Split(l, ":"); len(f) > 2 && f[0] == "lango" {
			uid = f[2]
		}
	}
	if uid == "" {
		t.Fatal("no lango user in the root after install")
	}
	for _, d := range []string{"var/lib/lango", "var/lib/lango-hub", "var/lib/lango-relay"} {
		st, err := os.Stat(filepath.Join(root, d))
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("/%s is %v; want 0700", d, st.Mode().Perm())
		}
		if o := owner(st); asRoot && o != uid {
			t.Errorf("/%s is owned by %s; want lango (%s)", d, o, uid)
		}
	}
	if after, _ := os.ReadFile("/etc/passwd"); string(after) != string(hostPasswd) {
		t.Error("installing into the scratch root changed the host's /etc/passwd")
	}
}
