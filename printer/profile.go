package printer

import (
	"sort"
	"strings"
	"time"

	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
)

// Flow is the serial flow control a printer is set to.
type Flow string

// Flow controls: go.bug.st/serial has no hardware flow control, so a
// printer is either paced by the host (none) or tells it when to pause
// (XON/XOFF, handled by this package).
const (
	FlowNone    Flow = "none"
	FlowXonXoff Flow = "xonxoff"
)

// Profile is what Lango must know about a printer model: paper, font
// columns, capabilities and its factory serial settings.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	PaperMM     int    `json:"paper_mm"`
	DPI         int    `json:"dpi"`
	// WidthDots is the printable width: 384 on 58 mm at 203 dpi, 576 on
	// 80 mm, 512 on 80 mm at 180 dpi.
	WidthDots int `json:"width_dots"`
	// Columns of font A (12×24 dots).
	Columns int `json:"columns"`
	// NativeQR: the printer draws QR codes itself (GS ( k). Without it
	// QR codes go as raster images, which cost far more bytes.
	NativeQR bool `json:"native_qr"`
	// QRModule is the size of one QR module in dots: 5 (0.625 mm at 203
	// dpi), as docs/PASS-FORMAT.md recommends; a symbol too wide for the
	// paper at this size prints with smaller modules.
	QRModule int `json:"qr_module"`
	// RasterDouble: the printer honours GS v 0 mode 3 (each dot printed
	// 2×2), so a raster QR goes at half resolution with an even module
	// size: a quarter of the bytes. Many clones do; some ignore the mode
	// and print the code at half size, so it is opt-in per profile.
	RasterDouble bool `json:"raster_double"`
	// BitImageQR: a raster QR goes as ESC * 8-dot double-density lines,
	// each bit printed 3 dots tall, at 3 dots a module: a third of the
	// bytes of GS v 0 at the same size. ESC * is the oldest image command
	// and every ESC/POS clone has it; QRModule must be 3.
	BitImageQR bool `json:"bit_image_qr"`
	// QRLevel is the QR error correction (0: level Q, qrLevel), as the
	// read-back test with creases and glare chose (TestQRChoice).
	QRLevel escpos.ECLevel `json:"qr_level,omitempty"`
	// CodePage is the character table Lango selects ("CP437", "CP858").
	CodePage string `json:"code_page"`
	Baud     int    `json:"baud"`
	Flow     Flow   `json:"flow"`
	// Maker and Models are what printers of this profile answer to GS I
	// 66 and 67 (the start of the model name), for `lango printer detect`.
	Maker  string   `json:"maker,omitempty"`
	Models []string `json:"models,omitempty"`
	// CutFeed is the paper fed, in dots, after the last line before the
	// cut so the text clears the cutter with a margin.
	CutFeed int `json:"cut_feed"`
}

// DefaultProfile is used when a printer setting names none: the 58 mm
// class that every ESC/POS printer can at least emulate.
const DefaultProfile = "generic58"

// profiles is the table of known models. It is never modified; Profiles and
// LookupProfile return copies.
var profiles = []Profile{
	{
		Name:        "generic58",
		Description: "58 mm POS-5890 class printer: 203 dpi, 384 dots, no native QR (QR as ESC * lines, 3 dots/module, level H), 9600 baud",
		PaperMM:     58, DPI: 203, WidthDots: 384, Columns: 32,
		NativeQR: false, QRModule: 3, BitImageQR: true, QRLevel: escpos.ECHighest, CodePage: "CP437",
		Baud: 9600, Flow: FlowNone, CutFeed: 24,
	},
	{
		Name:        "generic58-2x",
		Description: "58 mm clone that honours GS v 0 mode 3: QR as raster at 4 dots/module sent 2×2, a quarter of the bytes; 9600 baud",
		PaperMM:     58, DPI: 203, WidthDots: 384, Columns: 32,
		NativeQR: false, QRModule: 4, RasterDouble: true, CodePage: "CP437",
		Baud: 9600, Flow: FlowNone, CutFeed: 24,
	},
	{
		Name:        "epson-tm-t20",
		Description: "Epson TM-T20 class 80 mm printer: 203 dpi, 576 dots, native QR, 38400 baud XON/XOFF",
		PaperMM:     80, DPI: 203, WidthDots: 576, Columns: 48,
		NativeQR: true, QRModule: 5, CodePage: "CP858",
		Baud: 38400, Flow: FlowXonXoff, CutFeed: 24,
		Maker: "EPSON", Models: []string{"TM-T20"},
	},
	{
		Name:        "epson-tm-t88",
		Description: "Epson TM-T88 class 80 mm printer: 203 dpi, 576 dots, native QR, 9600 baud XON/XOFF",
		PaperMM:     80, DPI: 203, WidthDots: 576, Columns: 48,
		NativeQR: true, QRModule: 5, CodePage: "CP858",
		Baud: 9600, Flow: FlowXonXoff, CutFeed: 24,
		Maker: "EPSON", Models: []string{"TM-T88"},
	},
	{
		Name:        "clone80-512",
		Description: "80 mm 180 dpi clone: 512 dots, 42 columns, QR as ESC * lines (3 dots/module, level H), 19200 baud",
		PaperMM:     80, DPI: 180, WidthDots: 512, Columns: 42,
		NativeQR: false, QRModule: 3, BitImageQR: true, QRLevel: escpos.ECHighest, CodePage: "CP437",
		Baud: 19200, Flow: FlowNone, CutFeed: 24,
	},
}

// profileAliases are short names people type.
var profileAliases = map[string]string{
	"tm-t20": "epson-tm-t20", "tm-t88": "epson-tm-t88", "58mm": "generic58", "generic": "generic58",
}

// Profiles lists the known printer profiles by name.
func Profiles() []Profile {
	out := append([]Profile(nil), profiles...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupProfile returns the profile called name (or one of its aliases,
// case-insensitive); the empty name is DefaultProfile.
func LookupProfile(name string) (Profile, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = DefaultProfile
	}
	if a, ok := profileAliases[n]; ok {
		n = a
	}
	for _, p := range profiles {
		if p.Name == n {
			return p, nil
		}
	}
	var names []string
	for _, p := range Profiles() {
		names = append(names, p.Name)
	}
	return Profile{}, terminal.Errorf(terminal.EINVALID, "unknown printer profile %q: use one of %s", name, strings.Join(names, ", "))
}

// codePage returns the profile's character table (CP437 if unknown).
func (p Profile) codePage() escpos.CodePage {
	if cp, ok := escpos.CodePageByName(p.CodePage); ok {
		return cp
	}
	return escpos.CP437
}

// qrLevel is the error correction of the profile's QR codes.
func (p Profile) qrLevel() escpos.ECLevel {
	if p.QRLevel == 0 {
		return qrLevel
	}
	return p.QRLevel
}

// MarginDots is the unprinted paper beside the printable width on each
// side, in dots: 39 on 58 mm paper at 203 dpi, 31 on 80 mm.
func (p Profile) MarginDots() int {
	paper := p.PaperMM * p.DPI * 10 / 254
	return max(0, (paper-p.WidthDots)/2)
}

// WireTime is how long n bytes take on the profile's serial line: give
// Print a deadline of at least this plus a few seconds for printing.
func (p Profile) WireTime(n int) time.Duration {
	return time.Duration(float64(n) / float64(p.BytesPerSecond()) * float64(time.Second))
}

// BytesPerSecond is what the serial line carries at the profile's baud
// rate with 8N1 framing (10 bits a byte).
func (p Profile) BytesPerSecond() int { return max(1, p.Baud/10) }
