package model

import (
	"fmt"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

func snap(s *agentapi.Status, d time.Duration) Snapshot { return Snapshot{Status: s, At: now.Add(d)} }

func offlineUntil(end time.Duration) *agentapi.Status {
	return st(agentapi.StateOffline, func(s *agentapi.Status) { s.GraceUntil = at(end); s.OfflineSince = at(-day1) })
}

func withProfiles(expiring, expired int) *agentapi.Status {
	return st(agentapi.StateActive, func(s *agentapi.Status) {
		s.Profiles.Expiring, s.Profiles.Expired = expiring, expired
		s.Profiles.EarliestCertUntil = at(10 * day1)
	})
}

func TestTransitions(t *testing.T) {
	active := st(agentapi.StateActive)
	tests := []struct {
		name       string
		prev, next Snapshot
		want       []string // notification ids
		urgent     []bool
	}{
		{name: "no next", prev: snap(active, 0), next: Snapshot{}, want: nil},
		{name: "first active", prev: Snapshot{}, next: snap(active, 0), want: nil},
		{name: "unchanged", prev: snap(active, 0), next: snap(active, time.Minute), want: nil},
		{name: "deactivated remotely", prev: snap(active, 0), next: snap(st(agentapi.StateInactive), 0),
			want: []string{NoteDeactivated}, urgent: []bool{true}},
		{name: "first status inactive is no deactivation", prev: Snapshot{}, next: snap(st(agentapi.StateInactive), 0), want: nil},
		{name: "activated", prev: snap(st(agentapi.StateInactive), 0), next: snap(active, 0), want: nil},
		{name: "suspended", prev: snap(active, 0), next: snap(st(agentapi.StateSuspended), 0), want: []string{NoteSuspended}},
		{name: "expired", prev: snap(st(agentapi.StateOffline), 0), next: snap(st(agentapi.StateExpired), 0), want: []string{NoteExpired}},
		{name: "expired again", prev: snap(st(agentapi.StateExpired), 0), next: snap(st(agentapi.StateExpired), 0), want: nil},
		{name: "goes offline far from end", prev: snap(active, 0), next: snap(offlineUntil(30*day1), 0), want: nil},
		{name: "offline within 3 days", prev: snap(active, 0), next: snap(offlineUntil(2*day1), 0),
			want: []string{NoteLeaseEnding}, urgent: []bool{false}},
		{name: "offline same bucket", prev: snap(offlineUntil(2*day1), 0), next: snap(offlineUntil(2*day1), time.Hour), want: nil},
		{name: "offline tick into last day", prev: snap(offlineUntil(2*day1), 0), next: snap(offlineUntil(2*day1), 30*time.Hour),
			want: []string{NoteLeaseEnding}},
		{name: "offline tick into last hour", prev: snap(offlineUntil(2*day1), 46*time.Hour), next: snap(offlineUntil(2*day1), 47*time.Hour+30*time.Minute),
			want: []string{NoteLeaseEnding}, urgent: []bool{true}},
		{name: "offline at startup close to end", prev: Snapshot{}, next: snap(offlineUntil(time.Hour/2), 0), want: []string{NoteLeaseEnding}},
		{name: "back online", prev: snap(offlineUntil(time.Hour), 0), next: snap(active, 0), want: nil},
		{name: "offline no end", prev: snap(active, 0), next: snap(st(agentapi.StateOffline), 0), want: nil},
		{name: "cert expiring", prev: snap(withProfiles(0, 0), 0), next: snap(withProfiles(1, 0), 0), want: []string{NoteCertExpiring}},
		{name: "cert expiring at startup", prev: Snapshot{}, next: snap(withProfiles(1, 0), 0), want: []string{NoteCertExpiring}},
		{name: "cert expiring unchanged", prev: snap(withProfiles(1, 0), 0), next: snap(withProfiles(1, 0), 0), want: nil},
		{name: "cert expiring fewer", prev: snap(withProfiles(2, 0), 0), next: snap(withProfiles(1, 0), 0), want: nil},
		{name: "cert expired", prev: snap(withProfiles(1, 0), 0), next: snap(withProfiles(0, 1), 0), want: []string{NoteCertExpired}},
		{name: "profiles vanish", prev: snap(withProfiles(1, 1), 0), next: snap(st(agentapi.StateActive, func(s *agentapi.Status) { s.Profiles = nil }), 0), want: nil},
		{name: "deactivated and cert", prev: snap(active, 0), next: snap(st(agentapi.StateInactive, func(s *agentapi.Status) { s.Profiles.Expiring = 1 }), 0),
			want: []string{NoteDeactivated, NoteCertExpiring}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Transitions(en, tc.prev, tc.next)
			var gotIDs []string
			for i, n := range got {
				gotIDs = append(gotIDs, n.ID)
				if n.Title == "" || n.Body == "" {
					t.Errorf("notification %q lacks title or body", n.ID)
				}
				if i < len(tc.urgent) && n.Urgent != tc.urgent[i] {
					t.Errorf("notification %q urgent=%v", n.ID, n.Urgent)
				}
			}
			if fmt.Sprint(gotIDs) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", gotIDs, tc.want)
			}
		})
	}
}

func TestOfflineBody(t *testing.T) {
	tests := []struct {
		s    *agentapi.Status
		want string
	}{
		{offlineUntil(2 * day1), "The licensing server cannot be reached since June 14, 2026. Connect to the internet before June 17, 2026 at 12:00 PM to keep signing."},
		{offlineUntil(-time.Minute), "The licensing server cannot be reached since June 14, 2026. The offline period is over."},
		{st(agentapi.StateOffline), "The licensing server cannot be reached."},
	}
	for _, tc := range tests {
		if got := offlineBody(en, tc.s, now); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}
