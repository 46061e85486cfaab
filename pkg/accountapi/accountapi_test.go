package accountapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/protocol"
)

func TestSessionRequestValidate(t *testing.T) {
	tests := []struct {
		name string
		req  SessionRequest
		ok   bool
	}{
		{"both", SessionRequest{Email: "a@example.com", Password: "x"}, true},
		{"longest", SessionRequest{Email: strings.Repeat("e", MaxEmail), Password: strings.Repeat("p", MaxPassword)}, true},
		{"no email", SessionRequest{Password: "x"}, false},
		{"no password", SessionRequest{Email: "a@example.com"}, false},
		{"long email", SessionRequest{Email: strings.Repeat("e", MaxEmail+1), Password: "x"}, false},
		{"long password", SessionRequest{Email: "a@example.com", Password: strings.Repeat("p", MaxPassword+1)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tc.ok)
			}
			var pe *protocol.Error
			if err != nil && (!errors.As(err, &pe) || pe.Code != protocol.ErrInvalidRequest) {
				t.Fatalf("Validate() = %#v, want a *protocol.Error with code %q", err, protocol.ErrInvalidRequest)
			}
		})
	}
}

func TestValidDeviceID(t *testing.T) {
	for id, ok := range map[string]bool{"": false, "dev_1": true, strings.Repeat("d", MaxDeviceID): true, strings.Repeat("d", MaxDeviceID+1): false} {
		if ValidDeviceID(id) != ok {
			t.Errorf("ValidDeviceID(%d bytes) = %v, want %v", len(id), !ok, ok)
		}
	}
}
