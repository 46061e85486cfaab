package i18ntest

import "regexp"

// frenchRules are the typographic and vocabulary rules of the French
// catalog: the typographic apostrophe, « guillemets » (never ASCII double
// quotes), a no-break space (U+00A0 or U+202F) before : ; ? ! and inside « »,
// the ellipsis character, and the seeds' vocabulary (licence, poste,
// Workspace).
var frenchRules = []struct{ what, re string }{
	{"plain space before a double punctuation mark", ` [:;?!»]`},
	{"no space before ; ? ! or :", `[\pL\pN)»}][;?!]|[\pL)»][:](\s|$)`},
	{"plain space after «", `« `},
	{"no space after «", `«[^\x{00a0}\x{202f}]`},
	{"no space before »", `[^\x{00a0}\x{202f}]»`},
	{"straight apostrophe", `\pL'\pL`},
	{"ASCII double quote (write « »)", `"`},
	{"three dots (write …)", `\.\.\.`},
	{"English spelling (write licence)", `(?i)\blicenses?\b`},
	{"« ordinateur » (the seeds say poste)", `(?i)\bordinateurs?\b`},
	{"« espace de travail » (the seeds say Workspace)", `(?i)espaces? de travail`},
	{"« siège » (a license's seats are its postes)", `(?i)\bsièges?\b`},
	{"no elision (d’, qu’, n’, s’, j’, m’, t’ before a vowel)", `(?i)(^|[^\pL’-])(de|que|ne|se|je|me|te) [aeiouyéèêàâîôû]`},
}

// frenchCode is what the rules leave alone: template actions, URLs,
// host:port, flags, `commands` and command lines quoted for the reader.
var frenchCode = regexp.MustCompile("{{[^}]*}}|https?://\\S+|\\b\\w+:\\w+\\b|--[\\w-]+|`[^`]*`|\\b[a-z]+(_[a-z]+)+\\b")

// FrenchProblems returns the rules of French typography and vocabulary that
// text breaks (none: nil). Every French text people read is held to them:
// the catalog (pkg/i18n) and the scripts' own lines (scripts/demotest).
func FrenchProblems(text string) []string {
	text = frenchCode.ReplaceAllString(text, "x")
	var out []string
	for _, r := range frenchRules {
		if regexp.MustCompile(r.re).MatchString(text) {
			out = append(out, r.what)
		}
	}
	return out
}
