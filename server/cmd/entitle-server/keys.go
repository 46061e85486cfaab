package main

import (
	"encoding/json"
	"fmt"
	"time"

	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/signing"

	"github.com/spf13/cobra"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the lease signing keys",
		Long: `Manage the lease signing keys.

Agents refuse leases signed by a key they have not pinned, so rotate in three steps:
  1. entitle-server keys add             adds a standby key (published, not signing) and prints it
  2. pin the printed public key on every agent, next to the current one
     (agent.toml pinned_keys, the Windows registry value pinned_keys, or ENTITLE_PINNED_KEYS)
     and in signing applications, and wait for the rollout
  3. entitle-server keys activate KID    signs new leases with it; running servers follow within 30 s
"keys rotate" does 1 and 3 at once, skipping the pinning step: for emergencies only.`,
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Create a key and sign with it at once, skipping the pinning step (emergencies only)",
		Long: `Create a new signing key and make it the active one at once (keys add and keys activate in one step).
Old keys stay published for verification.

This skips the pinning step: agents that have not pinned the new key refuse every new lease it signs
and stop working when their current lease expires. Use it only when the active key must stop signing
now (it leaked); otherwise use "keys add", pin the key on every agent, then "keys activate KID".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				kid, err := svc.Signing.RotateKey(cmd.Context())
				if err != nil {
					return fmt.Errorf("rotate key: %w", err)
				}
				if a.jsonOut {
					return a.printJSON(map[string]string{"kid": kid})
				}
				_, err = fmt.Fprintf(a.stdout, "now signing with key %s\n", kid)
				return err
			})
		},
	}
	add := &cobra.Command{
		Use:   "add",
		Short: "Add a standby key: published for pinning, not signing until \"keys activate\"",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				kid, err := svc.Signing.AddStandbyKey(cmd.Context())
				if err != nil {
					return fmt.Errorf("add key: %w", err)
				}
				keys, err := svc.Signing.ListKeys(cmd.Context())
				if err != nil {
					return fmt.Errorf("add key: %w", err)
				}
				var added *signing.SigningKey
				for i := range keys {
					if keys[i].KID == kid {
						added = &keys[i]
					}
				}
				if added == nil {
					return fmt.Errorf("add key: key %s is not in the database after adding it", kid)
				}
				if a.jsonOut {
					return a.printJSON(keyJSON(*added))
				}
				_, err = fmt.Fprintf(a.stdout, "added standby key %s (published, not signing yet)\npublic key: %s\n"+
					"pin this public key on every agent next to the current one, wait for the rollout, then run:\n"+
					"  entitle-server keys activate %s\n", kid, added.PublicKey, kid)
				return err
			})
		},
	}
	activate := &cobra.Command{
		Use:   "activate KID",
		Short: "Sign new leases with a published key (pin it on every agent first)",
		Long: `Make the published key KID the one that signs new leases. The previously active key stays published,
so leases it signed stay valid until they expire. Running servers switch within 30 s.

Agents refuse leases signed by a key they have not pinned: pin the key printed by "keys add" on every
agent first. Activating an older key rolls a rotation back.

KID may begin with '-' (key ids are base64url): it is read as the id, not as a flag.`,
	}
	a.takesIDs(activate, 1, func(cmd *cobra.Command, ids []string) error {
		kid := ids[0]
		return a.admin(cmd.Context(), func(svc *domains.App) error {
			if err := svc.Signing.ActivateKey(cmd.Context(), kid); err != nil {
				return fmt.Errorf("activate key: %w", err)
			}
			if a.jsonOut {
				return a.printJSON(map[string]string{"kid": kid, "status": string(signing.KeyActive)})
			}
			_, err := fmt.Fprintf(a.stdout, "now signing with key %s (running servers switch within 30 s)\n", kid)
			return err
		})
	})
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the public keys to pin in agents (active, standby, retired), and the JWK set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				keys, err := svc.Signing.ListKeys(cmd.Context())
				if err != nil {
					return fmt.Errorf("keys: %w", err)
				}
				ks, err := svc.Signing.Keys(cmd.Context())
				if err != nil {
					return fmt.Errorf("keys: %w", err)
				}
				jwks, err := json.Marshal(ks)
				if err != nil {
					return fmt.Errorf("keys: %w", err)
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
				fmt.Fprintln(a.stdout, "# public keys (base64url Ed25519), one per line, oldest first; each after its status")
				for _, k := range out.Keys {
					fmt.Fprintf(a.stdout, "# %s %s: %s\n", k.Status, k.KID, statusNote(signing.KeyStatus(k.Status)))
					fmt.Fprintln(a.stdout, k.PublicKey)
				}
				fmt.Fprintln(a.stdout, "# JWK set (GET /v1/keys)")
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

// statusNote explains a key status in the text output of keys show.
func statusNote(st signing.KeyStatus) string {
	switch st {
	case signing.KeyActive:
		return "signs new leases"
	case signing.KeyStandby:
		return "published, not signing; pin it on every agent, then run keys activate with its id"
	case signing.KeyRetired:
		return "no longer signs; keep it pinned until the leases it signed have expired"
	}
	return ""
}

func (a *app) demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Create (once) a demo account with a 3-seat license and print how to use it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				d, err := svc.Licenses.SeedDemo(cmd.Context())
				if err != nil {
					return fmt.Errorf("demo: %w", err)
				}
				if a.jsonOut {
					return a.printJSON(map[string]any{"email": d.Email, "password": d.Password, "license_key": d.LicenseKey, "seats": d.Seats})
				}
				_, err = fmt.Fprintf(a.stdout, "demo account: %s\npassword:     %s\nlicense key:  %s (%d seats)\n", d.Email, d.Password, d.LicenseKey, d.Seats)
				return err
			})
		},
	}
}
