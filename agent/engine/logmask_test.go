package engine

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/licensekey"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Issue 16, item 8 (agent part): the licensing server's error for an
// unknown key quotes the whole key, and the agent logged it at info. Every
// line the engine writes goes through MaskKeys; so does the error message
// it hands on.
func TestServerMessageKeysMaskedInLogs(t *testing.T) {
	key, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t)
	answer := `{"error":"unknown_license","message":"there is no license with the key ` + key + `; check the key"}`
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(answer)), Request: r}, nil
	})
	var logs logBuf
	e := newEngine(t, srv, t.TempDir(), fpA, withTransport(rt), func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err = e.Activate(context.Background(), agentapi.ActivateRequest{Method: agentapi.ActivateLicenseKey, LicenseKey: key})
	if err == nil {
		t.Fatal("want an error")
	}
	out := logs.String() + "\n" + err.Error() + "\n" + e.Status().LastError
	if !strings.Contains(logs.String(), "activation failed") {
		t.Fatalf("nothing logged:\n%s", out)
	}
	noTokenIn(t, key, out)
	if !strings.Contains(out, "XXXXX-…-") {
		t.Fatalf("no masked form:\n%s", out)
	}
}

// Every kind of attribute goes through the mask.
func TestMaskKeysHandler(t *testing.T) {
	key, _ := licensekey.Generate()
	var logs logBuf
	log := slog.New(MaskKeys(slog.NewJSONHandler(&logs, nil)))
	log.With("with", key).WithGroup("g").Info("msg "+key, "s", key, "err", io.ErrUnexpectedEOF, "e2", errString(key),
		slog.Group("sub", "k", key), "b", []byte(key))
	noTokenIn(t, key, logs.String())
}

type errString string

func (e errString) Error() string { return string(e) }
