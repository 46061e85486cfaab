package paging

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
)

func TestFromQuery(t *testing.T) {
	tests := []struct {
		query string
		want  Request
		err   error
	}{
		{"", Request{}, nil},
		{"limit=10", Request{Limit: 10}, nil},
		{"limit=500&cursor=abc", Request{Limit: 500, Cursor: "abc"}, nil},
		{"limit=501", Request{}, ErrLimit},
		{"limit=-1", Request{}, ErrLimit},
		{"limit=x", Request{}, ErrLimit},
	}
	for _, tc := range tests {
		q, _ := url.ParseQuery(tc.query)
		got, err := FromQuery(q)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("FromQuery(%q) = %+v, %v; want %+v, %v", tc.query, got, err, tc.want, tc.err)
		}
	}
	long := make([]byte, MaxCursorBytes+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := FromQuery(url.Values{"cursor": {string(long)}}); !errors.Is(err, ErrCursor) {
		t.Errorf("long cursor: %v", err)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := Encode("1795350600000", "dev_ab")
	key, err := Decode(c, 2)
	if err != nil || len(key) != 2 || key[0] != "1795350600000" || key[1] != "dev_ab" {
		t.Fatalf("Decode = %v, %v", key, err)
	}
	for _, bad := range []string{"%%%", Encode("one"), "bm90IGpzb24"} {
		if _, err := Decode(bad, 2); !errors.Is(err, ErrCursor) {
			t.Errorf("Decode(%q) = %v, want ErrCursor", bad, err)
		}
	}
	if key, err := Decode("", 2); key != nil || err != nil {
		t.Errorf("empty cursor = %v, %v", key, err)
	}
}

func TestTrim(t *testing.T) {
	key := func(i int) []string { return []string{strconv.Itoa(i)} }
	p := Trim([]int{1, 2, 3}, 2, 7, key)
	if len(p.Items) != 2 || p.Total != 7 || p.NextCursor != Encode("2") {
		t.Fatalf("Trim = %+v", p)
	}
	last := Trim([]int{1, 2}, 2, 2, key)
	if last.NextCursor != "" || len(last.Items) != 2 {
		t.Fatalf("last page = %+v", last)
	}
	if empty := Trim[int](nil, 2, 0, key); empty.Items == nil {
		t.Fatal("empty page must marshal items as []")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode("a", "b"))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := Decode(s, 2)
		if err == nil && s != "" && len(key) != 2 {
			t.Fatalf("Decode(%q) = %v without error", s, key)
		}
	})
}
