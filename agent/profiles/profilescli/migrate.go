package profilescli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/profiles"
	"github.com/entitle/entitle/agent/profiles/bundle"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/statustext"
)

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}

func migrateCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: d.Loc.T("migrate_short", nil)}
	cmd.AddCommand(migrateExportCmd(d), migrateImportCmd(d))
	return cmd
}

func migrateExportCmd(d Deps) *cobra.Command {
	var out string
	var fromStdin, force, deactivate bool
	cmd := &cobra.Command{
		Use:   "export --out FILE",
		Short: d.Loc.T("migrate_export_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := d.newSecret(fromStdin, d.Loc.T("migrate_pass_new", nil))
			if err != nil {
				return err
			}
			if err := bundle.CheckPassphrase(pass); err != nil {
				return err
			}
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			data, err := c.Do(ctxOf(cmd), http.MethodPost, "/v1/migrate/export", profiles.MigrateExportRequest{Passphrase: pass})
			if err != nil {
				return err
			}
			if err := d.writeNewFile(out, data, force); err != nil {
				return err
			}
			fmt.Fprintln(d.Stdout, d.Loc.T("migrate_exported", i18n.Args{"file": out}))
			if activated, known := isActivated(cmd, c); known && !activated {
				return nil // nothing to deactivate: the seat is already free
			}
			if !deactivate && !d.confirmed(d.Loc.T("migrate_deactivate_ask", nil)) {
				fmt.Fprintln(d.Stdout, d.Loc.T("migrate_stays_active", nil))
				return nil
			}
			if err := c.Deactivate(ctxOf(cmd)); err != nil {
				return d.wrap("migrate_deactivate_failed", nil, err)
			}
			fmt.Fprintln(d.Stdout, d.Loc.T("migrate_deactivated", nil))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", d.Loc.T("profiles_flag_out", nil))
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, d.Loc.T("profiles_flag_passphrase_stdin", nil))
	cmd.Flags().BoolVar(&force, "force", false, d.Loc.T("profiles_flag_force_overwrite", nil))
	cmd.Flags().BoolVar(&deactivate, "deactivate", false, d.Loc.T("migrate_flag_deactivate", nil))
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func migrateImportCmd(d Deps) *cobra.Command {
	var onClash string
	var fromStdin, activate bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: d.Loc.T("migrate_import_short", nil),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := d.readInput(args[0], maxInputFile)
			if err != nil {
				return err
			}
			pass, err := d.secret(fromStdin, d.Loc.T("migrate_pass_of", i18n.Args{"file": args[0]}))
			if err != nil {
				return err
			}
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			var res profiles.ImportResult
			err = c.JSON(ctxOf(cmd), http.MethodPost, "/v1/migrate/import", profiles.MigrateImportRequest{Data: data, Passphrase: pass, OnClash: onClash}, &res)
			if err != nil {
				return err
			}
			printImport(d.Loc, d.Stdout, res)
			if activated, known := isActivated(cmd, c); known && activated {
				return nil // a person moving computers may activate before importing
			}
			if !activate && !d.confirmed(d.Loc.T("migrate_activate_ask", nil)) {
				fmt.Fprintln(d.Stdout, d.Loc.T("migrate_activate_later", nil))
				return nil
			}
			ar, err := c.ActivateBrowser(ctxOf(cmd))
			if err != nil {
				return d.wrap("migrate_activate_failed", nil, err)
			}
			if p := ar.Pending; p != nil {
				fmt.Fprintln(d.Stdout, d.Loc.T("migrate_activate_open", i18n.Args{"url": p.VerificationURI, "code": p.UserCode}))
			} else {
				fmt.Fprintln(d.Stdout, d.Loc.T("migrate_activation", i18n.Args{"state": statustext.Title(d.Loc, ar.Status.Entitlement.State)}))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&onClash, "on-clash", "fail", d.Loc.T("migrate_flag_on_clash", nil))
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, d.Loc.T("profiles_flag_passphrase_stdin", nil))
	cmd.Flags().BoolVar(&activate, "activate", false, d.Loc.T("migrate_flag_activate", nil))
	return cmd
}

// isActivated asks the agent whether this computer holds an activation; known
// is false when the agent could not say (the question is then asked anyway).
func isActivated(cmd *cobra.Command, c *Client) (activated, known bool) {
	var st agentapi.Status
	if err := c.JSON(ctxOf(cmd), http.MethodGet, agentapi.PathStatus, nil, &st); err != nil {
		return false, false
	}
	return st.Activated, true
}

// confirmed is confirm's answer alone: "no" and "no terminal" both decline.
func (d Deps) confirmed(q string) bool {
	yes, _ := d.confirm(q)
	return yes
}
