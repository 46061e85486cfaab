// Package i18n is Entitle's one catalog of the words people read, in English
// and French, and the locale rules that go with them.
//
// Messages are data: pkg/i18n/locales/<lang>/<area>.toml, one file per area
// (common, cli, agent, problems, profiles, tray, servercli, org, journal, web,
// mail), embedded in the binary. Each message has an id, a text written as a
// Go template whose
// placeholders are named ({{.feature}}), and for counted messages the CLDR
// plural forms of its language ("one" and "other"; in French "one" covers 0
// and 1, in English only 1).
//
// Use:
//
//	b := i18n.New()                 // parse the catalog once per process
//	loc := b.Localizer(b.Match("fr-FR"))
//	loc.T("cli_deactivated", nil)   // "Poste désactivé."
//	loc.Plural("cli_profiles_count", 2, nil)
//	loc.Date(t)                     // "2 décembre 2026" / "December 2, 2026"
//	loc.Number(1234)                // "1 234" / "1,234"
//
// Codes cross process boundaries, text is made at the edge: a program sends a
// code and arguments (pkg/agentapi's reason codes), the edge that shows it to
// a person renders it with a Localizer. Nothing here is package-level mutable
// state: a Bundle is built by New and read-only afterwards, safe for
// concurrent use.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales
var locales embed.FS

// Supported languages, the first is the default (used when nothing matches).
var (
	English = language.English
	French  = language.French
)

// Languages returns the languages of the catalog, default first.
func Languages() []language.Tag { return []language.Tag{English, French} }

// Bundle is the parsed catalog. It is immutable after New.
type Bundle struct {
	b       *goi18n.Bundle
	matcher language.Matcher
	// ids holds, per language, the message ids and their texts (every form
	// joined), for the catalog's own tests and for Has.
	ids map[language.Tag]map[string]string
}

// New parses the embedded catalog. It panics if the embedded files do not
// parse, which the package's tests rule out (the files are part of the
// binary, not input).
func New() *Bundle {
	b, err := Load(locales)
	if err != nil {
		panic(err)
	}
	return b
}

// Load parses a catalog laid out as locales/<lang>/<area>.toml in fsys.
func Load(fsys fs.FS) (*Bundle, error) {
	gb := goi18n.NewBundle(English)
	gb.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	out := &Bundle{b: gb, matcher: language.NewMatcher(Languages()), ids: map[language.Tag]map[string]string{}}
	for _, tag := range Languages() {
		dir := path.Join("locales", tag.String())
		files, err := fs.Glob(fsys, dir+"/*.toml")
		if err != nil {
			return nil, err
		}
		ids := map[string]string{}
		for _, f := range files {
			buf, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			msgs, err := gb.ParseMessageBytes(tag, buf, toml.Unmarshal)
			if err != nil {
				return nil, fmt.Errorf("catalog %s: %w", f, err)
			}
			for _, m := range msgs {
				if _, dup := ids[m.ID]; dup {
					return nil, fmt.Errorf("catalog %s: message %q defined twice for %s", f, m.ID, tag)
				}
				ids[m.ID] = strings.Join([]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other}, "\x00")
			}
		}
		out.ids[tag] = ids
	}
	return out, nil
}

// IDs returns the sorted message ids of one language.
func (b *Bundle) IDs(tag language.Tag) []string {
	ids := make([]string, 0, len(b.ids[tag]))
	for id := range b.ids[tag] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Text returns the raw template text of a message in one language (every
// plural form, NUL-separated), and whether it exists.
func (b *Bundle) Text(tag language.Tag, id string) (string, bool) {
	s, ok := b.ids[tag][id]
	return s, ok
}

// Match returns the supported language that best fits the preferences given,
// each a BCP 47 tag or an Accept-Language value ("fr-CH, fr;q=0.9, en;q=0.8").
// Unparsable values are skipped; no match gives English.
func (b *Bundle) Match(prefs ...string) language.Tag {
	var tags []language.Tag
	for _, p := range prefs {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if len(p) > maxPref {
			p = p[:maxPref]
		}
		ts, _, err := language.ParseAcceptLanguage(p)
		if err != nil {
			continue
		}
		tags = append(tags, ts...)
	}
	if len(tags) == 0 {
		return English
	}
	_, i, conf := b.matcher.Match(tags...)
	if conf == language.No {
		return English
	}
	return Languages()[i]
}

// maxPref bounds one preference string (an Accept-Language header is outside
// input).
const maxPref = 512

// Localizer renders messages, numbers and dates in one language.
type Localizer struct {
	b   *Bundle
	tag language.Tag
	l   *goi18n.Localizer
}

// Localizer returns the localizer for tag (any tag: it is matched to a
// supported language first).
func (b *Bundle) Localizer(tag language.Tag) *Localizer {
	t := b.Match(tag.String())
	return &Localizer{b: b, tag: t, l: goi18n.NewLocalizer(b.b, t.String())}
}

// Tag is the localizer's language (one of Languages).
func (l *Localizer) Tag() language.Tag { return l.tag }

// Args are a message's named placeholders.
type Args map[string]any

// T renders message id with args. A missing id renders as the id itself, so a
// mistake shows instead of a blank (the catalog tests keep it from happening).
func (l *Localizer) T(id string, args Args) string {
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: map[string]any(args)})
	if err != nil {
		return id
	}
	return s
}

// Plural renders counted message id for n with args; {{.count}} is n
// formatted for the locale.
func (l *Localizer) Plural(id string, n int, args Args) string {
	data := map[string]any{}
	for k, v := range args {
		data[k] = v
	}
	data["count"] = l.Number(n)
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: n})
	if err != nil {
		return id
	}
	return s
}
