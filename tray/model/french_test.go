package model

import (
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/statustext"
)

// TestBuildFrench: with a French localizer every line of the menu is French,
// dates are written the French way, and the state has the name the CLI
// gives it (statustext.Title).
func TestBuildFrench(t *testing.T) {
	tests := []struct {
		name string
		s    *agentapi.Status
		ui   UIState
		want want
	}{
		{
			name: "actif", ui: UIState{HelpURL: "https://help.example/"},
			s: st(agentapi.StateActive, func(s *agentapi.Status) {
				s.Entitlement.TermEnd = date("2027-03-01")
				s.Account = "ada@example.com"
				s.Organization = "Acme"
			}),
			want: want{icon: IconActive, status: "Actif — formule Pro, jusqu’au 1er mars 2027",
				enabled: []string{"deactivate", "check", "help", "quit"},
				labels: map[string]string{
					"account": "Compte\u00a0: ada@example.com", "organization": "Organisation\u00a0: Acme",
					"profiles": "2 profils (par défaut\u00a0: Work)", "deactivate": "Désactiver ce poste…",
					"check": "Vérifier maintenant", "help": "Aide et assistance", "quit": "Quitter", "open-profiles": "Ouvrir le dossier des profils",
				}},
		},
		{
			name: "hors ligne",
			s: st(agentapi.StateOffline, func(s *agentapi.Status) {
				s.Entitlement.TermEnd = date("2027-03-01")
				s.GraceUntil = date("2026-07-01")
				s.OfflineSince = at(-2 * time.Hour)
			}),
			want: want{icon: IconAttention, status: "Hors ligne — licence valable jusqu’au 1er mars 2027",
				labels: map[string]string{"offline": "Hors ligne depuis 10:00\u00a0; fonctionne jusqu’au 1er juillet 2026"}},
		},
		{
			name: "non activé, connexion en attente",
			s: st(agentapi.StateInactive, func(s *agentapi.Status) {
				s.Pending = &agentapi.PendingAuth{UserCode: "ABCD-EFGH", VerificationURI: "https://x.example/device", ExpiresAt: now.Add(time.Minute)}
				s.Profiles.Count, s.Profiles.Default = 1, ""
			}),
			want: want{icon: IconInactive, status: "Non activé",
				labels: map[string]string{"activate": "Activer…", "signin-code": "Code de connexion\u00a0: ABCD-EFGH",
					"signin-open": "Ouvrir la page de connexion…", "profiles": "1 profil, aucun par défaut"}},
		},
		{
			name: "raison par code, pas le texte anglais de l’agent",
			s: st(agentapi.StateTampered, func(s *agentapi.Status) {
				s.Entitlement.ReasonCode = agentapi.ReasonStateTampered
				s.Entitlement.Reason = "the state file was modified outside the agent; activate again"
			}),
			want: want{icon: IconInactive, status: "Échec du contrôle de licence — le fichier d’état a été modifié en dehor…"},
		},
		{
			name: "confirmation", ui: UIState{ConfirmingDeactivation: true}, s: st(agentapi.StateActive),
			want: want{icon: IconActive, status: "Actif — formule Pro",
				labels: map[string]string{"deactivate": "Confirmer la désactivation", "deactivate-yes": "Oui, désactiver", "deactivate-cancel": "Annuler",
					"deactivate-ask": "Libérer la licence de ce poste\u00a0? La signature s’arrête."}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Build(fr, tc.s, ConnConnected, tc.ui, now)
			check(t, m, tc.want)
			if !strings.HasPrefix(m.Items[0].Label, statustext.Title(fr, tc.s.Entitlement.State)) {
				t.Errorf("status line %q does not start with the CLI's name of the state", m.Items[0].Label)
			}
		})
	}
	// The tampered reason is cut to one menu line: check its start instead of
	// relying on where the cut falls.
	tampered := Build(fr, tests[3].s, ConnConnected, UIState{}, now).Items[0].Label
	if strings.Contains(tampered, "state file") {
		t.Errorf("English reason shown in French: %q", tampered)
	}
}

// TestStateNamesMatchCLI: the tray's first line names every state exactly as
// the CLI does, in both languages.
func TestStateNamesMatchCLI(t *testing.T) {
	for _, loc := range []*i18n.Localizer{en, fr} {
		for _, state := range []agentapi.State{agentapi.StateActive, agentapi.StateOffline, agentapi.StateExpired, agentapi.StateInactive,
			agentapi.StateSuspended, agentapi.StateTampered, agentapi.StateForeign, agentapi.StateNotConfigured} {
			line := StatusLine(loc, st(state), now)
			if title := statustext.Title(loc, state); !strings.HasPrefix(line, title) {
				t.Errorf("%s %s: tray says %q, the CLI names it %q", loc.Tag(), state, line, title)
			}
		}
	}
}

// TestPluralsFrench: French "one" covers 0 and 1, English only 1.
func TestPluralsFrench(t *testing.T) {
	tests := []struct {
		loc  *i18n.Localizer
		n    int
		want string
	}{
		{en, 0, "… and 0 more warnings"}, {en, 1, "… and 1 more warning"}, {en, 2, "… and 2 more warnings"},
		{fr, 0, "… et 0 autre avertissement"}, {fr, 1, "… et 1 autre avertissement"}, {fr, 2, "… et 2 autres avertissements"},
	}
	for _, tc := range tests {
		if got := tc.loc.Plural("tray_more_warnings", tc.n, nil); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.loc.Tag(), tc.n, got, tc.want)
		}
	}
	s := st(agentapi.StateActive, func(s *agentapi.Status) {
		s.Profiles.Warnings = []string{"English for logs"}
		s.Profiles.NotProfiles = []agentapi.NotAProfile{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}, {Name: "e"}}
		s.Profiles.Invalid = 1
	})
	m := Build(fr, s, ConnConnected, UIState{}, now)
	check(t, m, want{icon: IconAttention, status: "Actif — formule Pro", labels: map[string]string{
		"profiles-more": "… et 2 autres avertissements", "profiles-invalid": "⚠ 1 profil n’est pas valide",
		"profiles-warning-0": "⚠ a, dans le dossier des profils, n’est pas un profil"}})
}

// TestNotificationsFrench: notifications and results are French too.
func TestNotificationsFrench(t *testing.T) {
	got := Transitions(fr, snap(st(agentapi.StateActive), 0), snap(st(agentapi.StateInactive), 0))
	if len(got) != 1 || got[0].Title != "Ce poste a été désactivé" || !strings.Contains(got[0].Body, "«\u00a0Activer…\u00a0»") {
		t.Errorf("deactivation notification %+v", got)
	}
	if r := ResultText(fr, Outcome{Op: OpCheck, Code: agentapi.ErrUnavailable}); r != "Échec de la vérification\u00a0: le serveur de licences est injoignable" {
		t.Errorf("result %q", r)
	}
	if n := ConfirmNotification(fr); !strings.Contains(n.Body, "«\u00a0Confirmer la désactivation ▸ Oui, désactiver\u00a0»") {
		t.Errorf("confirmation %q", n.Body)
	}
	if m := Build(fr, nil, ConnAgentNotRunning, UIState{}, now); m.Items[0].Label != "Agent arrêté" || m.Tooltip != "Entitle — Agent arrêté" {
		t.Errorf("disconnected %+v", m.Items[0])
	}
}
