package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/signing"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/i18n"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: a.loc.T("srv_keys_short", nil),
		Long:  a.loc.T("srv_keys_long", nil),
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: a.loc.T("srv_keys_rotate_short", nil),
		Long:  a.loc.T("srv_keys_rotate_long", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				kid, err := svc.Signing.RotateKey(cmd.Context())
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(map[string]string{"kid": kid})
				}
				_, err = fmt.Fprintln(a.stdout, a.loc.T("srv_keys_rotated", i18n.Args{"kid": kid}))
				return err
			})
		},
	}
	add := &cobra.Command{
		Use:   "add",
		Short: a.loc.T("srv_keys_add_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				kid, err := svc.Signing.AddStandbyKey(cmd.Context())
				if err != nil {
					return a.failure(err)
				}
				keys, err := svc.Signing.ListKeys(cmd.Context())
				if err != nil {
					return a.failure(err)
				}
				var added *signing.SigningKey
				for i := range keys {
					if keys[i].KID == kid {
						added = &keys[i]
					}
				}
				if added == nil {
					return errors.New(a.loc.T("srv_err_key_missing", i18n.Args{"kid": kid}))
				}
				if a.jsonOut {
					return a.printJSON(keyJSON(*added))
				}
				_, err = fmt.Fprintln(a.stdout, a.loc.T("srv_keys_added", i18n.Args{"kid": kid, "public_key": added.PublicKey}))
				return err
			})
		},
	}
	activate := &cobra.Command{
		Use:   "activate KID",
		Short: a.loc.T("srv_keys_activate_short", nil),
		Long:  a.loc.T("srv_keys_activate_long", nil),
	}
	a.takesIDs(activate, 1, func(cmd *cobra.Command, ids []string) error {
		kid := ids[0]
		return a.admin(cmd.Context(), func(svc *domains.App) error {
			if err := svc.Signing.ActivateKey(cmd.Context(), kid); err != nil {
				return a.failure(err)
			}
			if a.jsonOut {
				return a.printJSON(map[string]string{"kid": kid, "status": string(signing.KeyActive)})
			}
			_, err := fmt.Fprintln(a.stdout, a.loc.T("srv_keys_activated", i18n.Args{"kid": kid}))
			return err
		})
	})
	show := &cobra.Command{
		Use:   "show",
		Short: a.loc.T("srv_keys_show_short", nil),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				keys, err := svc.Signing.ListKeys(cmd.Context())
				if err != nil {
					return a.failure(err)
				}
				ks, err := svc.Signing.Keys(cmd.Context())
				if err != nil {
					return a.failure(err)
				}
				jwks, err := json.Marshal(ks)
				if err != nil {
					return a.failure(err)
				}
				out := struct {
					Keys []keyOut        `json:"keys"`
					JWKS json.RawMessage `json:"jwks"`
				}{Keys: []keyOut{}, JWKS: jwks}
				for _, k := range keys {
					out.Keys = append(out.Keys, keyJSON(k))
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				fmt.Fprintln(a.stdout, a.loc.T("srv_keys_show_header", nil))
				for _, k := range out.Keys {
					word, note := keyStatusText(a.loc, signing.KeyStatus(k.Status))
					fmt.Fprintf(a.stdout, "# %s %s: %s\n", word, k.KID, note)
					fmt.Fprintln(a.stdout, k.PublicKey)
				}
				fmt.Fprintln(a.stdout, a.loc.T("srv_keys_show_jwks", nil))
				_, err = fmt.Fprintln(a.stdout, string(jwks))
				return err
			})
		},
	}
	cmd.AddCommand(add, activate, show, rotate)
	return cmd
}

// keyOut is a signing key in the --json output of keys add and keys show.
type keyOut struct {
	KID       string    `json:"kid"`
	PublicKey string    `json:"public_key"`
	Status    string    `json:"status"` // active, standby or retired
	Created   time.Time `json:"created"`
}

func keyJSON(k signing.SigningKey) keyOut {
	return keyOut{KID: k.KID, PublicKey: k.PublicKey, Status: string(k.Status), Created: k.Created.UTC()}
}

// keyStatusText names a key status and explains it in the text output of
// keys show.
func keyStatusText(loc *i18n.Localizer, st signing.KeyStatus) (word, note string) {
	switch st {
	case signing.KeyActive:
		return loc.T("srv_key_status_active", nil), loc.T("srv_key_note_active", nil)
	case signing.KeyStandby:
		return loc.T("srv_key_status_standby", nil), loc.T("srv_key_note_standby", nil)
	case signing.KeyRetired:
		return loc.T("srv_key_status_retired", nil), loc.T("srv_key_note_retired", nil)
	}
	return string(st), ""
}
