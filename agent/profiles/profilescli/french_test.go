package profilescli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/i18n"
)

// TestProfilesFrench: the profile commands speak French with a French
// Localizer: results, questions, errors, status names and dates.
func TestProfilesFrench(t *testing.T) {
	fr := i18n.New().Localizer(i18n.French)
	a := startAgent(t)
	out, err := runIn(t, a, fr, false, "", "profiles", "create", "--owner", "Jeanne Dupont", "--name", "Travail")
	if err != nil || !strings.Contains(out, "Profil «\u00a0Travail\u00a0» créé (") {
		t.Fatalf("create: %v %q", err, out)
	}
	out, err = runIn(t, a, fr, false, "", "profiles", "list")
	if err != nil || !strings.Contains(out, "TITULAIRE") || !strings.Contains(out, "ÉTAT") || !strings.Contains(out, "valide") {
		t.Errorf("list: %v %q", err, out)
	}
	out, err = runIn(t, a, fr, false, "", "profiles", "show", "travail")
	for _, want := range []string{"Titulaire\u00a0:", "auto-signé", "Clé privée\u00a0:", "oui", "Valable jusqu’au\u00a0:"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("show lacks %q: %v %q", want, err, out)
		}
	}
	out, err = runIn(t, a, fr, true, "n\n", "profiles", "delete", "travail")
	if err != nil || !strings.Contains(out, "Supprimer le profil «\u00a0Travail\u00a0»") || !strings.Contains(out, "[o/N]") || !strings.Contains(out, "Annulé.") {
		t.Errorf("delete answered n: %v %q", err, out)
	}
	if _, err := runIn(t, a, fr, false, "", "profiles", "delete", "travail"); err == nil || !strings.Contains(err.Error(), "passez --yes") {
		t.Errorf("delete without a terminal: %v", err)
	}
	if _, err := runIn(t, a, fr, false, "", "profiles", "show", "personne"); err == nil ||
		!strings.Contains(err.Error(), "aucun profil n’a l’identifiant, le début d’identifiant ou le nom «\u00a0personne\u00a0»") {
		t.Errorf("show unknown: %v", err)
	}
	// A file at the folder root is named in French from its code.
	if err := os.WriteFile(filepath.Join(a.m.Dir(), "mine.p12"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.m.Rescan()
	out, err = runIn(t, a, fr, false, "", "profiles", "list")
	if err != nil || !strings.Contains(out, "mine.p12, dans le dossier des profils, n’est pas un profil\u00a0: un fichier PKCS#12 à la racine du dossier") {
		t.Errorf("list with a loose file: %v %q", err, out)
	}
}

// TestSkippedPlural: French "one" covers 0 and 1, English only 1.
func TestSkippedPlural(t *testing.T) {
	b := i18n.New()
	for _, tc := range []struct {
		tag  string
		n    int
		want string
	}{
		{"en", 1, "1 profile already present, skipped."}, {"en", 2, "2 profiles already present, skipped."},
		{"fr", 0, "0 profil déjà présent, ignoré."}, {"fr", 1, "1 profil déjà présent, ignoré."}, {"fr", 2, "2 profils déjà présents, ignorés."},
	} {
		if got := b.Localizer(b.Match(tc.tag)).Plural("profiles_skipped", tc.n, nil); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.tag, tc.n, got, tc.want)
		}
	}
}
