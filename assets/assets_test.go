package assets

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestTranslations(t *testing.T) {
	for _, lang := range Languages() {
		b, err := Translation(lang)
		if err != nil {
			t.Fatalf("Translation(%q): %v", lang, err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.json is not a flat JSON object of strings: %v", lang, err)
		}
		if len(m) < 100 {
			t.Errorf("%s.json has %d messages; want the kiosk's (> 100)", lang, len(m))
		}
	}
	if _, err := Translation("fr"); err == nil {
		t.Errorf("Translation(fr) = nil error; want an error")
	}
	if _, err := Translation("../assets"); err == nil {
		t.Errorf("Translation(../assets) = nil error; want an error")
	}
}

func TestIcon(t *testing.T) {
	a := Icon()
	if !bytes.Contains(a, []byte("<svg")) {
		t.Fatalf("Icon() is not an SVG")
	}
	a[0] = 'X'
	if Icon()[0] == 'X' {
		t.Errorf("Icon() returns the embedded bytes themselves; want a copy")
	}
}
