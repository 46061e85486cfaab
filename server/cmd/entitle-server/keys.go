package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/server/licensing"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the lease signing keys"}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Start signing with a new key (old keys stay published for verification)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *licensing.Service) error {
				kid, err := svc.RotateKey(cmd.Context())
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
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the public keys to pin in agents, and the JWK set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *licensing.Service) error {
				ks, err := svc.Keys(cmd.Context())
				if err != nil {
					return fmt.Errorf("keys: %w", err)
				}
				jwks, err := json.Marshal(ks)
				if err != nil {
					return fmt.Errorf("keys: %w", err)
				}
				// A KeySet exposes its keys only as a JWK set; for OKP keys
				// "x" is exactly the base64url public key agents pin.
				var set struct {
					Keys []struct {
						Kid string `json:"kid"`
						X   string `json:"x"`
					} `json:"keys"`
				}
				if err := json.Unmarshal(jwks, &set); err != nil {
					return fmt.Errorf("keys: %w", err)
				}
				type key struct {
					KID       string `json:"kid"`
					PublicKey string `json:"public_key"`
				}
				out := struct {
					Keys []key           `json:"keys"`
					JWKS json.RawMessage `json:"jwks"`
				}{Keys: []key{}, JWKS: jwks}
				for _, k := range set.Keys {
					out.Keys = append(out.Keys, key{KID: k.Kid, PublicKey: k.X})
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				fmt.Fprintln(a.stdout, "# public keys (base64url Ed25519), one per line")
				for _, k := range out.Keys {
					fmt.Fprintln(a.stdout, k.PublicKey)
				}
				fmt.Fprintln(a.stdout, "# JWK set (GET /v1/keys)")
				_, err = fmt.Fprintln(a.stdout, string(jwks))
				return err
			})
		},
	}
	cmd.AddCommand(rotate, show)
	return cmd
}

func (a *app) demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Create (once) a demo account with a 3-seat license and print how to use it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *licensing.Service) error {
				d, err := svc.SeedDemo(cmd.Context())
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
