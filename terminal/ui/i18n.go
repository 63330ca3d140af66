package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/lango-pos/lango/assets"
)

// T returns the text of a message key in the kiosk's language, filled from
// data (key, value pairs) as a Go template: T("sale.number", "N", 12). Every
// user-facing string goes through it; the keys live in
// assets/translations/{en,sw}.json.
func T(key string, kv ...any) string {
	if len(kv) == 0 {
		return lang.X(key, key)
	}
	data := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		data[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return lang.X(key, key, data)
}

// useLanguage makes code ("en" or "sw") the language of T and of fyne's own
// widgets (dialog buttons). Fyne's lang package speaks the language of the
// system's locale, while a kiosk speaks the one its "language" setting
// names: so the chosen language's messages are loaded under the locales the
// system resolves to (English, the fallback, and the system's own), as well
// as under their own tag. Both files hold the same keys (a test checks), so
// loading one replaces every message of the other.
func useLanguage(code string) error {
	data, err := assets.Translation(code)
	if err != nil {
		return err
	}
	locales := []fyne.Locale{fyne.Locale(code), "en"}
	if sys := lang.SystemLocale(); sys != "" && !strings.HasPrefix(string(sys), "en") {
		locales = append(locales, sys)
	}
	for _, l := range locales {
		if err := lang.AddTranslationsForLocale(data, l); err != nil {
			return fmt.Errorf("translations %s: %w", code, err)
		}
	}
	return nil
}
