package cli

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/text/language"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/flagtext"
	"github.com/entitle/entitle/agent/localapi"
	"github.com/entitle/entitle/agent/terminal"
	"github.com/entitle/entitle/internal/clihelp"
	"github.com/entitle/entitle/pkg/i18n"
)

// detectLanguage picks the language of the messages before the commands are
// built (their help is localized too): --lang, then ENTITLE_LANG, then the
// configuration's language (file, registry, environment, flags, as the
// agent reads them), then the system's locale.
func detectLanguage(args []string, env Env) language.Tag {
	return flagtext.Language(env.Catalog, args, env.LookupEnv).Tag()
}

// localizeFlags replaces the usage of the configuration flags by the
// catalog's.
func localizeFlags(loc *i18n.Localizer, fs *pflag.FlagSet) { flagtext.LocalizeConfigFlags(loc, fs) }

// localizeHelp translates cobra's help (internal/clihelp, shared with
// entitle-server).
func localizeHelp(loc *i18n.Localizer, root *cobra.Command) { clihelp.Localize(loc, root) }

// configError says what is wrong with the configuration in the reader's
// language when it can (the file's syntax), else in the configuration's
// own words.
func configError(loc *i18n.Localizer, err error) error {
	var fe *config.FileError
	if errors.As(err, &fe) {
		switch {
		case len(fe.UnknownKeys) > 0:
			return errors.New(loc.T("cli_config_unknown_key", i18n.Args{"file": fe.Path, "keys": quoteList(fe.UnknownKeys)}))
		case fe.Key != "":
			return errors.New(loc.T("cli_config_syntax_key", i18n.Args{"file": fe.Path, "line": fe.Line, "key": fe.Key}))
		default:
			return errors.New(loc.T("cli_config_syntax", i18n.Args{"file": fe.Path, "line": fe.Line}))
		}
	}
	return errors.New(loc.T("cli_config_error", i18n.Args{"error": err}))
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// errNotTerminal is a question or a password that needs a terminal when
// stdin is not one: a usage error (exit 2) everywhere, fixed by a flag.
var errNotTerminal = terminal.ErrNotTerminal

// terminalSecret reads a password from the terminal of env.Stdin without
// echo (agent/terminal), writing the prompt to stderr.
func terminalSecret(env Env) func(prompt string) (string, error) {
	return func(prompt string) (string, error) {
		f, ok := env.Stdin.(*os.File)
		if !ok || env.IsTerminal == nil || !env.IsTerminal(f) {
			return "", errNotTerminal
		}
		return terminal.ReadSecret(f, env.Stderr, prompt, localapi.MaxPasswordLen)
	}
}

// usageError words cobra's and pflag's argument errors for the reader
// (internal/clihelp); other errors pass through unchanged.
func usageError(loc *i18n.Localizer, err error) error { return clihelp.UsageError(loc, err) }
