package systrayui

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/entitle/entitle/tray/icons"
	"github.com/entitle/entitle/tray/model"
)

// iconSize is the StatusNotifierItem pixmap (hosts scale it to the panel).
const iconSize = 32

func iconBytes(k model.IconKind) ([]byte, error) {
	b, err := icons.PNG(icons.Kind(k), iconSize)
	if err != nil {
		return nil, err
	}
	return sniCarrier(b)
}

// sniCarrier works around fyne.io/systray v1.12.2 on Linux, which builds the
// IconPixmap (ARGB32, not premultiplied) from the image's color.RGBA() by
// keeping the low byte of each premultiplied 16-bit value: right for opaque
// pixels, garbage for the half-transparent edge of an anti-aliased icon (the
// speckled fringe panels showed).
//
// It returns a 16-bit PNG whose every pixel is chosen so that those low
// bytes are exactly the source PNG's 8-bit non-premultiplied alpha, red,
// green and blue: alpha A = 0xff00|a (low byte a), and each channel the
// smallest N with floor(N*A/0xffff) = c (what image/color premultiplies N
// to). The bytes are only meant for systray.SetIcon on Linux; tray/e2e reads
// the IconPixmap over D-Bus and compares it byte for byte with the PNG, so a
// systray that changes its conversion fails that test.
func sniCarrier(pngBytes []byte) ([]byte, error) {
	src, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	b := src.Bounds()
	n := image.NewNRGBA(b)
	draw.Draw(n, b, src, b.Min, draw.Src)
	out := image.NewNRGBA64(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := n.NRGBAAt(x, y)
			a := uint32(0xff00) | uint32(c.A)
			out.SetNRGBA64(x, y, color.NRGBA64{R: carry(c.R, a), G: carry(c.G, a), B: carry(c.B, a), A: uint16(a)})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	return buf.Bytes(), nil
}

// carry is the smallest 16-bit n with n*a/0xffff (integer division, as
// color.NRGBA64.RGBA computes it) equal to c.
func carry(c uint8, a uint32) uint16 {
	return uint16((uint32(c)*0xffff + a - 1) / a)
}
