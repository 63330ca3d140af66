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

// TN is T for a message that says the count n: where n takes the
// singular (1, in English and in Swahili alike), the key's "_one" form is
// said, else the key's own, which is the plural. So English says "1
// visitor" and "2 visitors", Swahili "Mgeni 1" and "Wageni 2". Both files
// stay flat objects of strings.
func TN(key string, n int, kv ...any) string {
	if n == 1 {
		if s := T(key+"_one", kv...); s != key+"_one" {
			return s
		}
	}
	return T(key, kv...)
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
