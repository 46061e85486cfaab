package sse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func collect(t *testing.T, in string) ([]Event, error) {
	t.Helper()
	var got []Event
	err := Parse(strings.NewReader(in), func(e Event) error { got = append(got, e); return nil })
	return got, err
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Event
	}{
		{"one", "event: ready\ndata: {}\n\n", []Event{{Name: "ready", Data: "{}"}}},
		{"id carries over", "id: 1\nevent: a\ndata: x\n\nevent: b\ndata: y\n\n", []Event{{Name: "a", Data: "x", ID: "1"}, {Name: "b", Data: "y", ID: "1"}}},
		{"multi-line data", "data: a\ndata: b\n\n", []Event{{Data: "a\nb"}}},
		{"comments and retry", ": keepalive\n\nretry: 5000\nevent: c\ndata: 1\n\n", []Event{{Name: "c", Data: "1"}}},
		{"no data is no event", "event: lonely\n\n", nil},
		{"CRLF", "event: x\r\ndata: y\r\n\r\n", []Event{{Name: "x", Data: "y"}}},
		{"unterminated last event is dropped", "event: x\ndata: y\n", nil},
		{"empty data counts", "data:\n\n", []Event{{Data: ""}}},
	}
	for _, tc := range tests {
		got, err := collect(t, tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestBounds(t *testing.T) {
	if _, err := collect(t, "data: "+strings.Repeat("x", MaxLine+1)+"\n\n"); err == nil {
		t.Error("a line over MaxLine was accepted")
	}
	big := strings.Repeat("data: "+strings.Repeat("x", 1<<19)+"\n", 9) + "\n"
	if _, err := collect(t, big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("data over MaxData: %v", err)
	}
	stop := errors.New("stop")
	if err := Parse(strings.NewReader("data: 1\n\ndata: 2\n\n"), func(Event) error { return stop }); err != stop {
		t.Errorf("emit error not returned: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("event: ready\ndata: {}\n\n")
	f.Add("id: 3\r\ndata: a\r\ndata: b\r\n\r\n: c\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = Parse(strings.NewReader(in), func(e Event) error {
			if len(e.Data) > MaxData {
				t.Fatalf("data of %d bytes", len(e.Data))
			}
			return nil
		})
	})
}
