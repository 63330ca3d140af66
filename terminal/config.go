package terminal

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Setting keys of a terminal, with their defaults.
var settingDefaults = map[string]string{
	"printer":  "none",
	"pdq":      "manual",
	"scanner":  "keyboard",
	"hub":      "",
	"language": "en",
	"mode":     "entry",
	// How long the store keeps the events the hub holds before archiving
	// them (docs/STORE.md): days, or weeks.
	"retention": "365d",
}

// SettingKeys lists the settings a terminal keeps, sorted.
func SettingKeys() []string {
	return []string{"hub", "language", "mode", "pdq", "printer", "retention", "scanner"}
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
	case "printer", "pdq", "scanner":
		d, err := ParseDevice(key, v)
		if err != nil {
			return "", err
		}
		if d.Path == "" {
			return d.Kind, nil // none, manual, keyboard
		}
		return v, nil
	case "retention":
		d, err := ParseRetention(v)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(int(d/(24*time.Hour))) + "d", nil
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

// ParseRetention reads a retention setting: a whole number of days ("365d")
// or weeks ("52w"), at least a day and at most ten years.
func ParseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	unit := 24 * time.Hour
	num, ok := strings.CutSuffix(v, "d")
	if !ok {
		if num, ok = strings.CutSuffix(v, "w"); ok {
			unit *= 7
		}
	}
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 1 || time.Duration(n)*unit > 3653*24*time.Hour {
		return 0, Errorf(EINVALID, "retention must be a number of days or weeks (365d, 52w), from a day to ten years, got %q", v)
	}
	return time.Duration(n) * unit, nil
}
