package pass

import (
	"strings"
	"testing"
	"time"
)

// The exported rules are the ones Issue applies: a value they accept issues,
// a value they refuse is refused by Issue too. The catalogue and the sale
// check with them, so nothing they let through can fail at the first sale.
func TestExportedRulesAgreeWithIssue(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	is := w.issuer["GATE-2"]
	base := func(name string) Pass {
		return Pass{ID: mustID(t, t0, name), ValidUntil: t0.Add(time.Hour), CatalogueVersion: "KWS-2024.1",
			Party: []PartyLine{{Category: "EAC", Band: "ADULT", Count: 1}}, Paid: true}
	}
	versions := []string{"KWS-2024.1", "v 7", "KWS–2024.1", "", strings.Repeat("a", 40), strings.Repeat("a", 41), "tab\there", "é", "~!@#$%^&*()"}
	for _, v := range versions {
		p := base("v" + v)
		p.CatalogueVersion = v
		_, issueErr := is.Issue(p)
		if ruleErr := ValidCatalogueVersion(v); (ruleErr == nil) != (issueErr == nil) {
			t.Errorf("catalogue version %q: ValidCatalogueVersion = %v but Issue = %v", v, ruleErr, issueErr)
		}
	}
	codes := []string{"EAC", "X", "TOUR-VAN", "A_B", "-A", "_A", "a", "EAC ", strings.Repeat("A", 24), strings.Repeat("A", 25), "É", ""}
	for _, c := range codes {
		p := base("c" + c)
		p.Party = []PartyLine{{Category: c, Band: "ADULT", Count: 1}}
		_, issueErr := is.Issue(p)
		if ruleErr := ValidCode(c); (ruleErr == nil) != (issueErr == nil) {
			t.Errorf("code %q: ValidCode = %v but Issue = %v", c, ruleErr, issueErr)
		}
	}
	for _, c := range []string{"KES", "USD", "kes", "KE", "KESS", "K1S", ""} {
		p := base("cur" + c)
		p.Paid, p.Due = false, Amounts{{Currency: c, Minor: 100}}
		_, issueErr := is.Issue(p)
		if ruleErr := ValidCurrency(c); (ruleErr == nil) != (issueErr == nil) {
			t.Errorf("currency %q: ValidCurrency = %v but Issue = %v", c, ruleErr, issueErr)
		}
	}
	for _, pl := range []string{"KCB456Z", "A", "KCB 456Z", "kcb456z", "KCB-456Z", strings.Repeat("9", 12), strings.Repeat("9", 13), ""} {
		p := base("plate" + pl)
		p.Plate, p.SeatBand = pl, "CAR"
		_, issueErr := is.Issue(p)
		if ruleErr := ValidPlate(pl); (ruleErr == nil) != (issueErr == nil) {
			t.Errorf("plate %q: ValidPlate = %v but Issue = %v", pl, ruleErr, issueErr)
		}
	}
}

func TestValidCatalogueVersionNamesTheCharacter(t *testing.T) {
	err := ValidCatalogueVersion("KWS–2024.1")
	if err == nil || !strings.Contains(err.Error(), "character 4 is U+2013") {
		t.Fatalf("ValidCatalogueVersion(en dash) = %v; want it to name character 4, U+2013", err)
	}
	if err := ValidCatalogueVersion(strings.Repeat("x", 41)); err == nil || !strings.Contains(err.Error(), "41 characters") {
		t.Fatalf("ValidCatalogueVersion(41 x) = %v; want it to say 41 characters", err)
	}
}

// Issue 12: a plate with no vehicle line (an exempt or government vehicle)
// failed with "invalid pass: seat band \"\"". The pass carries the plate
// with no seat band (the byte 0x00 where the band's code would be), and
// passes with a band are encoded as before.
func TestPlateWithoutSeatBand(t *testing.T) {
	w := newWorld(t, "NNP", "GATE-2")
	bin, err := w.issuer["GATE-2"].IssueBinary(exemptVehiclePass(t))
	if err != nil {
		t.Fatalf("Issue(plate, no seat band): %v", err)
	}
	got, err := Parse(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got.Plate != "KCB456Z" || got.SeatBand != "" {
		t.Errorf("parsed plate %q seat band %q; want KCB456Z and none", got.Plate, got.SeatBand)
	}
	// The wire: flags V, then the plate and the seat band byte 0x00.
	if bin[1]&flagVehicle == 0 {
		t.Errorf("flags %#02x; want V set", bin[1])
	}
	plate := append([]byte{7}, "KCB456Z"...)
	i := strings.Index(string(bin), string(plate))
	if i < 0 || bin[i+len(plate)] != 0 {
		t.Fatalf("binary form % x; want the plate followed by 00", bin)
	}
	text := EncodeText(bin)
	p, err := w.verifier(t, "NNP").Verify(text, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.Plate != "KCB456Z" || p.SeatBand != "" || p.People() != 5 {
		t.Errorf("verified %+v; want plate KCB456Z, no seat band, 5 people", p)
	}
	// A seat band without a plate is still refused; so is a zero-length
	// code anywhere but the seat band (a category of length 0).
	q := exemptVehiclePass(t)
	q.Plate, q.SeatBand = "", "CAR"
	if _, err := w.issuer["GATE-2"].Issue(q); err == nil {
		t.Error("Issue(seat band, no plate) succeeded; want ErrInvalid")
	}
	j := strings.Index(string(bin), "\x02\x80\x84") // 2 party lines, EAC ADULT
	if j < 0 {
		t.Fatalf("binary form % x: party lines not found", bin)
	}
	bad := append([]byte(nil), bin...)
	bad[j+1] = 0
	if _, err := Parse(bad); err == nil {
		t.Error("Parse accepted a category of length 0")
	}
}
