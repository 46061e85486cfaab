package model

import (
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
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
	// NoteAdminMessage is an administrator's message sent to this computer.
	NoteAdminMessage = "admin-message"
)

// AdminMessage is the notification of an administrator's message: the body
// is their words as written; the title names who sent it when the status
// says.
func AdminMessage(loc *i18n.Localizer, st *agentapi.Status, text string) Notification {
	title := loc.T("tray_note_admin_message", nil)
	if st != nil && st.Organization != "" {
		title = loc.T("tray_note_admin_message_from", i18n.Args{"organization": st.Organization})
	}
	return Notification{ID: NoteAdminMessage, Title: title, Body: text}
}

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
func Transitions(loc *i18n.Localizer, prev, next Snapshot) []Notification {
	n := next.Status
	if n == nil {
		return nil
	}
	p := prev.Status
	var out []Notification
	if p != nil {
		wasEntitled := p.Entitlement.State.Entitled()
		unavailable := func() string {
			return loc.T("tray_note_unavailable_body", i18n.Args{"status": StatusLine(loc, n, next.At)})
		}
		switch {
		case p.Activated && !n.Activated:
			out = append(out, deactivatedNote(loc, true))
		case wasEntitled && n.Entitlement.State == agentapi.StateSuspended:
			out = append(out, Notification{ID: NoteSuspended, Title: loc.T("tray_note_suspended_title", nil), Body: unavailable(), Urgent: true})
		case wasEntitled && n.Entitlement.State == agentapi.StateExpired:
			out = append(out, Notification{ID: NoteExpired, Title: loc.T("tray_note_expired_title", nil), Body: unavailable(), Urgent: true})
		}
	}
	if b := leaseBucket(next); b > leaseBucket(prev) {
		out = append(out, Notification{ID: NoteLeaseEnding, Title: loc.T("tray_note_offline_title", nil),
			Body: offlineBody(loc, n, next.At), Urgent: b >= 3})
	}
	var pe, px int
	if p != nil && p.Profiles != nil {
		pe, px = p.Profiles.Expiring, p.Profiles.Expired
	}
	if ps := n.Profiles; ps != nil {
		if ps.Expired > px {
			out = append(out, Notification{ID: NoteCertExpired, Title: loc.T("tray_note_cert_expired_title", nil),
				Body: loc.Plural("tray_note_cert_expired_body", ps.Expired, nil), Urgent: true})
		}
		if ps.Expiring > pe {
			body := loc.Plural("tray_note_cert_expiring_body", ps.Expiring, nil)
			if ps.EarliestCertUntil != nil {
				body = loc.Plural("tray_note_cert_expiring_first_body", ps.Expiring, i18n.Args{"date": day(loc, *ps.EarliestCertUntil, next.At)})
			}
			out = append(out, Notification{ID: NoteCertExpiring, Title: loc.T("tray_note_cert_expiring_title", nil), Body: body})
		}
	}
	return out
}

// deactivatedNote says this computer was deactivated.
func deactivatedNote(loc *i18n.Localizer, urgent bool) Notification {
	return Notification{ID: NoteDeactivated, Title: loc.T("tray_deactivated", nil),
		Body: loc.T("tray_note_deactivated_body", i18n.Args{"activate": loc.T("tray_activate", nil)}), Urgent: urgent}
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

func offlineBody(loc *i18n.Localizer, s *agentapi.Status, now time.Time) string {
	end := offlineEnd(s)
	body := loc.T("tray_server_unreachable", nil)
	if s.OfflineSince != nil {
		body = loc.T("tray_server_unreachable_since", i18n.Args{"since": since(loc, *s.OfflineSince, now)})
	}
	if end == nil {
		return loc.T("tray_sentence", i18n.Args{"text": body})
	}
	t := end.In(now.Location())
	if !t.After(now) {
		return loc.T("tray_offline_body_over", i18n.Args{"text": body})
	}
	return loc.T("tray_offline_body_connect", i18n.Args{"text": body, "when": loc.DateTime(t)})
}
