package model

import (
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

// Notification is one desktop notification.
type Notification struct {
	ID     string // stable kind, e.g. "deactivated"; a new one replaces an older one of the same kind
	Title  string
	Body   string
	Urgent bool
}

// Notification kinds.
const (
	NoteDeactivated  = "deactivated"
	NoteSuspended    = "suspended"
	NoteExpired      = "expired"
	NoteLeaseEnding  = "lease-ending"
	NoteCertExpiring = "cert-expiring"
	NoteCertExpired  = "cert-expired"
	// NoteDeactivateConfirm asks to confirm a deactivation started in the tray.
	NoteDeactivateConfirm = "deactivate-confirm"
)

// Snapshot is a status and the moment it was looked at. Status is nil before
// the first answer of the agent.
type Snapshot struct {
	Status *agentapi.Status
	At     time.Time
}

// Transitions returns the notifications going from prev to next deserves. The
// tray calls it on every status change and on a periodic tick (same status,
// later At), so deadlines coming closer are noticed without a new status.
// A deactivation the person asked for in the tray is filtered by the caller.
func Transitions(prev, next Snapshot) []Notification {
	n := next.Status
	if n == nil {
		return nil
	}
	p := prev.Status
	var out []Notification
	if p != nil {
		wasEntitled := p.Entitlement.State.Entitled()
		switch {
		case p.Activated && !n.Activated:
			out = append(out, Notification{ID: NoteDeactivated, Title: "This computer was deactivated",
				Body: "Its seat was freed from your account. Choose Activate… in the Entitle menu to use it again.", Urgent: true})
		case wasEntitled && n.Entitlement.State == agentapi.StateSuspended:
			out = append(out, Notification{ID: NoteSuspended, Title: "License suspended",
				Body: StatusLine(n, next.At) + ". Signing is not available.", Urgent: true})
		case wasEntitled && n.Entitlement.State == agentapi.StateExpired:
			out = append(out, Notification{ID: NoteExpired, Title: "License expired",
				Body: StatusLine(n, next.At) + ". Signing is not available.", Urgent: true})
		}
	}
	if b := leaseBucket(next); b > leaseBucket(prev) {
		out = append(out, Notification{ID: NoteLeaseEnding, Title: "Entitle is offline",
			Body: offlineBody(n, next.At), Urgent: b >= 3})
	}
	var pe, px int
	if p != nil && p.Profiles != nil {
		pe, px = p.Profiles.Expiring, p.Profiles.Expired
	}
	if ps := n.Profiles; ps != nil {
		if ps.Expired > px {
			out = append(out, Notification{ID: NoteCertExpired, Title: "Signing certificate expired",
				Body: plural(ps.Expired, "certificate has", "certificates have") + " expired. Renew or replace the profile.", Urgent: true})
		}
		if ps.Expiring > pe {
			body := plural(ps.Expiring, "certificate expires", "certificates expire") + " within 30 days"
			if ps.EarliestCertUntil != nil {
				body += " (first on " + day(*ps.EarliestCertUntil, next.At) + ")"
			}
			out = append(out, Notification{ID: NoteCertExpiring, Title: "Signing certificate expiring", Body: body + "."})
		}
	}
	return out
}

// leaseBucket grades how close an offline computer is to losing its license:
// 0 not offline or more than 3 days left, 1 within 3 days, 2 within a day,
// 3 within an hour.
func leaseBucket(s Snapshot) int {
	if s.Status == nil || s.Status.Entitlement.State != agentapi.StateOffline {
		return 0
	}
	end := offlineEnd(s.Status)
	if end == nil {
		return 0
	}
	switch left := end.Sub(s.At); {
	case left <= time.Hour:
		return 3
	case left <= 24*time.Hour:
		return 2
	case left <= 72*time.Hour:
		return 1
	}
	return 0
}

func offlineBody(s *agentapi.Status, now time.Time) string {
	end := offlineEnd(s)
	body := "The licensing server cannot be reached"
	if s.OfflineSince != nil {
		body += " since " + when(*s.OfflineSince, now)
	}
	if end == nil {
		return body + "."
	}
	t := end.In(now.Location())
	if !t.After(now) {
		return body + ". The offline period is over."
	}
	return body + ". Connect to the internet before " + t.Format("2006-01-02 15:04") + " to keep signing."
}
