// Package clihelp words what cobra and pflag write in English (help
// headings, the --help flag, parse errors) in the language of a pkg/i18n
// Localizer. The agent's CLI, the tray's flags and entitle-server share it.
package clihelp

import (
	"errors"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/pkg/i18n"
)

// helpHeadings are the English headings of cobra's usage template and the
// catalog messages that replace them.
var helpHeadings = []struct{ en, id string }{
	{"Usage:", "cli_help_usage"}, {"Aliases:", "cli_help_aliases"}, {"Examples:", "cli_help_examples"},
	{"Available Commands:", "cli_help_commands"}, {"Global Flags:", "cli_help_global_flags"}, {"Flags:", "cli_help_flags"}, // i18n:ignore: cobra's English, replaced by the catalog's
	{"Additional help topics:", "cli_help_topics"}, {"Additional Commands:", "cli_help_more_commands"}, // i18n:ignore: cobra's English, replaced by the catalog's
}

// Localize translates cobra's help: the headings of its usage template,
// its closing line and the --help flag of every command.
func Localize(loc *i18n.Localizer, root *cobra.Command) {
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
	if root.Version != "" {
		root.InitDefaultVersionFlag()
		if f := root.Flags().Lookup("version"); f != nil {
			f.Usage = loc.T("cli_version_flag", i18n.Args{"name": root.Name()})
		}
	}
	seen := map[*pflag.Flag]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		c.InitDefaultHelpFlag()
		if f := c.Flags().Lookup("help"); f != nil {
			f.Usage = loc.T("cli_help_flag", nil)
		}
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if !seen[f] {
					seen[f] = true
					localizeDefault(loc, f)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// zeroDefaults are the default values pflag does not print, by flag type.
var zeroDefaults = map[string]string{
	"bool": "false", "duration": "0s", "int": "0", "int64": "0", "uint": "0", "float64": "0", "count": "0",
	"stringSlice": "[]", "stringArray": "[]", "intSlice": "[]",
}

// localizeDefault moves a flag's default value from pflag's English
// " (default X)" into its usage, in the reader's words, and leaves pflag a
// zero default, which it does not print.
func localizeDefault(loc *i18n.Localizer, f *pflag.Flag) {
	typ := f.Value.Type()
	zero, known := zeroDefaults[typ]
	switch {
	case typ == "string" && f.DefValue != "":
		f.Usage += " " + loc.T("cli_help_default_text", i18n.Args{"value": f.DefValue})
		f.DefValue = ""
	case known && f.DefValue != zero && f.DefValue != "" && !(typ == "duration" && f.DefValue == "0"):
		f.Usage += " " + loc.T("cli_help_default", i18n.Args{"value": f.DefValue})
		f.DefValue = zero
	}
}

// FlagError words pflag's parse errors by their types; other errors are returned
// unchanged.
func FlagError(loc *i18n.Localizer, err error) error {
	var ne *pflag.NotExistError
	var vr *pflag.ValueRequiredError
	var iv *pflag.InvalidValueError
	var is *pflag.InvalidSyntaxError
	switch {
	case errors.As(err, &ne):
		flag := "--" + ne.GetSpecifiedName()
		if sh := ne.GetSpecifiedShortnames(); sh != "" {
			flag = "-" + ne.GetSpecifiedName() // the unknown letter, not the whole group
			if len(ne.GetSpecifiedName()) != 1 {
				flag = "-" + sh
			}
		}
		return errors.New(loc.T("cli_unknown_flag", i18n.Args{"flag": flag}))
	case errors.As(err, &vr) && vr.GetFlag() != nil:
		return errors.New(loc.T("cli_flag_needs_value", i18n.Args{"flag": "--" + vr.GetFlag().Name}))
	case errors.As(err, &iv) && iv.GetFlag() != nil:
		return errors.New(loc.T("cli_flag_bad_value", i18n.Args{"flag": "--" + iv.GetFlag().Name, "value": iv.GetValue()}))
	case errors.As(err, &is):
		return errors.New(loc.T("cli_flag_bad_syntax", i18n.Args{"flag": is.GetSpecifiedFlag()}))
	}
	return err
}

// unknownCommand matches cobra's error for a command it does not know (it
// has no error type for it).
var unknownCommand = regexp.MustCompile(`^unknown command "([^"]*)" for "([^"]*)"`) // i18n:ignore: cobra's English error, matched to be reworded

// requiredFlags matches cobra's error for required flags left out.
var requiredFlags = regexp.MustCompile(`^required flag\(s\) (.*) not set$`) // i18n:ignore: cobra's English error, matched to be reworded

// UsageError words cobra's and pflag's argument errors for the reader, by
// their types (pflag) or their one fixed form (cobra); other errors pass
// through unchanged.
func UsageError(loc *i18n.Localizer, err error) error {
	if m := unknownCommand.FindStringSubmatch(err.Error()); m != nil {
		return errors.New(loc.T("cli_unknown_command", i18n.Args{"command": m[1], "parent": m[2]}))
	}
	if m := requiredFlags.FindStringSubmatch(err.Error()); m != nil {
		names := strings.Split(strings.ReplaceAll(m[1], `"`, ""), ", ")
		for i, n := range names {
			names[i] = "--" + n
		}
		return errors.New(loc.T("cli_required_flags", i18n.Args{"flags": strings.Join(names, ", ")}))
	}
	return FlagError(loc, err)
}
