package cli

import (
	"fmt"
	"strings"

	"github.com/entitle/entitle/pkg/agentclient"
	"github.com/entitle/entitle/pkg/protocol"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/pkg/version"
)

func newCheckCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Make the agent check in with the licensing server now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := actThenStatus(cmd, env, func(c *agentclient.Client) error { return c.Check(cmd.Context()) })
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env.Stdout, st)
			}
			printStatus(env.Stdout, st, true)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func newConfigCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Configuration commands", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (defaults, file, environment, flags)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, env)
			if err != nil {
				return err
			}
			// The one secret of the configuration, the enrollment token, shows
			// only whether it is set (pinned keys are public keys); the API
			// token lives in the state folder and is never printed.
			token := "not set"
			if cfg.EnrollmentToken.IsSet() {
				token = config.Redacted
			}
			if asJSON {
				missing := cfg.Missing()
				if missing == nil {
					missing = []string{}
				}
				return writeJSON(env.Stdout, configView{cfg.Listen, cfg.StateDir, cfg.ProfileDir, cfg.ServerURL, cfg.ProductID,
					cfg.HelpURL, cfg.LogLevel, cfg.PinnedKeys, cfg.ExpiringDays, cfg.ManagementMode, cfg.EnrollmentToken.String(), missing})
			}
			w := env.Stdout
			fmt.Fprintf(w, "listen          = %s\n", cfg.Listen)
			fmt.Fprintf(w, "state_dir       = %s\n", cfg.StateDir)
			fmt.Fprintf(w, "profile_dir     = %s\n", cfg.ProfileDir)
			fmt.Fprintf(w, "server_url      = %s\n", cfg.ServerURL)
			fmt.Fprintf(w, "product_id      = %s\n", cfg.ProductID)
			fmt.Fprintf(w, "help_url        = %s\n", cfg.HelpURL)
			fmt.Fprintf(w, "log_level       = %s\n", cfg.LogLevel)
			fmt.Fprintf(w, "pinned_keys     = %q\n", cfg.PinnedKeys)
			fmt.Fprintf(w, "expiring_days   = %d\n", cfg.ExpiringDays)
			fmt.Fprintf(w, "management_mode = %s\n", cfg.ManagementMode)
			fmt.Fprintf(w, "enrollment_token = %s\n", token)
			if m := cfg.Missing(); len(m) > 0 {
				fmt.Fprintf(w, "\nMISSING: %s. The agent runs but answers not_configured until they are set.\n", strings.Join(m, ", "))
				fmt.Fprintf(w, "Pinned keys: run `entitle-server keys show` on the licensing server, or read its JWK set at GET <server_url>%s.\n", protocol.PathKeys)
			}
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.AddCommand(show)
	return cmd
}

func newVersionCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if asJSON {
				return writeJSON(env.Stdout, map[string]string{"version": version.Version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
			}
			fmt.Fprintf(env.Stdout, "entitle %s (%s, %s/%s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
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
	// EnrollmentToken is "set" or "", never the token.
	EnrollmentToken string `json:"enrollment_token"`
	// Missing names the settings the agent needs and lacks (config.Missing).
	Missing []string `json:"missing"`
}
