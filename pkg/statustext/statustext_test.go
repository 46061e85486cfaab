package statustext

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/text/language"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

// TestEveryReasonCodeHasText: each code the agent can send renders in both
// languages, with its arguments filled and times as dates.
func TestEveryReasonCodeHasText(t *testing.T) {
	b := i18n.New()
	args := agentapi.ReasonArgs{
		"plan": "pro", "feature": "sign", "term_end": "2027-03-01T12:00:00Z", "lease_expiry": "2027-03-01T12:00:00Z",
		"offline_since": "2026-12-02T15:04:00Z", "grace_until": "2027-03-01T12:00:00Z", "not_before": "2026-12-02T15:04:00Z",
		"now": "2026-12-02T15:04:00Z", "trusted_time": "2026-12-02T15:04:00Z", "issued_at": "2026-12-02T15:04:00Z",
		"user_code": "ABCD-EFGH", "verification_uri": "https://example.test/device", "detail": "why",
		"missing": "pinned_keys", "set_back": "1h5m0s", "allowed": "1h0m0s",
	}
	for _, tag := range i18n.Languages() {
		loc := b.Localizer(tag)
		for _, code := range agentapi.ReasonCodes() {
			got := Reason(loc, code, args, time.UTC, "FALLBACK")
			if got == "" || got == "FALLBACK" || strings.HasPrefix(got, "reason_") || strings.Contains(got, "<no value>") || strings.Contains(got, "T12:00:00Z") {
				t.Errorf("%s %s: %q", tag, code, got)
			}
		}
	}
	if got := Reason(b.Localizer(i18n.French), agentapi.ReasonLicensed, args, time.UTC, ""); got != "formule Pro, licence valable jusqu’au 1er mars 2027" {
		t.Errorf("French licensed: %q", got)
	}
	if got := Reason(b.Localizer(i18n.English), agentapi.ReasonFeatureNotInPlan, args, time.UTC, ""); got != "the Pro plan does not include the feature “sign”" {
		t.Errorf("English feature: %q", got)
	}
	if got := Reason(b.Localizer(i18n.English), "from_the_future", nil, time.UTC, "agent text"); got != "agent text" {
		t.Errorf("unknown code: %q", got)
	}
}

// TestEveryStateHasTitle: one name per state, different in each language.
func TestEveryStateHasTitle(t *testing.T) {
	b := i18n.New()
	en, fr := b.Localizer(i18n.English), b.Localizer(i18n.French)
	seen := map[string]bool{}
	for s := range titleIDs {
		e, f := Title(en, s), Title(fr, s)
		if e == string(s) || f == string(s) || e == f || seen[e] {
			t.Errorf("state %s: %q / %q", s, e, f)
		}
		seen[e] = true
	}
	if Title(en, agentapi.StateTampered) != "License check failed" {
		t.Errorf("tampered: %q", Title(en, agentapi.StateTampered))
	}
}

func TestDetails(t *testing.T) {
	b := i18n.New()
	at := time.Date(2026, 12, 2, 15, 4, 0, 0, time.UTC)
	st := &agentapi.Status{
		Account: "ann@example.com", Organization: "Acme", OfflineSince: &at, GraceUntil: &at, LastCheckin: &at,
		Profiles:  &agentapi.ProfilesStatus{Count: 2, Default: "Signature", Expiring: 1, Invalid: 0},
		LastError: "boom", HelpURL: "https://help.example.test",
	}
	got := strings.Join(Details(b.Localizer(i18n.French), st, time.UTC), "\n")
	want := strings.Join([]string{
		"Compte\u00a0: ann@example.com (Acme)",
		"Hors ligne depuis le 2 décembre 2026 à 15:04, délai de grâce jusqu’au 2 décembre 2026 à 15:04",
		"Dernière synchronisation\u00a0: 2 décembre 2026 à 15:04",
		"2 profils de signature (par défaut\u00a0: «\u00a0Signature\u00a0»), 1 bientôt expiré",
		"Dernière erreur\u00a0: boom",
		"Aide\u00a0: https://help.example.test",
	}, "\n")
	if got != want {
		t.Errorf("French details:\n%s\nwant:\n%s", got, want)
	}
	got = strings.Join(Details(b.Localizer(i18n.English), st, time.UTC), "\n")
	if !strings.Contains(got, "2 signature profiles (default “Signature”), 1 expiring") || !strings.Contains(got, "Last check-in: December 2, 2026 at 3:04 PM") {
		t.Errorf("English details:\n%s", got)
	}
}

// TestReasonCodesDocumented keeps docs/reason-codes.md's table equal to the
// codes the agent sends.
func TestReasonCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/reason-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	b := i18n.New()
	ph := regexp.MustCompile(`{{\.(\w+)}}`)
	var rows []string
	reasons, problems, _ := strings.Cut(string(doc), "## Problem codes")
	for _, line := range strings.Split(reasons, "\n") {
		if strings.HasPrefix(line, "| `") {
			code, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			if code == "reason_code" {
				continue
			}
			rows = append(rows, code)
			// The English and French columns are the catalog's texts.
			for _, tag := range i18n.Languages() {
				text, _ := b.Text(tag, reasonIDs[code])
				text = ph.ReplaceAllString(strings.Trim(text, "\x00"), "*$1*")
				if !strings.Contains(line, "| "+text+" |") {
					t.Errorf("docs/reason-codes.md row of %s lacks the %s text %q", code, tag, text)
				}
			}
		}
	}
	want := agentapi.ReasonCodes()
	slices.Sort(rows)
	slices.Sort(want)
	if !slices.Equal(rows, want) {
		t.Fatalf("docs/reason-codes.md lists %v\nagentapi.ReasonCodes   %v", rows, want)
	}
	// The problem codes' table lists each once.
	var listed []string
	code := regexp.MustCompile("`([a-z_]+)`")
	for _, line := range strings.Split(problems, "\n") {
		if first, _, ok := strings.Cut(strings.TrimPrefix(line, "| "), " |"); ok && strings.HasPrefix(line, "| `") {
			for _, m := range code.FindAllStringSubmatch(first, -1) {
				listed = append(listed, m[1])
			}
		}
	}
	want = agentapi.ProblemCodes()
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Fatalf("docs/reason-codes.md lists the problem codes %v\nagentapi.ProblemCodes %v", listed, want)
	}
}

// TestContributingExample: the TOML example of CONTRIBUTING.md parses as
// a catalog file with the plural forms it shows.
func TestContributingExample(t *testing.T) {
	doc, err := os.ReadFile("../../CONTRIBUTING.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```toml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no toml example")
	}
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	fsys := fstest.MapFS{
		"locales/en/x.toml": {Data: []byte(strings.Join(lines, "\n"))},
		"locales/fr/x.toml": {Data: []byte(strings.Join(lines, "\n"))},
	}
	b, err := i18n.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	loc := b.Localizer(i18n.English)
	if got := loc.Plural("cli_profiles_removed", 1, nil); got != "1 profile removed" {
		t.Fatalf("one: %q", got)
	}
	if got := loc.Plural("cli_profiles_removed", 2, nil); got != "2 profiles removed" {
		t.Fatalf("other: %q", got)
	}
}

// TestOfflineHeadline names the license's term, and the offline grace apart
// (issue 13 item 13 found the two confused).
func TestOfflineHeadline(t *testing.T) {
	b := i18n.New()
	term := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	grace := time.Date(2026, 12, 9, 15, 4, 0, 0, time.UTC)
	e := agentapi.Entitlement{Entitled: true, State: agentapi.StateOffline, Plan: "pro", TermEnd: &term, LeaseExpiry: &grace,
		ReasonCode: agentapi.ReasonOfflineGrace, ReasonArgs: agentapi.ReasonArgs{"offline_since": "2026-12-02T10:00:00Z", "grace_until": "2026-12-09T15:04:00Z"}}
	for _, tc := range []struct {
		tag  language.Tag
		want string
	}{
		{i18n.English, "Offline — Pro plan, licensed until March 1, 2027; works offline until December 9, 2026 at 3:04 PM"},
		{i18n.French, "Hors ligne — formule Pro, licence valable jusqu’au 1er mars 2027\u202f; fonctionne hors ligne jusqu’au 9 décembre 2026 à 15:04"},
	} {
		if got := Headline(b.Localizer(tc.tag), e, time.UTC); got != tc.want {
			t.Errorf("%s: %q\nwant %q", tc.tag, got, tc.want)
		}
	}
}
