package ui

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// xScreen reads pixels off an X server's root window with the core
// protocol's GetImage, as `xwd -root` does: what is really on the screen.
// (Fyne's Canvas.Capture reads the GL front buffer, which Mesa's software
// renderer under Xvfb leaves empty.) Only what the screenshots and the
// cold-start timer need: no auth, one screen, 24/32-bit TrueColor.
type xScreen struct {
	c      net.Conn
	r      *bufio.Reader
	root   uint32
	width  int
	height int
	lsb    bool
}

// dialX connects to $DISPLAY (":99" → /tmp/.X11-unix/X99).
func dialX() (*xScreen, error) {
	d := os.Getenv("DISPLAY")
	num, ok := strings.CutPrefix(d, ":")
	if !ok {
		return nil, fmt.Errorf("DISPLAY=%q: want a local display such as :99", d)
	}
	num, _, _ = strings.Cut(num, ".")
	c, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+num, 2*time.Second)
	if err != nil {
		return nil, err
	}
	x := &xScreen{c: c, r: bufio.NewReaderSize(c, 1<<16)}
	// setup: little-endian, protocol 11.0, no authorisation
	if _, err := c.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		c.Close()
		return nil, err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(x.r, head); err != nil {
		c.Close()
		return nil, err
	}
	body := make([]byte, int(binary.LittleEndian.Uint16(head[6:]))*4)
	if _, err := io.ReadFull(x.r, body); err != nil {
		c.Close()
		return nil, err
	}
	if head[0] != 1 {
		c.Close()
		return nil, fmt.Errorf("X server refused the connection: %q", strings.TrimSpace(string(body)))
	}
	vendor := int(binary.LittleEndian.Uint16(body[16:]))
	formats := int(body[21])
	x.lsb = body[22] == 0
	scr := body[32+(vendor+3)/4*4+8*formats:]
	x.root = binary.LittleEndian.Uint32(scr[0:])
	x.width = int(binary.LittleEndian.Uint16(scr[20:]))
	x.height = int(binary.LittleEndian.Uint16(scr[22:]))
	return x, nil
}

func (x *xScreen) Close() error { return x.c.Close() }

// grab returns a rectangle of the root window.
func (x *xScreen) grab(r image.Rectangle) (*image.NRGBA, error) {
	req := make([]byte, 20)
	req[0] = 73 // GetImage
	req[1] = 2  // ZPixmap
	binary.LittleEndian.PutUint16(req[2:], 5)
	binary.LittleEndian.PutUint32(req[4:], x.root)
	binary.LittleEndian.PutUint16(req[8:], uint16(r.Min.X))
	binary.LittleEndian.PutUint16(req[10:], uint16(r.Min.Y))
	binary.LittleEndian.PutUint16(req[12:], uint16(r.Dx()))
	binary.LittleEndian.PutUint16(req[14:], uint16(r.Dy()))
	binary.LittleEndian.PutUint32(req[16:], 0xffffffff)
	if _, err := x.c.Write(req); err != nil {
		return nil, err
	}
	head := make([]byte, 32)
	if _, err := io.ReadFull(x.r, head); err != nil {
		return nil, err
	}
	if head[0] != 1 {
		return nil, fmt.Errorf("GetImage: X error %d", head[1])
	}
	data := make([]byte, int(binary.LittleEndian.Uint32(head[4:]))*4)
	if _, err := io.ReadFull(x.r, data); err != nil {
		return nil, err
	}
	if depth := head[1]; depth != 24 && depth != 32 {
		return nil, fmt.Errorf("GetImage: depth %d; want 24", depth)
	}
	if len(data) < r.Dx()*r.Dy()*4 {
		return nil, errors.New("GetImage: short image")
	}
	img := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for i := 0; i < r.Dx()*r.Dy(); i++ {
		p := data[i*4 : i*4+4]
		if x.lsb { // B G R X
			img.Pix[i*4], img.Pix[i*4+1], img.Pix[i*4+2] = p[2], p[1], p[0]
		} else { // X R G B
			img.Pix[i*4], img.Pix[i*4+1], img.Pix[i*4+2] = p[1], p[2], p[3]
		}
		img.Pix[i*4+3] = 0xff
	}
	return img, nil
}

// screen is the whole root window.
func (x *xScreen) screen() (*image.NRGBA, error) {
	return x.grab(image.Rect(0, 0, x.width, x.height))
}

// pixel is one pixel of the root window.
func (x *xScreen) pixel(px, py int) (color.NRGBA, error) {
	img, err := x.grab(image.Rect(px, py, px+1, py+1))
	if err != nil {
		return color.NRGBA{}, err
	}
	return img.NRGBAAt(0, 0), nil
}
