package terminal

import (
	"net/url"
	"regexp"
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
	// The site's M-PESA paybill and its spare ("222222 333333"), and
	// which of them the lane's tenders are for (main or spare; switched
	// by a supervisor only: sqlite.DB.SwitchPaybill).
	"mpesa_paybill":     "",
	"mpesa_paybill_use": "main",
	// How long the store keeps the events the hub holds before archiving
	// them (docs/STORE.md): days, or weeks.
	"retention": "365d",
}

// SettingKeys lists the settings a terminal keeps, sorted.
func SettingKeys() []string {
	return []string{"hub", "language", "mode", "mpesa_paybill", "mpesa_paybill_use", "pdq", "printer", "retention", "scanner"}
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
	case "mpesa_paybill":
		return ValidatePaybills(v)
	case "mpesa_paybill_use":
		if v == "main" || v == "spare" {
			return v, nil
		}
		return "", Errorf(EINVALID, "mpesa_paybill_use must be main or spare, got %q", value)
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

var paybillRE = regexp.MustCompile(`^[0-9]{5,7}$`)

// ValidatePaybills checks an mpesa_paybill setting: the site's paybill and,
// optionally, a spare one after it, each 5 to 7 digits; "" sets none.
func ValidatePaybills(v string) (string, error) {
	f := strings.Fields(v)
	if len(f) > 2 {
		return "", Errorf(EINVALID, "mpesa_paybill is the site's paybill and at most one spare, got %q", v)
	}
	for _, p := range f {
		if !paybillRE.MatchString(p) {
			return "", Errorf(EINVALID, "mpesa_paybill: %q is not a paybill number (5 to 7 digits)", p)
		}
	}
	if len(f) == 2 && f[0] == f[1] {
		return "", Errorf(EINVALID, "mpesa_paybill: the spare paybill is the main one (%s)", f[0])
	}
	return strings.Join(f, " "), nil
}

// PaybillInUse is the paybill M-PESA tenders are for, given the
// mpesa_paybill and mpesa_paybill_use settings ("" if none is set).
func PaybillInUse(paybills, use string) string {
	f := strings.Fields(paybills)
	switch {
	case len(f) == 0:
		return ""
	case use == "spare" && len(f) == 2:
		return f[1]
	}
	return f[0]
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
