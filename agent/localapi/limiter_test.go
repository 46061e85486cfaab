package localapi

import (
	"net/http"
	"testing"

	"github.com/entitle/entitle/pkg/agentapi"
)

// Issue 16, item 10 (agent part): an address that used up its failed token
// checks (a hostile program on 127.0.0.1 guessing) must not lock out the
// tray or the CLI on the same address: the right token always passes, and
// wrong ones stay limited.
func TestRightTokenPassesWhileLimited(t *testing.T) {
	r := start(t, Options{Engine: newScripted(), FailureBurst: 2, FailureRate: 0.001})
	from := clientFrom("127.0.0.1")
	get := func(tok string) int {
		req, _ := http.NewRequest("GET", r.url(agentapi.PathStatus), nil)
		if tok != "" {
			req.Header.Set(agentapi.TokenHeader, tok)
		}
		resp, err := from.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 5 {
		get("wrong")
	}
	tests := []struct {
		name string
		tok  string
		want int
	}{
		{"right token", testToken, 200},
		{"wrong token", "wrong", 429},
		{"no token", "", 429},
		{"right token again", testToken, 200},
	}
	for _, tc := range tests {
		if got := get(tc.tok); got != tc.want {
			t.Fatalf("%s from a limited address: %d, want %d", tc.name, got, tc.want)
		}
	}
}
