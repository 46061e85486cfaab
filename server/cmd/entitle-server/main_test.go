package main

import (
	"bytes"
	"github.com/entitle/entitle/pkg/i18n"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/server/internal/ratelimit"
	"github.com/spf13/cobra"
)

// TestConfigPrecedence checks flag > environment > TOML file > default.
func TestConfigPrecedence(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(conf, []byte("listen = \"127.0.0.1:1111\"\ncheckin-interval = \"2h\"\ntrusted-proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\noffline-grace = \"48h\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		args, env     []string
		wantListen    string
		wantCheckin   time.Duration
		wantProxies   string
		wantGrace     time.Duration
		wantErrSubstr string
	}{
		{"file only", []string{"--config", conf}, nil, "127.0.0.1:1111", 2 * time.Hour, "10.0.0.0/8,192.0.2.1", 48 * time.Hour, ""},
		{"env beats file", []string{"--config", conf}, []string{"ENTITLE_SERVER_LISTEN=127.0.0.1:2222", "ENTITLE_SERVER_TRUSTED_PROXIES=10.1.1.1"}, "127.0.0.1:2222", 2 * time.Hour, "10.1.1.1", 48 * time.Hour, ""},
		{"flag beats env", []string{"--config", conf, "--listen", "127.0.0.1:3333"}, []string{"ENTITLE_SERVER_LISTEN=127.0.0.1:2222"}, "127.0.0.1:3333", 2 * time.Hour, "10.0.0.0/8,192.0.2.1", 48 * time.Hour, ""},
		{"config file from env", nil, []string{"ENTITLE_SERVER_CONFIG=" + conf}, "127.0.0.1:1111", 2 * time.Hour, "10.0.0.0/8,192.0.2.1", 48 * time.Hour, ""},
		{"defaults", nil, nil, "127.0.0.1:8780", 6 * time.Hour, "", 7 * 24 * time.Hour, ""},
		{"bad env value", nil, []string{"ENTITLE_SERVER_CHECKIN_INTERVAL=soon"}, "", 0, "", 0, "ENTITLE_SERVER_CHECKIN_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, envPrefix) {
					t.Setenv(k, "") // restores the value afterwards
					os.Unsetenv(k)
				}
			}
			for _, kv := range tt.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			root := newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
			serve, _, err := root.Find([]string{"serve"})
			if err != nil {
				t.Fatal(err)
			}
			var got serveOpts
			var checkin, grace time.Duration
			// Replace serve's action: the root's pre-run applies the
			// configuration, then this captures the result.
			serve.RunE = func(cmd *cobra.Command, _ []string) error {
				got.listen, _ = cmd.Flags().GetString("listen")
				got.trustedProxies, _ = cmd.Flags().GetStringSlice("trusted-proxies")
				checkin, _ = cmd.Flags().GetDuration("checkin-interval")
				grace, _ = cmd.Flags().GetDuration("offline-grace")
				return nil
			}
			root.SetArgs(append([]string{"serve"}, tt.args...))
			err = root.Execute()
			if tt.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.listen != tt.wantListen || strings.Join(got.trustedProxies, ",") != tt.wantProxies ||
				checkin != tt.wantCheckin || grace != tt.wantGrace {
				t.Fatalf("listen %q proxies %v checkin %s grace %s", got.listen, got.trustedProxies, checkin, grace)
			}
		})
	}
}

func TestUnknownConfigKeyIsAnError(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(conf, []byte("lisen = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root := newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	root.SetArgs([]string{"serve", "--config", conf})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), `unknown setting "lisen"`) {
		t.Fatalf("error %v", err)
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want ratelimit.Limit
		ok   bool
	}{
		{"", ratelimit.Limit{}, true},
		{"off", ratelimit.Limit{Off: true}, true},
		{"30/5", ratelimit.Limit{PerMinute: 30, Burst: 5}, true},
		{"0.5/1", ratelimit.Limit{PerMinute: 0.5, Burst: 1}, true},
		{"30", ratelimit.Limit{}, false},
		{"-1/5", ratelimit.Limit{}, false},
		{"5/0", ratelimit.Limit{}, false},
		{"a/b", ratelimit.Limit{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLimit(english, "limit", tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseLimit(%q) = %+v, %v", tt.in, got, err)
			}
		})
	}
}

func TestLicenseSpec(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		o        licenseOpts
		wantEnd  time.Time
		wantErr  bool
		wantFrom time.Time
	}{
		{"days", licenseOpts{seats: 1, days: 30}, now.AddDate(0, 0, 30), false, now},
		{"date is the last valid day", licenseOpts{seats: 1, termEnd: "2026-12-31"}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false, now},
		{"rfc3339", licenseOpts{seats: 1, termEnd: "2026-06-01T10:00:00Z"}, time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), false, now},
		{"no end", licenseOpts{seats: 1}, time.Time{}, false, now},
		{"term start", licenseOpts{seats: 1, termStart: "2019-01-01", termEnd: "2019-12-31"}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), false, time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"bad date", licenseOpts{seats: 1, termEnd: "31/12/2026"}, time.Time{}, true, now},
		{"zero seats", licenseOpts{seats: 0}, time.Time{}, true, now},
		{"negative profiles", licenseOpts{seats: 1, maxProfiles: -1}, time.Time{}, true, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := tt.o.spec(english, now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if err == nil && (!spec.TermEnd.Equal(tt.wantEnd) || !spec.TermStart.Equal(tt.wantFrom)) {
				t.Fatalf("term %s..%s, want %s..%s", spec.TermStart, spec.TermEnd, tt.wantFrom, tt.wantEnd)
			}
		})
	}
}

func TestReadSecret(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"hunter22hunter\n", "hunter22hunter", true},
		{"no newline at end", "no newline at end", true},
		{"crlf line\r\nsecond", "crlf line", true},
		{"", "", false},
		{strings.Repeat("x", maxPassword+1) + "\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, err := readSecret(english, strings.NewReader(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("readSecret = %q, %v", got, err)
			}
		})
	}
}

// TestSharedConfigFileServesAdminCommands: the packaged server.toml holds
// serve settings (listen, public-url); admin commands reading the same file
// must accept them rather than refuse the file.
func TestSharedConfigFileServesAdminCommands(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "server.toml")
	body := "db = \"sqlite:" + filepath.Join(dir, "s.db") + "\"\nlisten = \"127.0.0.1:0\"\npublic-url = \"https://licensing.example\"\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate"}, {"license", "list"}, {"keys", "show"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			root := newRoot(strings.NewReader(""), &out, &errb)
			root.SetArgs(append(args, "--config", conf))
			if err := root.Execute(); err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
		})
	}
}

// english is the localizer of the tests that check English words.
var english = i18n.New().Localizer(i18n.English)

// TestMain runs the tests in English whatever the machine's locale (a test
// that wants French sets ENTITLE_LANG itself).
func TestMain(m *testing.M) {
	if err := os.Setenv(i18n.EnvLang, "en"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
