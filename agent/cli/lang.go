package cli

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/text/language"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/flagtext"
	"github.com/entitle/entitle/agent/localapi"
	"github.com/entitle/entitle/agent/terminal"
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

// helpHeadings are the English headings of cobra's usage template and the
// catalog messages that replace them.
var helpHeadings = []struct{ en, id string }{
	{"Usage:", "cli_help_usage"}, {"Aliases:", "cli_help_aliases"}, {"Examples:", "cli_help_examples"},
	{"Available Commands:", "cli_help_commands"}, {"Global Flags:", "cli_help_global_flags"}, {"Flags:", "cli_help_flags"}, // i18n:ignore: cobra's English, replaced by the catalog's
	{"Additional help topics:", "cli_help_topics"}, {"Additional Commands:", "cli_help_more_commands"}, // i18n:ignore: cobra's English, replaced by the catalog's
}

// localizeHelp translates cobra's help: the headings of its usage template,
// its closing line and the --help flag of every command.
func localizeHelp(loc *i18n.Localizer, root *cobra.Command) {
	tmpl := root.UsageTemplate()
	for _, h := range helpHeadings {
		tmpl = strings.ReplaceAll(tmpl, h.en, loc.T(h.id, nil))
	}
	const more = `Use "{{.CommandPath}} [command] --help" for more information about a command.` // i18n:ignore: cobra's English, replaced by the catalog's
	tmpl = strings.ReplaceAll(tmpl, more, loc.T("cli_help_more", i18n.Args{"command": "{{.CommandPath}}"}))
	tmpl = strings.ReplaceAll(tmpl, "{{.CommandPath}} [command]", "{{.CommandPath}} "+loc.T("cli_help_command_arg", nil))
	// cobra writes " [flags]" into UseLine itself: drop it there and write
	// it here in the reader's words.
	tmpl = strings.ReplaceAll(tmpl, "{{.UseLine}}", "{{.UseLine}}{{if .HasAvailableFlags}} "+loc.T("cli_help_flags_arg", nil)+"{{end}}")
	root.SetUsageTemplate(tmpl)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Short = loc.T("cli_help_command_short", nil)
		case "completion":
			c.Short = loc.T("cli_completion_short", nil)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		c.InitDefaultHelpFlag()
		if f := c.Flags().Lookup("help"); f != nil {
			f.Usage = loc.T("cli_help_flag", nil)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

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

// unknownCommand matches cobra's error for a command it does not know (it
// has no error type for it).
var unknownCommand = regexp.MustCompile(`^unknown command "([^"]*)" for "([^"]*)"`) // i18n:ignore: cobra's English error, matched to be reworded

// usageError words cobra's and pflag's argument errors for the reader, by
// their types (pflag) or their one fixed form (cobra); other errors pass
// through unchanged.
func usageError(loc *i18n.Localizer, err error) error {
	if m := unknownCommand.FindStringSubmatch(err.Error()); m != nil {
		return errors.New(loc.T("cli_unknown_command", i18n.Args{"command": m[1], "parent": m[2]}))
	}
	return flagtext.Error(loc, err)
}
