package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
)

// startEnrolling runs an agent configured with an enrollment token, as an
// installer would leave it.
func (w *world) startEnrolling(stateDir, token string) *agent {
	w.t.Helper()
	addrFile := filepath.Join(w.t.TempDir(), "agent.addr")
	args := append([]string{w.agentBin, "service", "run", "--listen", "127.0.0.1:0", "--addr-file", addrFile}, w.agentFlags(stateDir)...)
	a := &agent{w: w, stateDir: stateDir}
	a.p = start(w.t, "agent", append(args, "--enrollment-token", token)...)
	a.addr = testenv.ReadAddrFile(w.t, addrFile, 20*time.Second)
	return a
}

// TestWorkspaceEnrollment: silent deployment. A workspace's enrollment
// token activates a computer on its first start with nobody at it, into the
// workspace's mode; a revoked token is refused and says so.
func TestWorkspaceEnrollment(t *testing.T) {
	w := newWorld(t)
	tok := w.session()
	var lics accountapi.LicensePage
	if code := w.api("GET", accountapi.PathAccountLicenses, tok, nil, &lics); code != http.StatusOK || len(lics.Items) == 0 {
		t.Fatalf("licenses: %d", code)
	}
	var ws accountapi.WorkspaceJSON
	if code := w.api("POST", accountapi.PathWorkspaces, tok, accountapi.WorkspaceRequest{Name: "Parc (Lyon)", LicenseID: lics.Items[0].ID,
		ManagementMode: accountapi.ModeRemote}, &ws); code != http.StatusCreated {
		t.Fatalf("create workspace: %d", code)
	}
	var et accountapi.EnrollmentTokenJSON
	if code := w.api("POST", accountapi.PathWorkspaces+"/"+ws.ID+"/enrollment-tokens", tok, accountapi.EnrollmentTokenRequest{MaxUses: 10}, &et); code != http.StatusCreated || et.Token == "" {
		t.Fatalf("create token: %d", code)
	}
	a := w.startEnrolling(filepath.Join(t.TempDir(), "state"), et.Token)
	st := a.waitState(20*time.Second, agentapi.StateActive)
	if st.Entitlement.ManagementMode != "remote" || st.DeactivateOK {
		t.Fatalf("enrolled computer: mode %q, deactivate allowed %v; want remote, false", st.Entitlement.ManagementMode, st.DeactivateOK)
	}

	if code := w.api("DELETE", accountapi.PathWorkspaces+"/"+ws.ID+"/enrollment-tokens/"+et.ID, tok, nil, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	b := w.startEnrolling(filepath.Join(t.TempDir(), "state-b"), et.Token)
	testenv.WaitFor(t, 20*time.Second, "the revoked token refused", func() bool {
		st := b.status()
		return !st.Activated && strings.Contains(st.LastError, "not valid")
	})
}
