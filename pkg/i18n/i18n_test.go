package i18n

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestPlural(t *testing.T) {
	b := New()
	// CLDR: English "one" is 1 only; French "one" covers 0 and 1.
	for _, tc := range []struct {
		tag  language.Tag
		n    int
		want string
	}{
		{English, 0, "0 signature profiles"},
		{English, 1, "1 signature profile"},
		{English, 2, "2 signature profiles"},
		{English, 1234, "1,234 signature profiles"},
		{French, 0, "0 profil de signature"},
		{French, 1, "1 profil de signature"},
		{French, 2, "2 profils de signature"},
		{French, 1234, "1\u202f234 profils de signature"},
	} {
		if got := b.Localizer(tc.tag).Plural("detail_profiles", tc.n, nil); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.tag, tc.n, got, tc.want)
		}
	}
}

func TestFormats(t *testing.T) {
	b := New()
	en, fr := b.Localizer(English), b.Localizer(French)
	d := time.Date(2026, 12, 2, 15, 4, 0, 0, time.UTC)
	first := time.Date(2027, 3, 1, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{en.Date(d), "December 2, 2026"},
		{fr.Date(d), "2 décembre 2026"},
		{en.Date(first), "March 1, 2027"},
		{fr.Date(first), "1er mars 2027"},
		{en.DateTime(d), "December 2, 2026 at 3:04 PM"},
		{fr.DateTime(d), "2 décembre 2026 à 15:04"},
		{en.Number(1234), "1,234"},
		{fr.Number(1234), "1\u202f234"},
		{en.Number(-1234567), "-1,234,567"},
		{fr.Number(7), "7"},
		{en.ShortDate(d), "Dec 2"},
		{fr.ShortDate(d), "2 déc."},
		{fr.ShortDate(first), "1 mars"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	// Every month has a name in every language.
	for _, tag := range Languages() {
		for m := time.January; m <= time.December; m++ {
			if got := b.Localizer(tag).Date(time.Date(2026, m, 15, 0, 0, 0, 0, time.UTC)); got == "" || got[0] == 'm' && tag == English {
				t.Errorf("%s month %d: %q", tag, m, got)
			}
			if got := b.Localizer(tag).ShortDate(time.Date(2026, m, 15, 0, 0, 0, 0, time.UTC)); !strings.HasPrefix(got, "15 ") && !strings.HasSuffix(got, " 15") || strings.Contains(got, "month_") {
				t.Errorf("%s short month %d: %q", tag, m, got)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	b := New()
	for _, tc := range []struct {
		prefs []string
		want  language.Tag
	}{
		{nil, English},
		{[]string{""}, English},
		{[]string{"fr"}, French},
		{[]string{"fr-FR"}, French},
		{[]string{"fr-CA"}, French},
		{[]string{"fr-CH, fr;q=0.9, en;q=0.8"}, French},
		{[]string{"de-DE, fr;q=0.5"}, French},
		{[]string{"en-GB, fr;q=0.5"}, English},
		{[]string{"de"}, English},
		{[]string{"*"}, English},
		{[]string{"not a tag;;q=x"}, English},
		{[]string{"zz", "fr"}, French},
	} {
		if got := b.Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %s, want %s", tc.prefs, got, tc.want)
		}
	}
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPOSIXLocale(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
		ok   bool
	}{
		{map[string]string{}, "", false},
		{map[string]string{"LANG": "fr_FR.UTF-8"}, "fr-FR", true},
		{map[string]string{"LANG": "fr_FR.UTF-8@euro"}, "fr-FR", true},
		{map[string]string{"LANG": "fr_FR.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en-US", true},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_BE", "LC_ALL": "fr_CA.UTF-8"}, "fr-CA", true},
		{map[string]string{"LANG": "fr_FR.UTF-8", "LC_ALL": ""}, "fr-FR", true}, // empty is unset
		{map[string]string{"LANG": "fr_FR.UTF-8", "LC_ALL": "C"}, "en", true},
		{map[string]string{"LANG": "POSIX"}, "en", true},
		{map[string]string{"LANG": "C.UTF-8"}, "en", true},
		{map[string]string{"LANG": "%%%"}, "", false},
	} {
		got, ok := POSIXLocale(env(tc.env))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%v: %q %v, want %q %v", tc.env, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPreferences(t *testing.T) {
	b := New()
	fr := map[string]string{"LANG": "fr_FR.UTF-8"}
	for _, tc := range []struct {
		flag, configured string
		env              map[string]string
		want             language.Tag
	}{
		{"", "", fr, French},
		{"en", "", fr, English}, // --lang wins
		{"", "en", fr, English}, // the configuration wins over the system
		{"", "en", map[string]string{"ENTITLE_LANG": "fr"}, French}, // ENTITLE_LANG wins over the configuration
		{"fr", "", map[string]string{"ENTITLE_LANG": "en"}, French}, // the flag wins over ENTITLE_LANG
		{"", "", map[string]string{"LANG": "C"}, English},
	} {
		if got := b.Match(Preferences(tc.flag, tc.configured, env(tc.env))...); got != tc.want {
			t.Errorf("flag %q config %q env %v: %s, want %s", tc.flag, tc.configured, tc.env, got, tc.want)
		}
	}
}

func TestFromRequestAndRememberChoice(t *testing.T) {
	b := New()
	req := func(accept string, cookie *http.Cookie) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		if accept != "" {
			r.Header.Set("Accept-Language", accept)
		}
		if cookie != nil {
			r.AddCookie(cookie)
		}
		return r
	}
	if got := b.FromRequest(req("", nil)); got != English {
		t.Errorf("no header: %s", got)
	}
	if got := b.FromRequest(req("fr-FR,fr;q=0.9", nil)); got != French {
		t.Errorf("Accept-Language fr: %s", got)
	}
	// The choice a person made wins over the browser's header.
	w := httptest.NewRecorder()
	RememberChoice(w, English, true)
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != CookieName || !cookies[0].HttpOnly || !cookies[0].Secure {
		t.Fatalf("cookie %+v", cookies)
	}
	if got := b.FromRequest(req("fr-FR", cookies[0])); got != English {
		t.Errorf("remembered English: %s", got)
	}
	// A cookie naming no supported language is ignored.
	if got := b.FromRequest(req("fr", &http.Cookie{Name: CookieName, Value: "klingon"})); got != French {
		t.Errorf("bad cookie: %s", got)
	}
}

func TestLanguages(t *testing.T) {
	if got := Languages(); !slices.Equal(got, []language.Tag{English, French}) {
		t.Fatal(got)
	}
	// A localizer for a regional tag is the supported language.
	if got := New().Localizer(language.MustParse("fr-BE")).Tag(); got != French {
		t.Fatal(got)
	}
}

func TestParseAppleLanguages(t *testing.T) {
	got := parseAppleLanguages("(\n    \"fr-FR\",\n    \"en-FR\"\n)\n")
	if !slices.Equal(got, []string{"fr-FR", "en-FR"}) {
		t.Fatalf("%q", got)
	}
	if b := New(); b.Match(got...) != French {
		t.Fatal("fr-FR first should match French")
	}
	if got := parseAppleLanguages(""); len(got) != 0 {
		t.Fatalf("%q", got)
	}
}

// BenchmarkNew is the cost of parsing the catalog, paid once per process.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New()
	}
}

// BenchmarkT is one rendered message with arguments.
func BenchmarkT(b *testing.B) {
	loc := New().Localizer(French)
	for b.Loop() {
		loc.T("cli_deactivated", Args{"status": "x"})
	}
}
