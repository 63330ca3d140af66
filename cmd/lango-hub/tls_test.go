package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, valid from
// notBefore, and returns their paths and the certificate.
func selfSigned(t *testing.T, dir, name string, notBefore time.Time) (certPath, keyPath string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(notBefore.UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notBefore.Add(24 * time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath = filepath.Join(dir, "hub.crt"), filepath.Join(dir, "hub.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, cert
}

// TestServeTLS: lango-hub serve with a certificate speaks HTTPS only; a
// terminal that trusts the certificate enrolls and syncs over it; a renewed
// certificate is served without a restart; a missing or mismatched key
// stops serve with one line, before it listens.
func TestServeTLS(t *testing.T) {
	ctx := context.Background()
	data, certDir := t.TempDir(), t.TempDir()
	certPath, keyPath, cert := selfSigned(t, certDir, "hub-1", time.Now().Add(-time.Hour))

	for _, bad := range [][]string{
		{"--tls-cert", certPath},
		{"--tls-key", keyPath},
	} {
		if code, _, stderr := run(t, append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, bad...)...); code != 2 || !strings.Contains(stderr, "go together") {
			t.Errorf("serve %v: %d %q; want a usage error", bad, code, stderr)
		}
	}
	if code, _, stderr := run(t, "serve", "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", certPath, "--tls-key", filepath.Join(certDir, "nope.key")); code != 1 || !strings.HasPrefix(stderr, "lango-hub: TLS") {
		t.Errorf("serve with a missing key: %d %q; want 1 and the TLS problem", code, stderr)
	}

	srv := NewMain()
	srv.Stdout, srv.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	if err := srv.ParseFlags(ctx, []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--tls-cert", certPath, "--tls-key", keyPath, "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx) }()
	defer func() { stop(); <-done; srv.Close() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	trusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	hubURL := "https://" + srv.Addr()

	resp, err := trusting.Get(hubURL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz over HTTPS: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + srv.Addr() + "/healthz"); err == nil && resp.StatusCode == http.StatusOK {
		t.Error("plain HTTP was answered on the TLS port")
	}

	code, token, stderr := run(t, "terminal", "add", "--data", data, "--site", "NNP", "--name", "gate-1")
	if code != 0 {
		t.Fatalf("terminal add: %s", stderr)
	}
	db, _ := sqlitetest.NewTerminal(t, nil)
	cfg := client.Config{HTTPClient: trusting}
	if _, err := client.EnrollWith(ctx, db, hubURL, strings.TrimSpace(token), cfg); err != nil {
		t.Fatalf("enroll over HTTPS: %v", err)
	}
	if err := client.New(db, cfg).Once(ctx); err != nil {
		t.Fatalf("sync over HTTPS: %v", err)
	}
	// A terminal that does not trust the certificate is refused by TLS.
	if err := client.New(db, client.Config{HTTPClient: &http.Client{Timeout: 5 * time.Second}}).Once(ctx); terminal.ErrorKind(err) != terminal.EUNAVAILABLE {
		t.Errorf("sync without trusting the certificate: %v; want the hub unreachable", err)
	}

	// Renewed in place: the next connection gets the new certificate.
	time.Sleep(20 * time.Millisecond) // a later modification time
	_, _, renewed := selfSigned(t, certDir, "hub-2", time.Now().Add(-time.Minute))
	roots.AddCert(renewed)
	conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	got := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	conn.Close()
	if got != "hub-2" {
		t.Errorf("after renewal the hub serves %q; want hub-2", got)
	}
}
