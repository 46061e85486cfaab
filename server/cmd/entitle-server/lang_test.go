package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// TestDetectLanguage: --lang, then ENTITLE_LANG, then the configuration's
// lang (ENTITLE_SERVER_LANG, the --config file), then LC_ALL, LC_MESSAGES,
// LANG; nothing gives English.
func TestDetectLanguage(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(conf, []byte("lang = \"fr\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := i18n.New()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"nothing", nil, nil, "en"},
		{"LANG", nil, map[string]string{"LANG": "fr_FR.UTF-8"}, "fr"},
		{"LC_ALL over LANG", nil, map[string]string{"LANG": "fr_FR.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"},
		{"LC_MESSAGES over LANG", nil, map[string]string{"LANG": "en_GB.UTF-8", "LC_MESSAGES": "fr_CA.UTF-8"}, "fr"},
		{"C locale", nil, map[string]string{"LANG": "C.UTF-8"}, "en"},
		{"--lang", []string{"license", "list", "--lang", "fr"}, map[string]string{"LANG": "en_US.UTF-8"}, "fr"},
		{"--lang=", []string{"--lang=fr", "migrate"}, nil, "fr"},
		{"--lang over the locale", []string{"--lang", "en"}, map[string]string{"LC_ALL": "fr_FR.UTF-8"}, "en"},
		{"after -- is not a flag", []string{"keys", "activate", "--", "--lang", "fr"}, nil, "en"},
		{"ENTITLE_LANG", nil, map[string]string{"ENTITLE_LANG": "fr", "LANG": "en_US"}, "fr"},
		{"ENTITLE_SERVER_LANG", nil, map[string]string{"ENTITLE_SERVER_LANG": "fr", "LANG": "en_US"}, "fr"},
		{"config file", []string{"--config", conf}, map[string]string{"LANG": "en_US"}, "fr"},
		{"ENTITLE_SERVER_CONFIG", nil, map[string]string{"ENTITLE_SERVER_CONFIG": conf}, "fr"},
		{"--lang over the config file", []string{"--config=" + conf, "--lang", "en"}, nil, "en"},
		{"unknown language", []string{"--lang", "de"}, nil, "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if got := detectLanguage(b, tc.args, lookup).String(); got != tc.want {
				t.Fatalf("detectLanguage(%q, %v) = %s, want %s", tc.args, tc.env, got, tc.want)
			}
		})
	}
}

// TestServerCLIInFrench: with a French locale the help, errors, table
// headers, confirmations and the server's refusals are French; --json output
// stays codes and data.
func TestServerCLIInFrench(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		t.Setenv(i18n.EnvLang, "")
		t.Setenv("LANG", "fr_FR.UTF-8")
		dsn := storetest.DSN(t, d)
		run := func(stdin string, args ...string) (string, error) { return runIn(t, dsn, stdin, args...) }
		for _, c := range []struct {
			args    []string
			stdin   string
			want    []string // in the output, or in the error
			wantErr bool
		}{
			{[]string{"--help"}, "", []string{"Serveur de licences Entitle", "Utilisation\u00a0:", "Gérer les licences", "afficher les résultats en JSON",
				"(par défaut\u00a0: «\u00a0text\u00a0»)", "(par défaut\u00a0: 168h0m0s)", "afficher la version du programme entitle-server"}, false},
			{[]string{"license", "create", "--help"}, "", []string{"Local et à distance", "Local seulement", "À distance seulement"}, false},
			{[]string{"migrate"}, "", []string{"La base de données est à jour."}, false},
			{[]string{"account", "create", "--email", "boss@example.com"}, "", []string{"donnez le mot de passe sur l’entrée standard avec --password-stdin"}, true},
			{[]string{"account", "create", "--email", "boss@example.com", "--password-stdin"}, "correct horse battery\n", []string{"Compte acc_", "créé pour boss@example.com."}, false},
			{[]string{"license", "create", "--owner", "boss@example.com", "--plan", "Team", "--seats", "0"}, "", []string{"--seats doit être compris entre 1 et 1000000, pas 0"}, true},
			{[]string{"license", "create", "--owner", "boss@example.com", "--plan", "Team", "--management-mode", "remote"}, "", []string{"Licence lic_", "Clé\u00a0: ", "Mode de gestion\u00a0: À distance seulement"}, false},
			{[]string{"license", "list"}, "", []string{"TITULAIRE", "FORMULE", "POSTES", "CLÉ", "À distance seulement", "aucune"}, false},
			{[]string{"license", "create", "--owner", "nobody@example.com", "--plan", "Team"}, "", nil, true},
			{[]string{"keys", "activate", "no-such-key"}, "", []string{"introuvable\u00a0: rien ne porte cet identifiant"}, true},
			{[]string{"keys", "activate", "a", "b"}, "", []string{"attend 1 identifiant, en a reçu 2"}, true},
			{[]string{"demo"}, "", []string{"Compte de démonstration\u00a0:", "(3 postes)"}, false},
			{[]string{"org", "list", "--limit", "9999"}, "", []string{"--limit doit être compris entre 1 et 500"}, true},
			{[]string{"journal", "list", "--limit", "9999"}, "", []string{"la demande n’est pas valide\u00a0:"}, true},
			{[]string{"mail", "list"}, "", []string{"ÉTAT", "DERNIÈRE ERREUR"}, false},
		} {
			out, err := run(c.stdin, c.args...)
			if (err != nil) != c.wantErr {
				t.Fatalf("%v: error %v, want error %v\n%s", c.args, err, c.wantErr, out)
			}
			if err != nil {
				out += err.Error()
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("%v: %q lacks %q", c.args, out, w)
				}
			}
			for _, english := range []string{"(default", "help for", "version for", "Usage:", "Flags:"} {
				if strings.Contains(out, english) {
					t.Errorf("%v: English %q in %q", c.args, english, out)
				}
			}
		}
		// --json stays codes.
		out, err := run("", "license", "list", "--json")
		var list []map[string]any
		if err != nil || json.Unmarshal([]byte(out), &list) != nil || !anyRemote(list) {
			t.Fatalf("license list --json: %v\n%s", err, out)
		}
		// A usage error of cobra, reworded.
		if _, err := run("", "license", "create"); err == nil || !strings.Contains(err.Error(), "required flag") {
			t.Fatalf("license create without flags: %v", err)
		} else if got := wordedUsage(err); !strings.Contains(got, "une option obligatoire manque\u00a0: --owner, --plan") {
			t.Fatalf("worded usage error %q", got)
		}
	})
}

// wordedUsage is what main prints for err, in French.
func wordedUsage(err error) string {
	b := i18n.New()
	return usageText(b.Localizer(i18n.French), err)
}

// anyRemote reports whether a license of the list is managed remotely, as
// its code ("remote"), not in words.
func anyRemote(list []map[string]any) bool {
	for _, l := range list {
		if l["management_mode"] == "remote" {
			return true
		}
	}
	return false
}
