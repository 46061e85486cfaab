// Package flagtext words command-line flag errors and the agent's
// configuration flags for a person, in the language of a pkg/i18n
// Localizer. The CLI (agent/cli) and the tray (tray/cmd/entitle-tray) share
// it, so both say the same thing about the same mistake.
package flagtext

import (
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/internal/clihelp"
	"github.com/entitle/entitle/pkg/i18n"
)

// Error words pflag's parse errors by their types (internal/clihelp);
// other errors are returned unchanged.
func Error(loc *i18n.Localizer, err error) error { return clihelp.FlagError(loc, err) }

// usageIDs are the catalog messages of the configuration flags that
// agent/config registers.
var usageIDs = map[string]string{
	config.FlagConfig: "cli_flag_config", config.FlagListen: "cli_flag_listen", config.FlagStateDir: "cli_flag_state_dir",
	config.FlagProfileDir: "cli_flag_profile_dir", config.FlagServerURL: "cli_flag_server_url", config.FlagPinnedKey: "cli_flag_pinned_key",
	config.FlagProductID: "cli_flag_product_id", config.FlagLogLevel: "cli_flag_log_level", config.FlagEnrollment: "cli_flag_enrollment",
	config.FlagLanguage: "cli_flag_lang",
}

// LocalizeConfigFlags replaces the usage of the configuration flags in fs by
// the catalog's.
func LocalizeConfigFlags(loc *i18n.Localizer, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if id, ok := usageIDs[f.Name]; ok {
			f.Usage = loc.T(id, nil)
		}
	})
}

// Language picks the language of a desktop program before its flags are
// parsed for real: --lang in args, then ENTITLE_LANG, then the configuration's
// language (file, registry, environment, flags, as the agent reads them),
// then the system's locale (i18n.Preferences).
func Language(b *i18n.Bundle, args []string, lookupEnv func(string) (string, bool)) *i18n.Localizer {
	fs := pflag.NewFlagSet("lang", pflag.ContinueOnError)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	config.AddFlags(fs)
	_ = fs.Parse(args) // errors are reported by the real parse
	flag, _ := fs.GetString(config.FlagLanguage)
	configured := ""
	if cfg, err := config.Load(config.DefaultPath(), lookupEnv, fs); err == nil {
		configured = cfg.Language
	}
	return b.Localizer(b.Match(i18n.Preferences(flag, configured, lookupEnv)...))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
