package accountapi

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestJournalQuery(t *testing.T) {
	since := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		query string
		ok    bool
	}{
		{"", true},
		{"action=device.activate&since=2026-12-01T00:00:00Z&until=2026-12-02T00:00:00Z&limit=10", true},
		{"action=device.*", true},
		{"action=Device.activate", false},
		{"action=*", false},
		{"action=device.%25", false},
		{"since=yesterday", false},
		{"since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", false},
		{"limit=501", false},
		{"account=" + strings.Repeat("a", 129), false},
		{"actor=account:acc_1&account=acc_1", true},
	}
	for _, tc := range tests {
		v, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		q, err := JournalQueryFrom(v)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.query, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		// Values is the inverse of JournalQueryFrom.
		back, err := JournalQueryFrom(q.Values())
		if err != nil || back.Action != q.Action || !back.Since.Equal(q.Since) || !back.Until.Equal(q.Until) || back.Page != q.Page || back.Actor != q.Actor {
			t.Errorf("%q: round trip = %+v, %v; want %+v", tc.query, back, err, q)
		}
	}
	q, _ := JournalQueryFrom(url.Values{"since": {"2026-12-01T00:00:00Z"}})
	if !q.Since.Equal(since) {
		t.Errorf("since = %v", q.Since)
	}
}
