//go:build linux

package e2e

import (
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/tray/traytest"
)

// TestFrenchTray: the real tray started with LANG=fr_FR.UTF-8 (nothing else
// configured) shows its menu, tooltip and notifications in French, with the
// state named as the CLI names it and the date written the French way.
func TestFrenchTray(t *testing.T) {
	bin := trayBinary(t)
	bus := traytest.StartBus(t)
	bus.StartWatcher(t)
	notes := bus.StartNotifications(t)
	agent := newFakeAgent(t, activeStatus())
	tr := traytest.StartTray(t, bin, bus, []string{"LANG=fr_FR.UTF-8"}, "--listen", agent.addr, "--state-dir", agent.stateDir,
		"--help-url", "https://help.example/entitle", "--max-backoff", "2s")

	tr.WaitItem(t, "Actif — formule Pro, jusqu’au 1er mars 2027", 20*time.Second)
	items := tr.StableLayout(t, "Quitter", 10*time.Second)
	for _, want := range []string{"Compte\u00a0: ada@example.com", "1 profil (par défaut\u00a0: Work)", "Ouvrir le dossier des profils",
		"Désactiver ce poste…", "Vérifier maintenant", "Aide et assistance", "Quitter"} {
		if _, ok := traytest.Find(items, want); !ok {
			t.Errorf("no %q in the French menu: %v", want, items)
		}
	}
	testenv.WaitFor(t, 10*time.Second, "the French tooltip", func() bool {
		tt, err := tr.Tooltip()
		return err == nil && tt == "Entitle — Actif — formule Pro, jusqu’au 1er mars 2027"
	})
	tr.ClickLabel(t, "Désactiver ce poste…")
	tr.WaitItem(t, "Confirmer la désactivation", 10*time.Second)
	testenv.WaitFor(t, 10*time.Second, "the French confirmation notification", func() bool {
		return noteCount(notes, "Confirmer la désactivation") == 1
	})
	if yes, ok := traytest.Find(tr.StableLayout(t, "Quitter", 10*time.Second), "Oui, désactiver"); !ok || !yes.Enabled {
		t.Errorf("Oui, désactiver: %+v", yes)
	}
	tr.ClickLabel(t, "Annuler")
	tr.WaitItem(t, "Désactiver ce poste…", 10*time.Second)
}
