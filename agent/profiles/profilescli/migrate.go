package profilescli

import (
	"encoding/json"
	"fmt"
	"github.com/entitle/entitle/pkg/agentapi"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/profiles"
	"github.com/entitle/entitle/agent/profiles/bundle"
)

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}

func migrateCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Move every signature profile to a new computer"}
	cmd.AddCommand(migrateExportCmd(d), migrateImportCmd(d))
	return cmd
}

func migrateExportCmd(d Deps) *cobra.Command {
	var out string
	var fromStdin, force, deactivate bool
	cmd := &cobra.Command{
		Use:   "export --out FILE",
		Short: "Write every profile, certificate, key and the default choice to one encrypted file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := d.newSecret(fromStdin, txtMigPassNew)
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
			if err := writeNewFile(out, data, force); err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, txtMigExported, out)
			if activated, known := isActivated(cmd, c); known && !activated {
				return nil // nothing to deactivate: the seat is already free
			}
			if !deactivate && !d.confirmed(txtMigDeactivateAsk) {
				fmt.Fprintln(d.Stdout, txtMigStaysActive)
				return nil
			}
			if err := c.Deactivate(ctxOf(cmd)); err != nil {
				return fmt.Errorf(txtMigDeactivateFailed, err)
			}
			fmt.Fprintln(d.Stdout, txtMigDeactivated)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (required)")
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, "read the passphrase from the first line of stdin")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	cmd.Flags().BoolVar(&deactivate, "deactivate", false, "deactivate this computer after the export without asking")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func migrateImportCmd(d Deps) *cobra.Command {
	var onClash string
	var fromStdin, activate bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import the profiles of a file written by 'migrate export'",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(args[0], maxInputFile)
			if err != nil {
				return err
			}
			pass, err := d.secret(fromStdin, fmt.Sprintf(txtMigPassOf, args[0]))
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
			printImport(d.Stdout, res)
			if activated, known := isActivated(cmd, c); known && activated {
				return nil // a person moving computers may activate before importing
			}
			if !activate && !d.confirmed(txtMigActivateAsk) {
				fmt.Fprintln(d.Stdout, txtMigActivateLater)
				return nil
			}
			ar, err := c.ActivateBrowser(ctxOf(cmd))
			if err != nil {
				return fmt.Errorf(txtMigActivateFailed, err)
			}
			if p := ar.Pending; p != nil {
				fmt.Fprintf(d.Stdout, txtMigActivateOpen, p.VerificationURI, p.UserCode)
			} else {
				fmt.Fprintf(d.Stdout, txtMigActivation, ar.Status.Entitlement.State)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&onClash, "on-clash", "fail", "when a different profile has the same name or id: fail, rename or replace")
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, "read the passphrase from the first line of stdin")
	cmd.Flags().BoolVar(&activate, "activate", false, "start activation after the import without asking")
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
