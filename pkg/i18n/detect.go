package i18n

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// EnvLang is the environment variable that overrides the detected language
// for the CLI and the tray (like --lang and the language setting of
// agent.toml).
const EnvLang = "ENTITLE_LANG"

// POSIXLocale returns the language of the POSIX locale variables, in the
// order the C library reads them for messages: LC_ALL, then LC_MESSAGES,
// then LANG; the first that is set and not empty wins. "C" and "POSIX" (and
// their variants such as C.UTF-8) mean English. The value
// language[_territory][.codeset][@modifier] is turned into a BCP 47 tag
// ("fr_FR.UTF-8" gives "fr-FR"). ok is false when none is set or the value
// does not parse.
func POSIXLocale(lookupEnv func(string) (string, bool)) (tag string, ok bool) {
	if lookupEnv == nil {
		return "", false
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v, set := lookupEnv(name)
		if !set || v == "" {
			continue
		}
		return posixToBCP47(v)
	}
	return "", false
}

func posixToBCP47(v string) (string, bool) {
	if i := strings.IndexAny(v, ".@"); i >= 0 {
		v = v[:i]
	}
	if v == "C" || v == "POSIX" || v == "" {
		return English.String(), true
	}
	v = strings.ReplaceAll(v, "_", "-")
	if _, err := language.Parse(v); err != nil {
		return "", false
	}
	return v, true
}

// Preferences gathers, strongest first, the language choices of a desktop
// program (CLI, tray): the explicit choice (a --lang flag, then
// $ENTITLE_LANG, then the configuration's language), then the system's:
// the POSIX variables, else on Windows the user's preferred UI languages and
// on macOS the preferred languages of System Settings (AppleLanguages).
// Pass the result to Bundle.Match.
func Preferences(flag, configured string, lookupEnv func(string) (string, bool)) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	add(flag)
	if lookupEnv != nil {
		if v, ok := lookupEnv(EnvLang); ok {
			add(v)
		}
	}
	add(configured)
	if len(out) > 0 {
		return out[:1] // an explicit choice is not blended with the system's
	}
	if t, ok := POSIXLocale(lookupEnv); ok {
		return []string{t}
	}
	return systemLanguages()
}

// CookieName is the cookie that remembers the language a person chose on a
// page.
const CookieName = "entitle_lang"

// FromRequest returns the language of an HTTP request for pages: the
// remembered choice (CookieName) when it names a supported language, then
// the Accept-Language header, then English.
func (b *Bundle) FromRequest(r *http.Request) language.Tag {
	if c, err := r.Cookie(CookieName); err == nil {
		if t, ok := b.supported(c.Value); ok {
			return t
		}
	}
	return b.Match(r.Header.Get("Accept-Language"))
}

// supported reports whether v names exactly one of the catalog's languages.
func (b *Bundle) supported(v string) (language.Tag, bool) {
	for _, t := range Languages() {
		if v == t.String() {
			return t, true
		}
	}
	return language.Und, false
}

// RememberChoice sets the cookie that makes FromRequest answer tag from now
// on (a year, the whole site, not readable by scripts). secure should be true
// when the page is served over HTTPS.
func RememberChoice(w http.ResponseWriter, tag language.Tag, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: tag.String(), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
}
