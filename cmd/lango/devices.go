package main

import (
	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/scan"
)

// checkDevice is the device adapters' own check of a printer, pdq or
// scanner setting, wired into the store as sqlite.DB.CheckDevice: a value
// the adapter would refuse when it opens the device (an unknown printer
// profile, a baud rate the PDQ does not speak) is refused when it is set,
// from the command line or the kiosk, and nothing is stored.
func checkDevice(key, value string) error {
	var err error
	switch key {
	case "printer":
		_, err = printer.ParseSpec(value)
	case "pdq":
		if value != "manual" {
			_, err = zvt.ParseSetting(value)
		}
	case "scanner":
		if value != "keyboard" {
			_, err = scan.ParseSetting(value)
		}
	}
	return err
}
