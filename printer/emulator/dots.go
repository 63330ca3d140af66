package emulator

import (
	"fmt"
	"image"
	"image/png"
	"os"
)

// DotsOff counts the dots where got and want differ, black against white
// (every dot of want when their sizes differ): how a test tells a slip
// printed after an interruption from an uninterrupted one.
func DotsOff(got, want image.Image) int {
	b := want.Bounds()
	if got.Bounds() != b {
		return b.Dx() * b.Dy()
	}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, _, _, _ := got.At(x, y).RGBA()
			r2, _, _, _ := want.At(x, y).RGBA()
			if (r1 < 0x8000) != (r2 < 0x8000) {
				n++
			}
		}
	}
	return n
}

// DotsOffFile is DotsOff of the slip in the PNG file (as the emulator
// writes them) against want.
func DotsOffFile(file string, want image.Image) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	return DotsOff(got, want), nil
}
