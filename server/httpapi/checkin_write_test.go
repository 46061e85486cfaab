package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/entitle/entitle/pkg/protocol"
)

// TestWriteCheckinIsJSONMarshal holds the check-in answer's direct writer to
// the bytes writeJSON gives, for the answers it writes itself and for those
// it hands to writeJSON.
func TestWriteCheckinIsJSONMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp protocol.CheckinResponse
	}{
		{"lease", protocol.CheckinResponse{Lease: "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkZXYifQ.c2ln-_", Commands: []protocol.Command{}, CheckinAfter: 900}},
		{"empty lease", protocol.CheckinResponse{Commands: []protocol.Command{}}},
		{"characters JSON escapes", protocol.CheckinResponse{Lease: "a<b>&\"\\\u2028", Commands: []protocol.Command{}, CheckinAfter: 1}},
		{"commands", protocol.CheckinResponse{Lease: "x.y.z", Commands: []protocol.Command{{ID: "c1", Type: "refresh_lease"}}, CheckinAfter: 60}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := httptest.NewRecorder()
			writeCheckin(got, tc.resp)
			want, err := json.Marshal(tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			if got.Body.String() != string(want)+"\n" {
				t.Errorf("wrote %s\nwant    %s", got.Body, want)
			}
			if ct := got.Header().Get("Content-Type"); ct != "application/json" || got.Code != 200 {
				t.Errorf("status %d, Content-Type %q", got.Code, ct)
			}
		})
	}
}
