package pass

import (
	"fmt"
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// QRLevel is the error-correction level of printed passes: Q, which
// restores up to 25 % of the symbol's codewords (go-qrcode calls Q "High").
// docs/PASS-FORMAT.md §QR code explains the choice: a scratch or a fold
// costs codewords, while a higher level (H) would need a larger version and
// so, on paper of fixed width, smaller modules.
const QRLevel = qrcode.High

// QRQuietZone is the white border, in modules, that QRImage and QRBitmap
// include on every side (the standard's minimum).
const QRQuietZone = 4

// DPI is the resolution of the thermal printers Lango targets (8 dots/mm).
const DPI = 203

// NewQR returns the QR code of text at QRLevel, for callers that need
// go-qrcode's other outputs.
func NewQR(text string) (*qrcode.QRCode, error) {
	if text == "" {
		return nil, fmt.Errorf("%w: empty QR content", ErrInvalid)
	}
	q, err := qrcode.New(text, QRLevel)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return q, nil
}

// QRVersion returns the QR version (1–40) that text needs at QRLevel.
func QRVersion(text string) (int, error) {
	q, err := NewQR(text)
	if err != nil {
		return 0, err
	}
	return q.VersionNumber, nil
}

// QRBitmap returns the modules of text's QR code, true for dark, with the
// quiet zone: (17 + 4·version + 2·QRQuietZone) modules square. The printer
// rasterises it at its own dots per module.
func QRBitmap(text string) ([][]bool, error) {
	q, err := NewQR(text)
	if err != nil {
		return nil, err
	}
	return q.Bitmap(), nil
}

// QRImage returns text's QR code as an image with dotsPerModule pixels per
// module (printer dots: 4 to 6 at 203 dpi), quiet zone included.
func QRImage(text string, dotsPerModule int) (image.Image, error) {
	if dotsPerModule < 1 || dotsPerModule > 32 {
		return nil, fmt.Errorf("%w: %d dots per module; 1 to 32", ErrInvalid, dotsPerModule)
	}
	q, err := NewQR(text)
	if err != nil {
		return nil, err
	}
	return q.Image(-dotsPerModule), nil
}

// QRPNG is QRImage encoded as PNG.
func QRPNG(text string, dotsPerModule int) ([]byte, error) {
	if dotsPerModule < 1 || dotsPerModule > 32 {
		return nil, fmt.Errorf("%w: %d dots per module; 1 to 32", ErrInvalid, dotsPerModule)
	}
	q, err := NewQR(text)
	if err != nil {
		return nil, err
	}
	b, err := q.PNG(-dotsPerModule)
	if err != nil {
		return nil, fmt.Errorf("qr png: %w", err)
	}
	return b, nil
}

// QRModules is the width in modules of a QR code of version, without the
// quiet zone.
func QRModules(version int) int { return 17 + 4*version }

// QRPrintedMM is the printed width in millimetres of a QR code of version
// at dotsPerModule dots per module and DPI, quiet zone included.
func QRPrintedMM(version, dotsPerModule int) float64 {
	dots := (QRModules(version) + 2*QRQuietZone) * dotsPerModule
	return float64(dots) * 25.4 / DPI
}
