package engine

import (
	"context"
	"testing"

	"github.com/entitle/entitle/pkg/agentapi"
)

// The lease's management mode (signed by the server) decides whether the
// person may deactivate; the configured management_mode is only shown while
// the lease names none, and never loosens (or tightens) the lease.
func TestManagementModeLeaseIsAuthority(t *testing.T) {
	tests := []struct {
		name, lease, config string
		wantMode            string
		wantDeactivateOK    bool
	}{
		{"lease remote, config self", "remote", "self", "remote", false},
		{"lease remote, config empty", "remote", "", "remote", false},
		{"lease remote, config unmanaged", "remote", "unmanaged", "remote", false},
		{"lease self, config remote", "self", "remote", "self", true},
		{"lease silent, config managed (display only)", "", "managed", "managed", true},
		{"lease silent, config remote (display only)", "", "remote", "remote", true},
		{"both silent", "", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t)
			srv.mgmt = tc.lease
			e := newEngine(t, srv, t.TempDir(), fpA, func(o *Options) { o.Config.ManagementMode = tc.config })
			activateKey(t, e)
			st := e.Status()
			if st.Entitlement.ManagementMode != tc.wantMode || e.Entitlement("sign").ManagementMode != tc.wantMode {
				t.Fatalf("management mode %q, want %q", st.Entitlement.ManagementMode, tc.wantMode)
			}
			if st.DeactivateOK != tc.wantDeactivateOK {
				t.Fatalf("DeactivateOK %v, want %v (note %q)", st.DeactivateOK, tc.wantDeactivateOK, st.DeactivateNote)
			}
			err := e.Deactivate(context.Background())
			switch {
			case tc.wantDeactivateOK && err != nil:
				t.Fatalf("deactivate: %v", err)
			case !tc.wantDeactivateOK && apiCode(err) != agentapi.ErrForbidden:
				t.Fatalf("deactivate of a remotely managed computer: %v", err)
			}
			if want := map[bool]int{true: 0, false: 1}[tc.wantDeactivateOK]; srv.activeSeats() != want {
				t.Fatalf("%d seats in use, want %d", srv.activeSeats(), want)
			}
		})
	}
}
