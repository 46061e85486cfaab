//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/tray/icons"
	"github.com/entitle/entitle/tray/traytest"
)

// TestIconPixmapIsThePNG reads the IconPixmap a panel receives over D-Bus for
// each icon and compares it byte for byte with the committed PNG (ARGB32,
// not premultiplied, as the StatusNotifierItem spec says). fyne.io/systray
// v1.12.2 alone gets every half-transparent edge pixel wrong.
func TestIconPixmapIsThePNG(t *testing.T) {
	bin := trayBinary(t)
	bus := traytest.StartBus(t)
	agent := newFakeAgent(t, activeStatus())
	tr := traytest.StartTray(t, bin, bus, nil, "--listen", agent.addr, "--state-dir", agent.stateDir)
	steps := []struct {
		kind icons.Kind
		set  func(*agentapi.Status)
	}{
		{icons.Active, func(*agentapi.Status) {}},
		{icons.Attention, func(s *agentapi.Status) { s.Entitlement.State = agentapi.StateOffline }},
		{icons.Inactive, func(s *agentapi.Status) {
			s.Activated = false
			s.Entitlement = agentapi.Entitlement{State: agentapi.StateInactive}
		}},
	}
	for _, step := range steps {
		agent.set(step.set)
		want, edge := argbOf(t, step.kind, 32)
		if edge == 0 {
			t.Fatalf("%s: the PNG has no half-transparent pixel, the test proves nothing", step.kind)
		}
		var got traytest.Pixmap
		var err error
		testenv.WaitFor(t, 15*time.Second, fmt.Sprintf("the %s icon on the bus", step.kind), func() bool {
			got, err = tr.IconPixmap()
			// Wait until the icon is this kind (its opaque pixels match), then compare all.
			return err == nil && got.W == 32 && got.H == 32 && samePixel(got.Data, want, 16, 4)
		})
		if diff := countDiff(got.Data, want); diff != 0 {
			t.Errorf("%s: %d of %d pixels differ from the PNG (%d are half-transparent)", step.kind, diff, len(want)/4, edge)
		}
	}
}

// argbOf decodes the committed PNG into ARGB32 bytes and counts its
// half-transparent pixels.
func argbOf(t *testing.T, k icons.Kind, size int) ([]byte, int) {
	t.Helper()
	b, err := icons.PNG(k, size)
	if err != nil {
		t.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n := image.NewNRGBA(src.Bounds())
	draw.Draw(n, n.Bounds(), src, src.Bounds().Min, draw.Src)
	out := make([]byte, 0, len(n.Pix))
	edge := 0
	for i := 0; i < len(n.Pix); i += 4 {
		r, g, b, a := n.Pix[i], n.Pix[i+1], n.Pix[i+2], n.Pix[i+3]
		out = append(out, a, r, g, b)
		if a != 0 && a != 0xff {
			edge++
		}
	}
	return out, edge
}

func samePixel(got, want []byte, x, y int) bool {
	i := (y*32 + x) * 4
	return len(got) == len(want) && bytes.Equal(got[i:i+4], want[i:i+4])
}

func countDiff(got, want []byte) int {
	if len(got) != len(want) {
		return len(want) / 4
	}
	d := 0
	for i := 0; i < len(want); i += 4 {
		if !bytes.Equal(got[i:i+4], want[i:i+4]) {
			d++
		}
	}
	return d
}
