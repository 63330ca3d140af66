// Package assets holds what the kiosk embeds: its translations (English and
// Swahili, go-i18n JSON read by fyne's lang package) and its icon. go:embed
// cannot reach "..", so the files are declared here, beside them.
package assets

import (
	"embed"
	"fmt"
)

// Translations holds translations/en.json and translations/sw.json: one
// flat JSON object each, from message key to text (Go templates for
// values, e.g. "{{.N}}").
//
//go:embed translations/*.json
var Translations embed.FS

// TranslationsDir is the folder of Translations that holds the files.
const TranslationsDir = "translations"

// Languages lists the languages the kiosk speaks, the first the fallback.
func Languages() []string { return []string{"en", "sw"} }

// Translation returns the JSON of one language.
func Translation(lang string) ([]byte, error) {
	for _, l := range Languages() {
		if l == lang {
			return Translations.ReadFile(TranslationsDir + "/" + lang + ".json")
		}
	}
	return nil, fmt.Errorf("no translation for language %q: one of en, sw", lang)
}

//go:embed icons/lango.svg
var icon []byte

// Icon returns the application icon (SVG): a gate with a tick. The slice
// is a copy, so callers cannot change the embedded bytes.
func Icon() []byte { return append([]byte(nil), icon...) }
