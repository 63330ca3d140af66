package printer

import (
	"sort"

	"go.bug.st/serial/enumerator"
)

// PortInfo describes a serial port for `lango printer list`.
type PortInfo struct {
	Name    string `json:"name"`
	USB     bool   `json:"usb"`
	VID     string `json:"vid,omitempty"` // USB vendor ID, hex
	PID     string `json:"pid,omitempty"` // USB product ID, hex
	Serial  string `json:"serial,omitempty"`
	Product string `json:"product,omitempty"`
}

// ListPorts lists the serial ports with their USB vendor, product and
// serial number where the system knows them. Pseudo-terminals (the
// emulator's) are never listed.
func ListPorts() ([]PortInfo, error) {
	ds, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, deviceError(err, "cannot list the serial ports")
	}
	out := make([]PortInfo, 0, len(ds))
	for _, d := range ds {
		out = append(out, PortInfo{Name: d.Name, USB: d.IsUSB, VID: d.VID, PID: d.PID, Serial: d.SerialNumber, Product: d.Product})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
