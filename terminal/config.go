package terminal

import (
	"net/url"
	"strconv"
	"strings"
)

// Setting keys of a terminal, with their defaults.
var settingDefaults = map[string]string{
	"printer":  "none",
	"pdq":      "manual",
	"scanner":  "keyboard",
	"hub":      "",
	"language": "en",
	"mode":     "entry",
}

// SettingKeys lists the settings a terminal keeps, sorted.
func SettingKeys() []string {
	return []string{"hub", "language", "mode", "pdq", "printer", "scanner"}
}

// DefaultSettings returns the defaults of every setting.
func DefaultSettings() map[string]string {
	m := make(map[string]string, len(settingDefaults))
	for k, v := range settingDefaults {
		m[k] = v
	}
	return m
}

// ValidateSetting checks a setting's value and returns it normalised.
func ValidateSetting(key, value string) (string, error) {
	v := strings.TrimSpace(value)
	switch key {
	case "language":
		if v == "en" || v == "sw" {
			return v, nil
		}
		return "", Errorf(EINVALID, "language must be en or sw, got %q", value)
	case "mode":
		if v == "entry" || v == "exit" || v == "counter" {
			return v, nil
		}
		return "", Errorf(EINVALID, "mode must be entry, exit or counter, got %q", value)
	case "printer":
		if v == "none" {
			return v, nil
		}
		if dir, ok := strings.CutPrefix(v, "emulator:"); ok && dir != "" {
			d, query, _ := strings.Cut(dir, "?")
			if d == "" {
				return "", Errorf(EINVALID, "printer: emulator:DIR names no folder, got %q", value)
			}
			return v, validateOptions("printer", query, "profile")
		}
		if p, ok := strings.CutPrefix(v, "serial:"); ok {
			return v, validateDevice("printer", p, "baud", "profile", "flow")
		}
		return "", Errorf(EINVALID, "printer must be emulator:DIR, serial:PATH[?baud=N&profile=NAME] or none, got %q", value)
	case "pdq":
		if v == "manual" {
			return v, nil
		}
		if p, ok := strings.CutPrefix(v, "zvt:"); ok {
			return v, validateDevice("pdq", p, "baud")
		}
		return "", Errorf(EINVALID, "pdq must be manual or zvt:PATH[?baud=N], got %q", value)
	case "scanner":
		if v == "keyboard" {
			return v, nil
		}
		if p, ok := strings.CutPrefix(v, "serial:"); ok {
			return v, validateDevice("scanner", p, "baud")
		}
		return "", Errorf(EINVALID, "scanner must be keyboard or serial:PATH[?baud=N], got %q", value)
	case "hub":
		// One URL, or several separated by spaces in order of preference
		// (a site relay first, then the centre).
		var hubs []string
		for _, h := range strings.Fields(v) {
			u, err := url.Parse(h)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return "", Errorf(EINVALID, "hub must be an http:// or https:// URL, or several separated by spaces, got %q", value)
			}
			hubs = append(hubs, strings.TrimRight(h, "/"))
		}
		return strings.Join(hubs, " "), nil
	}
	return "", Errorf(EINVALID, "unknown setting %q: one of %s", key, strings.Join(SettingKeys(), ", "))
}

// IsDeviceSetting reports whether key configures a device whose adapter
// checks the value further (see sqlite.DB.CheckDevice).
func IsDeviceSetting(key string) bool {
	return key == "printer" || key == "pdq" || key == "scanner"
}

// validateDevice checks the shape of a serial device spec: an absolute
// path, and only the allowed options, each once. The device's adapter
// checks the values (printer.ParseSpec, zvt.ParseSetting,
// scan.ParseSetting).
func validateDevice(what, spec string, allowed ...string) error {
	path, query, _ := strings.Cut(spec, "?")
	if path == "" || !strings.HasPrefix(path, "/") {
		return Errorf(EINVALID, "%s: serial path must be absolute, e.g. /dev/ttyUSB0, got %q", what, path)
	}
	return validateOptions(what, query, allowed...)
}

func validateOptions(what, query string, allowed ...string) error {
	q, err := url.ParseQuery(query)
	if err != nil {
		return Errorf(EINVALID, "%s: bad options %q", what, query)
	}
	for k, vs := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok || len(vs) != 1 {
			return Errorf(EINVALID, "%s: unknown option %q (allowed: %s)", what, k, strings.Join(allowed, ", "))
		}
		if k == "baud" {
			n, err := strconv.Atoi(vs[0])
			if err != nil || n < 1200 || n > 921600 {
				return Errorf(EINVALID, "%s: baud %q is not a rate between 1200 and 921600", what, vs[0])
			}
		}
	}
	return nil
}
