package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/agent/config"
	"github.com/entitle/entitle/agent/svc"
	"github.com/entitle/entitle/pkg/i18n"
)

// Service identity for the OS service manager. ServiceName is per OS
// (service_name_*.go): on macOS it is the launchd Label of the packaged
// LaunchDaemon, elsewhere the name the packages register.
const (
	// launchdServiceName is the Label of installer/macos/com.entitle.agent.plist.
	launchdServiceName = "com.entitle.agent"
	// defaultServiceName is the Windows service (installer/windows/entitle.wxs)
	// and the systemd alias / SysV script name (installer/linux).
	defaultServiceName = "entitle-agent"
	serviceDisplayName = "Entitle licensing agent"                                                             // i18n:ignore: registered once with the OS service manager, in English
	serviceDescription = "Keeps this computer's Entitle license current and answers local entitlement checks." // i18n:ignore: registered once with the OS service manager, in English
)

func newServiceCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: env.loc.T("cli_service_short", nil),
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRunCmd(env), newInstallCmd(env), newServiceStatusCmd(env))
	for _, a := range []struct{ action, short, done string }{
		{"uninstall", "cli_service_uninstall_short", "cli_service_uninstalled"}, {"start", "cli_service_start_short", "cli_service_started"},
		{"stop", "cli_service_stop_short", "cli_service_stopped"}, {"restart", "cli_service_restart_short", "cli_service_restarted"},
	} {
		action, done := a.action, a.done
		cmd.AddCommand(&cobra.Command{
			Use:   action,
			Short: env.loc.T(a.short, nil),
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				s, err := newService(nil, nil)
				if err != nil {
					return fail(ExitError, err)
				}
				if err := s.Control(action); err != nil {
					return fail(ExitError, err)
				}
				fmt.Fprintln(env.Stdout, env.loc.T(done, i18n.Args{"name": ServiceName}))
				return nil
			},
		})
	}
	return cmd
}

// newService describes the agent service; args are the arguments the
// service manager starts this executable with, after "service run".
func newService(args []string, run func(context.Context) error) (*svc.Service, error) {
	if run == nil {
		run = func(ctx context.Context) error { <-ctx.Done(); return nil } // control commands never run the body
	}
	return svc.New(ServiceName, serviceDisplayName, serviceDescription, append([]string{"service", "run"}, args...), run)
}

func newInstallCmd(env Env) *cobra.Command {
	var tokenGroup, logFormat string
	cmd := &cobra.Command{
		Use:   "install",
		Short: env.loc.T("cli_service_install_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flags().Lookup(config.FlagEnrollment); f != nil && f.Changed {
				// The service definition (unit file, plist, service
				// arguments) is readable by every local user.
				return fail(ExitUsage, errors.New(env.loc.T("cli_service_enrollment_refused", i18n.Args{"flag": config.FlagEnrollment, "env": config.EnvEnrollment})))
			}
			if _, err := loadConfig(cmd, env); err != nil {
				return err
			}
			var args []string
			cmd.Flags().Visit(func(f *pflag.Flag) {
				if sa, ok := f.Value.(pflag.SliceValue); ok {
					for _, v := range sa.GetSlice() {
						args = append(args, "--"+f.Name, v)
					}
					return
				}
				args = append(args, "--"+f.Name, f.Value.String())
			})
			s, err := newService(args, nil)
			if err != nil {
				return fail(ExitError, err)
			}
			if err := s.Control("install"); err != nil {
				return fail(ExitError, err)
			}
			fmt.Fprintln(env.Stdout, env.loc.T("cli_service_installed", i18n.Args{"name": ServiceName, "platform": s.Platform()}))
			return nil
		},
	}
	cmd.Flags().StringVar(&tokenGroup, "token-group", "", env.loc.T("cli_flag_install_token_group", nil))
	cmd.Flags().StringVar(&logFormat, "log-format", "text", env.loc.T("cli_flag_install_log_format", nil))
	return cmd
}

func newServiceStatusCmd(env Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: env.loc.T("cli_service_status_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := newService(nil, nil)
			if err != nil {
				return fail(ExitError, err)
			}
			st, err := s.Status()
			if err != nil {
				return fail(ExitError, err)
			}
			if asJSON {
				return writeJSON(env.Stdout, map[string]string{"name": ServiceName, "platform": s.Platform(), "status": st})
			}
			fmt.Fprintln(env.Stdout, env.loc.T("cli_service_status_line", i18n.Args{"name": ServiceName, "status": st, "platform": s.Platform()}))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, env.loc.T("cli_flag_json", nil))
	return cmd
}

// runService runs body under the OS service manager when it started us, and
// in the foreground until ctx ends otherwise.
func runService(ctx context.Context, body func(context.Context) error) error {
	s, err := newService(nil, body)
	if err != nil {
		return err
	}
	if service.Interactive() {
		return s.RunForeground(ctx)
	}
	return s.Run()
}
