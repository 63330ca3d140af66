package pass

import (
	"bytes"
	"compress/zlib"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// The size table of docs/PASS-FORMAT.md is computed here:
//
//	go test ./terminal/pass -run TestSizeTable -v               # print it
//	go test ./terminal/pass -run TestSizeTable -update-doc      # rewrite the doc's table
var updateDoc = flag.Bool("update-doc", false, "rewrite the size table in docs/PASS-FORMAT.md")

const (
	docPath    = "../../docs/PASS-FORMAT.md"
	tableBegin = "<!-- size-table:begin (go test ./terminal/pass -run TestSizeTable -update-doc) -->"
	tableEnd   = "<!-- size-table:end -->"
)

// encoding is one way to put a pass's content into a QR code.
type encoding struct {
	name   string
	binary int    // bytes before the text encoding
	text   string // what the QR code holds
}

// qrVersion is the version go-qrcode picks for s at level l (0: too big).
func qrVersion(t testing.TB, s string, l qrcode.RecoveryLevel) int {
	t.Helper()
	q, err := qrcode.New(s, l)
	if err != nil {
		return 0
	}
	return q.VersionNumber
}

// encodings returns the contenders for the content of p issued by is.
func encodings(t testing.TB, w *world, terminal string, p Pass) []encoding {
	t.Helper()
	is := w.issuer[terminal]
	full, err := is.IssueBinary(p)
	if err != nil {
		t.Fatal(err)
	}
	compactText, err := is.IssueCompact(p)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := DecodeText(compactText)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(full)
	if err != nil {
		t.Fatal(err)
	}
	pretix := pretixSig1Like(is.key, q)
	dcc := dccLike(t, is.key, q, nil)
	dccX5 := dccLike(t, is.key, q, x509Like(t, w, terminal))
	return []encoding{
		{"Lango v1, certificate embedded (default)", len(full), EncodeText(full)},
		{"Lango v1, compact (certificate from sync)", len(compact), compactText},
		{"pretix-sig1-like", pretix.binary, pretix.text},
		{"EU-DCC-like (HC1)", dcc.binary, dcc.text},
		{"EU-DCC-like + X.509 cert in x5chain", dccX5.binary, dccX5.text},
	}
}

func TestSizeTable(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	passes := []struct {
		name string
		p    Pass
	}{
		{"typical: 2 adults, 3 children, 7-seat tour van, deferred KES+USD", typicalPass(t)},
		{"walk-in: 1 EAC adult, paid", walkInPass(t)},
		{"school bus: 6 party lines, bus, deferred KES+USD", busPass(t)},
	}
	var tb strings.Builder
	tb.WriteString("| pass | encoding | binary bytes | text chars | QR mode | QR version M / **Q** / H | printed width at Q, 5 dots/module |\n")
	tb.WriteString("|---|---|---:|---:|---|---|---:|\n")
	for _, pc := range passes {
		encs := encodings(t, w, "GATE-2", pc.p)
		for _, e := range encs {
			vq := qrVersion(t, e.text, qrcode.High)
			fmt.Fprintf(&tb, "| %s | %s | %d | %d | %s | %d / **%d** / %d | %.1f mm |\n",
				pc.name, e.name, e.binary, len(e.text), qrMode(e.text),
				qrVersion(t, e.text, qrcode.Medium), vq, qrVersion(t, e.text, qrcode.Highest),
				QRPrintedMM(vq, 5))
		}
		// The format's promise: smaller than both for the same content.
		lango, compact, pretix, dcc, dccX5 := encs[0], encs[1], encs[2], encs[3], encs[4]
		if !(qrBits(t, compact.text) < qrBits(t, pretix.text) && qrBits(t, compact.text) < qrBits(t, dcc.text)) {
			t.Errorf("%s: compact pass needs %d QR bits; pretix-like %d, DCC-like %d: want fewer than both",
				pc.name, qrBits(t, compact.text), qrBits(t, pretix.text), qrBits(t, dcc.text))
		}
		if qrBits(t, lango.text) >= qrBits(t, dccX5.text) {
			t.Errorf("%s: pass with certificate needs %d QR bits; DCC-like with X.509 %d: want fewer",
				pc.name, qrBits(t, lango.text), qrBits(t, dccX5.text))
		}
	}
	// Alternatives for the text form of the typical pass, to justify decimal.
	full, err := w.issuer["GATE-2"].IssueBinary(typicalPass(t))
	if err != nil {
		t.Fatal(err)
	}
	alts := []encoding{
		{"decimal (v1's choice)", len(full), EncodeText(full)},
		{"Base45 (RFC 9285)", len(full), TextPrefix + base45(full)},
		{"base64url", len(full), TextPrefix + base64.RawURLEncoding.EncodeToString(full)},
	}
	tb.WriteString("\nText forms of the typical pass (certificate embedded):\n\n")
	tb.WriteString("| text form | text chars | QR mode | QR data bits | QR version at Q |\n|---|---:|---|---:|---|\n")
	for _, a := range alts {
		fmt.Fprintf(&tb, "| %s | %d | %s | %d | %d |\n", a.name, len(a.text), qrMode(a.text), qrBits(t, a.text), qrVersion(t, a.text, qrcode.High))
	}
	tc, err := w.issuer["GATE-2"].IssueCompact(typicalPass(t))
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := DecodeText(tc)
	fmt.Fprintf(&tb, "\nCost of embedding the certificate: %d bytes (%d − %d) for every pass.\n", len(full)-len(cb), len(full), len(cb))
	if v := qrVersion(t, EncodeText(full), QRLevel); v > 14 {
		t.Errorf("typical pass needs QR version %d at Q; want at most 14 (the format grew?)", v)
	}
	table := tb.String()
	t.Logf("\n%s", table)
	if *updateDoc {
		writeDocSection(t, table)
	}
}

// writeDocSection replaces the text between the size-table markers.
func writeDocSection(t *testing.T, table string) {
	t.Helper()
	path := filepath.FromSlash(docPath)
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q … %q markers", path, tableBegin, tableEnd)
	}
	s = s[:i+len(tableBegin)] + "\n" + table + s[j:]
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// qrMode names the cheapest QR mode that holds all of s.
func qrMode(s string) string {
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	digits, an := 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case strings.ContainsRune(alnum, c):
			an++
		default:
			return "byte"
		}
	}
	if an <= len(TextPrefix) && digits > an {
		return "numeric (alnum prefix)"
	}
	return "alphanumeric"
}

// qrBits is the data bits of the smallest encoding go-qrcode finds for s at
// Q: the capacity of the smallest version that holds it is an upper bound,
// so search forced versions for the first that fits and report its
// capacity; for a tighter figure count segment bits directly.
func qrBits(t testing.TB, s string) int {
	t.Helper()
	return segmentBits(s)
}

// segmentBits counts the bits of s as QR data for versions 10–26 (12-bit
// numeric, 11-bit alphanumeric, 16-bit byte character counts), splitting it
// into the alnum prefix and a numeric tail when it is a Lango text, or one
// segment of the cheapest mode that holds it all otherwise.
func segmentBits(s string) int {
	numeric := func(n int) int { return 4 + 12 + n/3*10 + []int{0, 4, 7}[n%3] }
	alnum := func(n int) int { return 4 + 11 + n/2*11 + n%2*6 }
	byteMode := func(n int) int { return 4 + 16 + 8*n }
	switch m := qrMode(s); {
	case strings.HasPrefix(m, "numeric"):
		return alnum(len(TextPrefix)) + numeric(len(s)-len(TextPrefix))
	case m == "alphanumeric":
		return alnum(len(s))
	default:
		return byteMode(len(s))
	}
}

// base45 is RFC 9285.
func base45(b []byte) string {
	const abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
	var s strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		n := int(b[i])<<8 | int(b[i+1])
		s.WriteByte(abc[n%45])
		s.WriteByte(abc[n/45%45])
		s.WriteByte(abc[n/2025])
	}
	if len(b)%2 == 1 {
		n := int(b[len(b)-1])
		s.WriteByte(abc[n%45])
		s.WriteByte(abc[n/45])
	}
	return s.String()
}

// --- pretix sig1, as pretix/base/secrets.py builds it ---
//
// 1 byte version 0x01, 2 bytes payload length, 2 bytes signature length,
// the protobuf payload, the Ed25519 signature; standard base64, reversed.
// pretix's Ticket message has seed (1), item (2), variation (3) and
// subevent (4); the same content as a Lango pass needs these fields added
// (numbers 5 on): valid_from 5 and valid_until 6 (int64 Unix seconds),
// site 7, terminal 8, catalogue 9, party 10 (repeated {category 1, band 2,
// count 3}), plate 11, seat_band 12, due 13 (repeated {currency 1, minor
// 2}). The pass id is pretix's 9-character random seed, shorter than
// Lango's UUID.

type encoded struct {
	binary int
	text   string
}

func pretixSig1Like(key ed25519.PrivateKey, p Pass) encoded {
	var pb []byte
	pb = pbString(pb, 1, "x7Kq2mP9a") // seed: get_random_string(9)
	pb = pbVarint(pb, 5, uint64(p.IssuedAt.Unix()))
	pb = pbVarint(pb, 6, uint64(p.ValidUntil.Unix()))
	pb = pbString(pb, 7, p.Site)
	pb = pbString(pb, 8, p.Terminal)
	pb = pbString(pb, 9, p.CatalogueVersion)
	for _, l := range p.Party {
		var m []byte
		m = pbString(m, 1, l.Category)
		m = pbString(m, 2, l.Band)
		m = pbVarint(m, 3, uint64(l.Count))
		pb = pbBytes(pb, 10, m)
	}
	if p.Plate != "" {
		pb = pbString(pb, 11, p.Plate)
		pb = pbString(pb, 12, p.SeatBand)
	}
	for _, a := range p.Due {
		var m []byte
		m = pbString(m, 1, a.Currency)
		m = pbVarint(m, 2, uint64(a.Minor))
		pb = pbBytes(pb, 13, m)
	}
	sig := ed25519.Sign(key, pb)
	raw := []byte{1, byte(len(pb) >> 8), byte(len(pb)), 0, byte(len(sig))}
	raw = append(append(raw, pb...), sig...)
	s := []byte(base64.StdEncoding.EncodeToString(raw))
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return encoded{len(raw), string(s)}
}

func pbVarint(b []byte, field int, v uint64) []byte {
	b = appendUvarint(b, uint64(field<<3) /* wire type 0: varint */)
	return appendUvarint(b, v)
}

func pbBytes(b []byte, field int, v []byte) []byte {
	b = appendUvarint(b, uint64(field<<3|2))
	b = appendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func pbString(b []byte, field int, s string) []byte { return pbBytes(b, field, []byte(s)) }

// --- EU Digital COVID Certificate, with a pass's content ---
//
// "HC1:" + Base45(zlib(COSE_Sign1)), as the DCC specification builds it:
// COSE_Sign1 = tag 18 [protected bstr {1: -7 (ES256), 4: kid (8 bytes)},
// unprotected {} (or {33: X.509 DER} with the certificate in x5chain),
// payload bstr, signature bstr (64 bytes, the size of ES256 and Ed25519)].
// The payload is a CWT {1: "KE" (iss), 4: exp, 6: iat, -260: {1: hcert}};
// hcert holds the pass in DCC's style of short keys: {"ver": "1.0.0",
// "ci": UVCI "URN:UVCI:01:KE:<site>/<id hex>", "st": site, "is": terminal,
// "cv": catalogue, "p": [{"c", "b", "n"}…], "pl": plate, "sb": seat band,
// "due": {currency: minor}}.

func dccLike(t testing.TB, key ed25519.PrivateKey, p Pass, x5 []byte) encoded {
	t.Helper()
	var h []byte
	n := 6
	if p.Plate != "" {
		n += 2
	}
	if !p.Paid {
		n++
	}
	h = cborHead(h, 5, uint64(n))
	h = cborText(cborText(h, "ver"), "1.0.0")
	h = cborText(cborText(h, "ci"), "URN:UVCI:01:KE:"+p.Site+"/"+strings.ToUpper(strings.ReplaceAll(p.ID.String(), "-", "")))
	h = cborText(cborText(h, "st"), p.Site)
	h = cborText(cborText(h, "is"), p.Terminal)
	h = cborText(cborText(h, "cv"), p.CatalogueVersion)
	h = cborText(h, "p")
	h = cborHead(h, 4, uint64(len(p.Party)))
	for _, l := range p.Party {
		h = cborHead(h, 5, 3)
		h = cborText(cborText(h, "c"), l.Category)
		h = cborText(cborText(h, "b"), l.Band)
		h = cborHead(cborText(h, "n"), 0, uint64(l.Count))
	}
	if p.Plate != "" {
		h = cborText(cborText(h, "pl"), p.Plate)
		h = cborText(cborText(h, "sb"), p.SeatBand)
	}
	if !p.Paid {
		h = cborText(h, "due")
		h = cborHead(h, 5, uint64(len(p.Due)))
		for _, a := range p.Due {
			h = cborHead(cborText(h, a.Currency), 0, uint64(a.Minor))
		}
	}
	var cwt []byte
	cwt = cborHead(cwt, 5, 4)
	cwt = cborText(cborHead(cwt, 0, 1), "KE")
	cwt = cborHead(cborHead(cwt, 0, 4), 0, uint64(p.ValidUntil.Unix()))
	cwt = cborHead(cborHead(cwt, 0, 6), 0, uint64(p.IssuedAt.Unix()))
	cwt = cborHead(cwt, 1, 259) // -260
	cwt = cborHead(cwt, 5, 1)
	cwt = cborHead(cwt, 0, 1)
	cwt = append(cwt, h...)

	var prot []byte
	prot = cborHead(prot, 5, 2)
	prot = cborHead(cborHead(prot, 0, 1), 1, 6) // alg: -7
	prot = cborBytes(cborHead(prot, 0, 4), []byte{1, 2, 3, 4, 5, 6, 7, 8})

	var cose []byte
	cose = cborHead(cose, 6, 18)
	cose = cborHead(cose, 4, 4)
	cose = cborBytes(cose, prot)
	if x5 == nil {
		cose = cborHead(cose, 5, 0)
	} else {
		cose = cborBytes(cborHead(cborHead(cose, 5, 1), 0, 33), x5)
	}
	cose = cborBytes(cose, cwt)
	cose = cborBytes(cose, ed25519.Sign(key, cwt)) // 64 bytes, as ES256

	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(cose)
	zw.Close()
	return encoded{len(cose), "HC1:" + base45(z.Bytes())}
}

func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n < 1<<8:
		return append(b, m|24, byte(n))
	case n < 1<<16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n < 1<<32:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func cborText(b []byte, s string) []byte  { return append(cborHead(b, 3, uint64(len(s))), s...) }
func cborBytes(b []byte, v []byte) []byte { return append(cborHead(b, 2, uint64(len(v))), v...) }

// x509Like returns a minimal X.509 certificate (DER) for the terminal's
// Ed25519 key, signed by the authority: what a DCC-style verifier would
// need embedded to verify without a trust list.
func x509Like(t testing.TB, w *world, terminal string) []byte {
	t.Helper()
	c := w.certs[terminal]
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: c.Site + " authority", Country: []string{"KE"}},
		NotBefore:             c.NotBefore,
		NotAfter:              c.NotAfter,
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(1001),
		Subject:      pkix.Name{CommonName: c.Terminal, Organization: []string{c.Site}, Country: []string{"KE"}},
		NotBefore:    c.NotBefore,
		NotAfter:     c.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(newSeededReader("x509"), leaf, ca, c.PublicKey, w.auth.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	return der
}
