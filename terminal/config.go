package terminal

import (
	"net/url"
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
		if v == "entry" || v == "exit" || v == "counter" || v == "express" {
			return v, nil
		}
		return "", Errorf(EINVALID, "mode must be entry, exit, counter or express, got %q", value)
	case "printer", "pdq", "scanner":
		d, err := ParseDevice(key, v)
		if err != nil {
			return "", err
		}
		if d.Path == "" {
			return d.Kind, nil // none, manual, keyboard
		}
		return v, nil
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
