package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/pkg/i18n"
)

// takesIDs makes cmd take exactly n ids as positional arguments, whatever
// they look like. Ids the system makes are base64url (signing-key ids are key
// thumbprints), so about one in 64 begins with '-', which the flag parser
// would read as a flag. For such a command, a word beginning with a single '-'
// is an id (the commands have no shorthand flags but -h); words beginning
// with "--" are flags, and everything after "--" is an id. So
// `keys activate -AbC`, `keys activate -- -AbC` and `keys activate --db X -AbC`
// all work. run receives the ids.
func (a *app) takesIDs(cmd *cobra.Command, n int, run func(cmd *cobra.Command, ids []string) error) {
	var ids []string
	cmd.DisableFlagParsing = true
	cmd.Args = cobra.ArbitraryArgs
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		flags, pos, help, err := splitIDArgs(a.loc, cmd, args)
		if err != nil {
			return err
		}
		if help {
			return pflag.ErrHelp
		}
		// Parse the flags as cobra would have (inherited ones included).
		cmd.DisableFlagParsing = false
		err = cmd.ParseFlags(flags)
		cmd.DisableFlagParsing = true
		if err != nil {
			return err
		}
		if len(pos) != n {
			return errors.New(a.loc.T("srv_err_ids", i18n.Args{"command": cmd.CommandPath(), "want": n, "got": len(pos)}))
		}
		ids = pos
		return a.applyConfig(cmd)
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return run(cmd, ids) }
}

// splitIDArgs separates the flags (with their values) from the ids in args.
func splitIDArgs(loc *i18n.Localizer, cmd *cobra.Command, args []string) (flags, ids []string, help bool, err error) {
	all := cmd.Flags()
	inherited := cmd.InheritedFlags()
	lookup := func(name string) *pflag.Flag {
		if f := all.Lookup(name); f != nil {
			return f
		}
		return inherited.Lookup(name)
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			ids = append(ids, args[i+1:]...)
			return flags, ids, help, nil
		case arg == "-h" || arg == "--help":
			help = true
		case strings.HasPrefix(arg, "--"):
			name, _, hasValue := strings.Cut(arg[2:], "=")
			f := lookup(name)
			if f == nil {
				return nil, nil, false, errors.New(loc.T("cli_unknown_flag", i18n.Args{"flag": "--" + name}))
			}
			flags = append(flags, arg)
			if !hasValue && f.NoOptDefVal == "" {
				if i+1 >= len(args) {
					return nil, nil, false, errors.New(loc.T("cli_flag_needs_value", i18n.Args{"flag": "--" + name}))
				}
				i++
				flags = append(flags, args[i])
			}
		default:
			ids = append(ids, arg) // "-AbC" too: an id, never a flag
		}
	}
	return flags, ids, help, nil
}
