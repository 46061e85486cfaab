// Package icons holds the tray icons: PNGs at 16, 22, 32, 48 and 64 pixels and
// a multi-size ICO container per kind (Windows needs ICO bytes). They are drawn
// by this package's code (Draw) and written to data/ by `go generate`; a test
// fails when the committed files differ from what the code draws.
package icons

//go:generate go run ./gen -out data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Kind names an icon; the values match tray/model.IconKind.
type Kind string

// Icon kinds.
const (
	Active    Kind = "active"
	Attention Kind = "attention"
	Inactive  Kind = "inactive"
)

// Kinds lists every kind, and Sizes every pixel size drawn.
var (
	Kinds = [...]Kind{Active, Attention, Inactive}
	Sizes = [...]int{16, 22, 32, 48, 64}
)

// style is the look of one kind: disc, rim and glyph colors and the glyph.
type style struct {
	disc, rim, glyph color.NRGBA
	shapes           []shape
}

// shape is a round-capped segment (a dot when both ends coincide), in units
// of the icon's side.
type shape struct{ x0, y0, x1, y1, width float64 }

func styleFor(k Kind) (style, error) {
	switch k {
	case Active: // green disc, white check mark
		return style{
			disc: color.NRGBA{0x2e, 0x9e, 0x4f, 0xff}, rim: color.NRGBA{0x1d, 0x6b, 0x35, 0xff}, glyph: color.NRGBA{0xff, 0xff, 0xff, 0xff},
			shapes: []shape{{0.28, 0.52, 0.44, 0.68, 0.12}, {0.44, 0.68, 0.72, 0.34, 0.12}},
		}, nil
	case Attention: // amber disc, dark exclamation mark
		return style{
			disc: color.NRGBA{0xf2, 0xa9, 0x1d, 0xff}, rim: color.NRGBA{0xa8, 0x6e, 0x00, 0xff}, glyph: color.NRGBA{0x22, 0x22, 0x22, 0xff},
			shapes: []shape{{0.5, 0.26, 0.5, 0.56, 0.13}, {0.5, 0.74, 0.5, 0.74, 0.14}},
		}, nil
	case Inactive: // grey disc, white bar
		return style{
			disc: color.NRGBA{0x8a, 0x8a, 0x8a, 0xff}, rim: color.NRGBA{0x5c, 0x5c, 0x5c, 0xff}, glyph: color.NRGBA{0xff, 0xff, 0xff, 0xff},
			shapes: []shape{{0.30, 0.5, 0.70, 0.5, 0.13}},
		}, nil
	}
	return style{}, fmt.Errorf("icons: unknown kind %q", k)
}

// samples per pixel side for anti-aliasing.
const samples = 5

// Draw renders kind at size×size pixels (8..256).
func Draw(k Kind, size int) (*image.NRGBA, error) {
	if size < 8 || size > 256 {
		return nil, fmt.Errorf("icons: size %d out of range", size)
	}
	st, err := styleFor(k)
	if err != nil {
		return nil, err
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	n := float64(size)
	rimWidth := math.Max(1, n/16) / n // at least one pixel
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < samples; sy++ {
				for sx := 0; sx < samples; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/samples) / n
					y := (float64(py) + (float64(sy)+0.5)/samples) / n
					c, ok := st.at(x, y, rimWidth)
					if !ok {
						continue
					}
					r += float64(c.R)
					g += float64(c.G)
					b += float64(c.B)
					a++
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a)), G: uint8(math.Round(g / a)), B: uint8(math.Round(b / a)),
				A: uint8(math.Round(255 * a / samples / samples)),
			})
		}
	}
	return img, nil
}

// at is the color of the point (x, y), or false outside the icon.
func (st style) at(x, y, rimWidth float64) (color.NRGBA, bool) {
	const radius = 0.47
	d := math.Hypot(x-0.5, y-0.5)
	if d > radius {
		return color.NRGBA{}, false
	}
	for _, s := range st.shapes {
		if segDist(x, y, s) <= s.width/2 {
			return st.glyph, true
		}
	}
	if d > radius-rimWidth {
		return st.rim, true
	}
	return st.disc, true
}

func segDist(x, y float64, s shape) float64 {
	dx, dy := s.x1-s.x0, s.y1-s.y0
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((x-s.x0)*dx+(y-s.y0)*dy)/l2))
	}
	return math.Hypot(x-(s.x0+t*dx), y-(s.y0+t*dy))
}

// EncodePNG draws kind at size and encodes it as PNG.
func EncodePNG(k Kind, size int) ([]byte, error) {
	img, err := Draw(k, size)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("icons: encode %s %d: %w", k, size, err)
	}
	return buf.Bytes(), nil
}

// EncodeICO builds an ICO container holding kind at every size in Sizes, each
// entry PNG-compressed (supported by Windows since Vista).
func EncodeICO(k Kind) ([]byte, error) {
	var imgs [][]byte
	for _, s := range Sizes {
		b, err := EncodePNG(k, s)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, b)
	}
	return ico(Sizes[:], imgs), nil
}

// ico writes the ICONDIR, the ICONDIRENTRYs and the PNG payloads.
func ico(sizes []int, imgs [][]byte) []byte {
	var buf bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 6)
	le.PutUint16(hdr[2:], 1) // type: icon
	le.PutUint16(hdr[4:], uint16(len(imgs)))
	buf.Write(hdr)
	offset := 6 + 16*len(imgs)
	for i, b := range imgs {
		e := make([]byte, 16)
		e[0], e[1] = byte(sizes[i]%256), byte(sizes[i]%256) // 0 means 256
		le.PutUint16(e[4:], 1)                              // color planes
		le.PutUint16(e[6:], 32)                             // bits per pixel
		le.PutUint32(e[8:], uint32(len(b)))
		le.PutUint32(e[12:], uint32(offset))
		buf.Write(e)
		offset += len(b)
	}
	for _, b := range imgs {
		buf.Write(b)
	}
	return buf.Bytes()
}
