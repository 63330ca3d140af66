package printer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lango-pos/lango/printer/emulator"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// Detection is what `lango printer detect` learnt of the printer on a
// serial port, and the profile it proposes.
type Detection struct {
	Port     string `json:"port"`
	Baud     int    `json:"baud"`     // the rate the printer answered at
	ModelID  int    `json:"model_id"` // GS I 1; -1: no answer
	Maker    string `json:"maker,omitempty"`
	Model    string `json:"model,omitempty"`
	Firmware string `json:"firmware,omitempty"`
	NativeQR bool   `json:"native_qr"` // answered the GS ( k size probe
	Profile  string `json:"profile"`
	Reason   string `json:"reason"` // why that profile, for the operator
	Spec     string `json:"spec"`   // the printer setting to use
}

// DetectBauds are the rates Detect tries after the one asked for: the
// factory rates of the profiles, then the fastest.
var DetectBauds = []int{9600, 19200, 38400, 115200}

// Detect asks the printer on path who it is: the status (DLE EOT 1) at
// baud and then at each of DetectBauds until it answers, the model (GS I
// 1, 66, 67, 65) and whether it draws QR codes itself (a one-character
// symbol stored, its size asked: GS ( k fn 82; nothing prints), and
// proposes a profile. A printer that answers no status at any rate is
// EDEVICE.
func Detect(ctx context.Context, path string, baud int, opts Options) (Detection, error) {
	opts = opts.withDefaults()
	bauds := []int{}
	if baud > 0 {
		bauds = append(bauds, baud)
	}
	for _, b := range DetectBauds {
		if !slices.Contains(bauds, b) {
			bauds = append(bauds, b)
		}
	}
	var lastErr error
	for _, b := range bauds {
		d, err := detectAt(ctx, path, b, opts)
		if err == nil {
			return d, nil
		}
		if ctx.Err() != nil {
			return Detection{}, deviceError(ctx.Err(), "printer detection cancelled")
		}
		if terminal.ErrorKind(err) == terminal.EDEVICE && d.Port == "" {
			return Detection{}, err // the port did not open: no rate will help
		}
		lastErr = err
	}
	return Detection{}, deviceError(lastErr, "no printer answers on %s at %s baud: is it switched on and connected?", path, joinInts(bauds))
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// detectAt runs the conversation at one rate. A Detection with Port set
// and an error means the port opened but nothing answered.
func detectAt(ctx context.Context, path string, baud int, opts Options) (Detection, error) {
	pt, err := openSerial(path, baud)
	if err != nil {
		return Detection{}, openError(path, err)
	}
	c := startConn(pt, false, opts.Logger)
	defer c.close()
	d := Detection{Port: path, Baud: baud, ModelID: -1}
	if err := c.write(append(escpos.ClearBuffers(), escpos.ESC, '@')); err != nil {
		return d, deviceError(err, "cannot write to the printer on %s", path)
	}
	if err := c.write(escpos.StatusQuery(escpos.StatusPrinter)); err != nil {
		return d, deviceError(err, "cannot write to the printer on %s", path)
	}
	if _, err := c.await(ctx, opts.StatusTimeout, escpos.IsStatusReply); err != nil {
		return d, err
	}
	// The identity answers are optional: a short wait for each.
	wait := min(opts.StatusTimeout, 500*time.Millisecond)
	c.drain()
	if err := c.write(escpos.PrinterIDQuery(escpos.IDModel)); err != nil {
		return d, deviceError(err, "cannot write to the printer on %s", path)
	}
	if b, err := c.await(ctx, wait, func(byte) bool { return true }); err == nil {
		d.ModelID = int(b)
	}
	for _, q := range []struct {
		n   byte
		dst *string
	}{{escpos.IDMaker, &d.Maker}, {escpos.IDName, &d.Model}, {escpos.IDFirmware, &d.Firmware}} {
		c.drain()
		if err := c.write(escpos.PrinterIDQuery(q.n)); err != nil {
			return d, deviceError(err, "cannot write to the printer on %s", path)
		}
		if s, ok := c.readText(ctx, wait, '_'); ok {
			*q.dst = printable(s)
		}
	}
	c.drain()
	if err := c.write(escpos.QRProbe()); err != nil {
		return d, deviceError(err, "cannot write to the printer on %s", path)
	}
	if s, ok := c.readText(ctx, wait, '7'); ok && strings.HasPrefix(s, "6") {
		d.NativeQR = true
	}
	_ = c.write([]byte{escpos.ESC, '@'})
	prof, reason := ChooseProfile(d)
	d.Profile, d.Reason = prof.Name, reason
	d.Spec = fmt.Sprintf("serial:%s?baud=%d&profile=%s", path, baud, prof.Name)
	return d, nil
}

// readText reads an answer that starts with the byte head and ends with
// NUL, and returns what is between; false if none comes within wait (for
// the first byte, and between bytes).
func (c *conn) readText(ctx context.Context, wait time.Duration, head byte) (string, bool) {
	if _, err := c.await(ctx, wait, func(b byte) bool { return b == head }); err != nil {
		return "", false
	}
	var b strings.Builder
	for b.Len() < 80 {
		x, err := c.await(ctx, wait, func(byte) bool { return true })
		if err != nil {
			return "", false
		}
		if x == 0 {
			return b.String(), true
		}
		b.WriteByte(x)
	}
	return "", false // no NUL in 80 bytes: not an answer
}

// printable keeps the printable ASCII of a printer's answer.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return -1
		}
		return r
	}, s))
}

// ModelID is a GS I 1 answer Lango recognises, and the profile it points
// to, by the native QR probe.
type ModelID struct {
	ID     byte
	Family string
	// Native is the profile when the printer answers the QR probe, Raster
	// when it does not.
	Native, Raster string
}

// ModelIDs are the GS I 1 model ids Lango maps to profiles. The reference
// notes (shared/reference/escpos.md) list none; these come from the
// printers' command manuals: Epson gives 0x20 for the TM-T88 series
// (TM-T88, T88P, T88II, T88III), and printers that emulate it answer the
// same id (Bixolon/Samsung SRP-350, Bematech MP-4000 in their manuals). So
// 0x20 says "a TM-T88 or something speaking as one", not which: the QR
// probe tells the native-QR TM-T88 generations from the older 180-dpi,
// 512-dot ones and the emulating clones. A model name (GS I 67) that a
// profile knows wins over the id.
var ModelIDs = []ModelID{
	{ID: 0x20, Family: "TM-T88 series (or a printer emulating one)", Native: "epson-tm-t88", Raster: "clone80-512"},
}

// ChooseProfile proposes a profile for what a printer said: the profile
// whose model names match its GS I 67 answer; else the one its GS I 1
// model id points to (ModelIDs) given the native QR probe; else, for an
// id Lango does not know or no id at all, the generic profile, with the
// reason and what to check.
func ChooseProfile(d Detection) (Profile, string) {
	model := strings.ToUpper(d.Model)
	for _, p := range profiles {
		for _, m := range p.Models {
			if model != "" && strings.HasPrefix(model, strings.ToUpper(m)) {
				return p, fmt.Sprintf("the printer says it is a %s %s", d.Maker, d.Model)
			}
		}
	}
	who := "the printer does not say its model"
	if d.Model != "" {
		who = fmt.Sprintf("no profile knows the model %q", d.Model)
	}
	for _, m := range ModelIDs {
		if d.ModelID != int(m.ID) {
			continue
		}
		if d.NativeQR {
			p, _ := LookupProfile(m.Native)
			return p, fmt.Sprintf("%s; its model id 0x%02X is the %s, and it draws QR codes itself: %s", who, m.ID, m.Family, p.Name)
		}
		p, _ := LookupProfile(m.Raster)
		return p, fmt.Sprintf("%s; its model id 0x%02X is the %s, and it does not draw QR codes: %s (80 mm, 512 dots at 180 dpi, QR as an image; on a 576-dot head it prints a little narrower: print `lango printer test`)", who, m.ID, m.Family, p.Name)
	}
	if d.ModelID >= 0 {
		who += fmt.Sprintf("; its model id 0x%02X is not one Lango knows", d.ModelID)
	}
	p, _ := LookupProfile(DefaultProfile)
	if d.NativeQR {
		return p, who + ", so the generic profile, " + p.Name + ", which every ESC/POS printer prints; it draws QR codes itself: on 80 mm paper try epson-tm-t88 (set it and print `lango printer test`), a pass then takes a third of the time"
	}
	return p, who + ", and it does not draw QR codes: the generic profile, " + p.Name + " (raster 58 mm); on 80 mm paper use clone80-512, and if it honours GS v 0 mode 3 generic58-2x (print `lango printer test` to check)"
}

// identity is what the emulator of profile p answers to GS I and the QR
// probe: the model names of the profile, and its native QR.
func (p Profile) identity() emulator.Identity {
	id := emulator.Identity{NativeQR: p.NativeQR, TypeID: 0x02} // type: autocutter fitted
	if len(p.Models) > 0 {
		id.Maker, id.Model, id.Firmware = p.Maker, p.Models[0], "1.00 LANGO-EMU"
	}
	return id
}
