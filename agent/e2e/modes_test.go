package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// TestManagementModeMatrix: the three management modes against every
// action a person takes at the computer (through the CLI, which the tray
// shares through the same local API) and a remote command from the
// administrator. local_remote: both act; local: the server refuses the
// command; remote: the person's changes are refused with the organization's
// name, reads still work.
func TestManagementModeMatrix(t *testing.T) {
	w := newWorld(t)
	tok := w.session()
	for _, mode := range []string{"local_remote", "local", "remote"} {
		t.Run(mode, func(t *testing.T) {
			key := w.createLicense(mode, 2)
			other := w.createLicense(mode, 2)
			a := w.startAgent(filepath.Join(t.TempDir(), "state"))
			if _, err := a.cli("", "activate", "--license-key", key); err != nil {
				t.Fatal(err)
			}
			personMay := mode != "remote"
			local := []struct {
				name string
				args []string
			}{
				{"create a profile", []string{"profiles", "create", "--owner", "Jeanne Martin", "--name", "jm-" + mode}},
				{"deactivate", []string{"deactivate", "--yes"}},
				{"activate another license", []string{"activate", "--license-key", other}},
			}
			for _, act := range local {
				out, err := a.cli("", act.args...)
				if personMay && err != nil {
					t.Fatalf("%s, %s: refused: %v %s", mode, act.name, err, out)
				}
				if !personMay {
					if err == nil {
						t.Fatalf("%s, %s: allowed, want refused", mode, act.name)
					}
					if !strings.Contains(err.Error(), w.email) {
						t.Fatalf("%s, %s: refusal %q does not name the organization %s", mode, act.name, err, w.email)
					}
				}
			}
			if !personMay {
				if _, err := a.cli("", "profiles", "list"); err != nil {
					t.Fatalf("remote: reading the profiles was refused: %v", err)
				}
			}
			// The administrator's side.

			var pe protocol.Error
			code := w.api("POST", "/v1/account/devices/"+a.status().Entitlement.DeviceID+"/commands", tok,
				accountapi.CommandRequest{Type: protocol.CmdRefreshLease}, &pe)
			switch {
			case mode == "local" && (code != http.StatusConflict || pe.Code != protocol.ErrLocalOnly):
				t.Fatalf("local: remote command answered %d %+v, want 409 local_only", code, pe)
			case mode != "local" && code != http.StatusCreated:
				t.Fatalf("%s: remote command answered %d %+v", mode, code, pe)
			}
		})
	}
}
