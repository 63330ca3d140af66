package pass

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The sample passes in testdata/pass (repository root) and the fuzz seeds
// in testdata/fuzz are generated from the deterministic fixtures:
//
//	go test ./terminal/pass -run TestGolden -update
//
// Without -update the test checks that the files are what the code writes
// today: a change to the v1 format shows up as a diff here.
var update = flag.Bool("update", false, "rewrite testdata/pass and the fuzz seeds")

const goldenDir = "../../testdata/pass"

// goldenCase is one line of testdata/pass/cases.json: verify File at Site
// and time Now, trusting the authority keys in Trust and knowing the
// terminal certificates in Certs; expect Reason ("" for valid) and, when
// valid, Pass.
type goldenCase struct {
	File   string   `json:"file"`
	Site   string   `json:"site"`
	Now    string   `json:"now"`
	Trust  []string `json:"trust"`
	Certs  []string `json:"certs,omitempty"`
	Reason Reason   `json:"reason"`
	Pass   *Pass    `json:"pass,omitempty"`
}

func TestGolden(t *testing.T) {
	nnp := newWorld(t, "NNP", "GATE-2")
	amb := newWorld(t, "AMB", "GATE-1")
	is := nnp.issuer["GATE-2"]
	files := map[string][]byte{}
	put := func(name string, b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	nnpPub, err := MarshalPublicKeyPEM(nnp.auth.PublicKey())
	put("authority-NNP.pub.pem", nnpPub, err)
	ambPub, err := MarshalPublicKeyPEM(amb.auth.PublicKey())
	put("authority-AMB.pub.pem", ambPub, err)
	cert, err := nnp.certs["GATE-2"].MarshalPEM()
	put("terminal-NNP-GATE-2.cert.pem", cert, err)

	text := func(s string, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return []byte(s + "\n")
	}
	put("typical.txt", text(is.Issue(typicalPass(t))), nil)
	put("typical-compact.txt", text(is.IssueCompact(typicalPass(t))), nil)
	put("walk-in.txt", text(is.Issue(walkInPass(t))), nil)
	put("bus.txt", text(is.Issue(busPass(t))), nil)
	put("exempt-vehicle.txt", text(is.Issue(exemptVehiclePass(t))), nil)
	put("other-site.txt", text(amb.issuer["GATE-1"].Issue(typicalPass(t))), nil)
	b, err := is.IssueBinary(typicalPass(t))
	put("typical.bin", b, err)
	tampered := bytes.Clone(b)
	i := bytes.Index(tampered, []byte("KDA123A"))
	tampered[i+5] = '8'
	put("tampered.txt", []byte(EncodeText(tampered)+"\n"), nil)
	png, err := QRPNG(string(bytes.TrimSpace(files["typical.txt"])), 5)
	put("typical.png", png, err)

	during := t0.Add(time.Hour).Format(time.RFC3339)
	nnpTrust := []string{"authority-NNP.pub.pem"}
	cases := []goldenCase{
		{File: "typical.txt", Site: "NNP", Now: during, Trust: nnpTrust},
		{File: "typical.bin", Site: "NNP", Now: during, Trust: nnpTrust},
		{File: "walk-in.txt", Site: "NNP", Now: during, Trust: nnpTrust},
		{File: "bus.txt", Site: "NNP", Now: during, Trust: nnpTrust},
		{File: "exempt-vehicle.txt", Site: "NNP", Now: during, Trust: nnpTrust},
		{File: "typical-compact.txt", Site: "NNP", Now: during, Trust: nnpTrust, Certs: []string{"terminal-NNP-GATE-2.cert.pem"}},
		{File: "typical-compact.txt", Site: "NNP", Now: during, Trust: nnpTrust, Reason: UnknownIssuer},
		{File: "typical.txt", Site: "NNP", Now: t0.Add(25 * time.Hour).Format(time.RFC3339), Trust: nnpTrust, Reason: Expired},
		{File: "typical.txt", Site: "NNP", Now: t0.Add(-time.Hour).Format(time.RFC3339), Trust: nnpTrust, Reason: NotYetValid},
		{File: "typical.txt", Site: "AMB", Now: during, Trust: []string{"authority-AMB.pub.pem"}, Reason: WrongSite},
		{File: "typical.txt", Site: "NNP", Now: during, Trust: []string{"authority-AMB.pub.pem"}, Reason: UnknownIssuer},
		{File: "other-site.txt", Site: "NNP", Now: during, Trust: nnpTrust, Reason: WrongSite},
		{File: "tampered.txt", Site: "NNP", Now: during, Trust: nnpTrust, Reason: BadSignature},
		{File: "typical.png", Site: "NNP", Now: during, Trust: nnpTrust, Reason: Malformed},
	}
	for i, c := range cases {
		p, err := runGoldenCase(files, c)
		if ReasonOf(err) != c.Reason {
			t.Fatalf("case %d (%s at %s): got %v; want %q", i, c.File, c.Site, err, c.Reason)
		}
		if err == nil {
			cases[i].Pass = &p
		}
	}
	cj, err := json.MarshalIndent(cases, "", "  ")
	put("cases.json", append(cj, '\n'), err)

	seeds := map[string]string{}
	for _, name := range []string{"typical.txt", "typical-compact.txt", "walk-in.txt", "bus.txt", "exempt-vehicle.txt", "tampered.txt"} {
		s := string(bytes.TrimSpace(files[name]))
		seeds["FuzzDecode/"+name] = "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\n"
		bin, err := DecodeText(s)
		if err != nil {
			t.Fatal(err)
		}
		seeds["FuzzParse/"+name] = "go test fuzz v1\n[]byte(" + strconv.Quote(string(bin)) + ")\n"
	}
	seeds["FuzzDecode/lower-case-newline"] = "go test fuzz v1\nstring(" + strconv.Quote("lg1:"+string(bytes.TrimSpace(files["walk-in.txt"]))[4:]+"\r\n") + ")\n"

	for name, want := range files {
		checkGolden(t, filepath.Join(goldenDir, name), want)
	}
	for name, want := range seeds {
		checkGolden(t, filepath.Join("testdata", "fuzz", name), []byte(want))
	}
}

func runGoldenCase(files map[string][]byte, c goldenCase) (Pass, error) {
	var keys []ed25519.PublicKey
	for _, f := range c.Trust {
		ks, err := ParsePublicKeysPEM(files[f])
		if err != nil {
			return Pass{}, err
		}
		keys = append(keys, ks...)
	}
	var certs []*Certificate
	for _, f := range c.Certs {
		cs, err := ParseCertificatesPEM(files[f])
		if err != nil {
			return Pass{}, err
		}
		certs = append(certs, cs...)
	}
	v, err := NewVerifier(VerifierConfig{Site: c.Site, Authorities: keys, Certificates: certs})
	if err != nil {
		return Pass{}, err
	}
	now, err := time.Parse(time.RFC3339, c.Now)
	if err != nil {
		return Pass{}, err
	}
	data := files[c.File]
	if filepath.Ext(c.File) == ".bin" {
		return v.VerifyBinary(data, now)
	}
	return v.Verify(string(data), now)
}

func checkGolden(t *testing.T, path string, want []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./terminal/pass -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code writes now:\n%s\n(if the change is intended: go test ./terminal/pass -run TestGolden -update)", path, firstDiff(got, want))
	}
}

func firstDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at byte %d of %d/%d", i, len(got), len(want))
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
