package icons

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"testing"
)

// TestCommittedUpToDate fails when data/ differs from what Draw produces: run
// `go generate ./tray/icons` after changing the drawing.
func TestCommittedUpToDate(t *testing.T) {
	for _, k := range Kinds {
		for _, s := range Sizes {
			want, err := EncodePNG(k, s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := PNG(k, s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s stale: run go generate ./tray/icons", PNGName(k, s))
			}
			img, err := png.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s: %v", PNGName(k, s), err)
			}
			if b := img.Bounds(); b.Dx() != s || b.Dy() != s {
				t.Errorf("%s is %v", PNGName(k, s), b)
			}
		}
		want, err := EncodeICO(k)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ICO(k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s stale: run go generate ./tray/icons", ICOName(k))
		}
	}
}

func TestICOStructure(t *testing.T) {
	b, err := ICO(Attention)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint16(b[0:]) != 0 || le.Uint16(b[2:]) != 1 || int(le.Uint16(b[4:])) != len(Sizes) {
		t.Fatalf("bad ICONDIR % x", b[:6])
	}
	for i, s := range Sizes {
		e := b[6+16*i:]
		size, off := le.Uint32(e[8:]), le.Uint32(e[12:])
		if int(e[0]) != s || int(e[1]) != s || le.Uint16(e[6:]) != 32 {
			t.Errorf("entry %d: % x", i, e[:16])
		}
		img, err := png.Decode(bytes.NewReader(b[off : off+size]))
		if err != nil || img.Bounds().Dx() != s {
			t.Errorf("entry %d payload: %v", i, err)
		}
	}
}

// TestKindsDiffer checks the centre and the disc of each kind look different,
// and that corners are transparent (round icon) at every size.
func TestKindsDiffer(t *testing.T) {
	for _, s := range Sizes {
		seen := map[[4]uint8]Kind{}
		for _, k := range Kinds {
			img, err := Draw(k, s)
			if err != nil {
				t.Fatal(err)
			}
			if img.NRGBAAt(0, 0).A != 0 || img.NRGBAAt(s-1, s-1).A != 0 {
				t.Errorf("%s %d: corner not transparent", k, s)
			}
			c := img.NRGBAAt(s/2, s/5) // on the disc, above the glyph
			if c.A != 255 {
				t.Errorf("%s %d: disc not opaque at top: %v", k, s, c)
			}
			key := [4]uint8{c.R, c.G, c.B, c.A}
			if other, dup := seen[key]; dup {
				t.Errorf("%s and %s share disc color at %d px", k, other, s)
			}
			seen[key] = k
		}
	}
}

func TestDrawRejects(t *testing.T) {
	for _, tc := range []struct {
		k    Kind
		size int
	}{{Active, 4}, {Active, 1000}, {"bogus", 16}} {
		if _, err := Draw(tc.k, tc.size); err == nil {
			t.Errorf("Draw(%q, %d) accepted", tc.k, tc.size)
		}
	}
	if _, err := PNG(Active, 17); err == nil {
		t.Error("PNG at unknown size accepted")
	}
	if _, err := ICO("bogus"); err == nil {
		t.Error("ICO of unknown kind accepted")
	}
}
