package cli

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/version"
)

func newCheckCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: env.loc.T("cli_check_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := actThenStatus(cmd, env, func(c *agentclient.Client) error {
				if cur, err := c.Status(cmd.Context()); err == nil && !cur.Activated {
					return fail(ExitError, errors.New(env.loc.T("cli_check_not_activated", nil)))
				}
				return c.Check(cmd.Context())
			})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, st)
			}
			printStatus(env.Stdout, env.loc, st, true)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, env.loc.T("cli_flag_json", nil))
	return cmd
}

func newConfigCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: env.loc.T("cli_config_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: env.loc.T("cli_config_show_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, env)
			if err != nil {
				return err
			}
			// The one secret of the configuration, the enrollment token, shows
			// only whether it is set (pinned keys are public keys); the API
			// token lives in the state folder and is never printed.
			token := env.loc.T("cli_config_not_set", nil)
			if cfg.EnrollmentToken.IsSet() {
				token = config.Redacted
			}
			if asJSON {
				missing := cfg.Missing()
				if missing == nil {
					missing = []string{}
				}
				return writeJSON(env.Stdout, configView{cfg.Listen, cfg.StateDir, cfg.ProfileDir, cfg.ServerURL, cfg.ProductID,
					cfg.HelpURL, cfg.LogLevel, cfg.PinnedKeys, cfg.ExpiringDays, cfg.ManagementMode, cfg.Language, cfg.EnrollmentToken.String(), missing})
			}
			// The setting names are agent.toml's keys: not translated.
			for _, kv := range [][2]string{
				{"listen", cfg.Listen}, {"state_dir", cfg.StateDir}, {"profile_dir", cfg.ProfileDir},
				{"server_url", cfg.ServerURL}, {"product_id", cfg.ProductID}, {"help_url", cfg.HelpURL},
				{"log_level", cfg.LogLevel}, {"pinned_keys", fmt.Sprintf("%q", cfg.PinnedKeys)},
				{"expiring_days", strconv.Itoa(cfg.ExpiringDays)}, {"management_mode", cfg.ManagementMode},
				{"language", cfg.Language}, {"enrollment_token", token},
			} {
				fmt.Fprintf(env.Stdout, "%-15s = %s\n", kv[0], kv[1])
			}
			if m := cfg.Missing(); len(m) > 0 {
				fmt.Fprintln(env.Stdout)
				fmt.Fprintln(env.Stdout, env.loc.T("cli_config_missing", i18n.Args{"settings": strings.Join(m, ", ")}))
				fmt.Fprintln(env.Stdout, env.loc.T("cli_config_missing_keys_hint", i18n.Args{"path": protocol.PathKeys}))
			}
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, env.loc.T("cli_flag_json", nil))
	cmd.AddCommand(show)
	return cmd
}

func newVersionCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: env.loc.T("cli_version_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if asJSON {
				return writeJSON(env.Stdout, map[string]string{"version": version.Version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
			}
			fmt.Fprintln(env.Stdout, env.loc.T("cli_version_line", i18n.Args{"version": version.Version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH}))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, env.loc.T("cli_flag_json", nil))
	return cmd
}

// configView is the JSON form of config.Config, with its file's key names.
type configView struct {
	Listen         string   `json:"listen"`
	StateDir       string   `json:"state_dir"`
	ProfileDir     string   `json:"profile_dir"`
	ServerURL      string   `json:"server_url"`
	ProductID      string   `json:"product_id"`
	HelpURL        string   `json:"help_url"`
	LogLevel       string   `json:"log_level"`
	PinnedKeys     []string `json:"pinned_keys"`
	ExpiringDays   int      `json:"expiring_days"`
	ManagementMode string   `json:"management_mode"`
	Language       string   `json:"language"`
	// EnrollmentToken is "set" or "", never the token.
	EnrollmentToken string `json:"enrollment_token"`
	// Missing names the settings the agent needs and lacks (config.Missing).
	Missing []string `json:"missing"`
}
