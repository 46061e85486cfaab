package profiles

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// testNow is the fixed clock of most tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type certSpec struct {
	cn        string
	notBefore time.Time
	notAfter  time.Time
	keyUsage  x509.KeyUsage
	extUsage  []x509.ExtKeyUsage
	issuer    *x509.Certificate // nil: self-signed
	issuerKey crypto.Signer
	isCA      bool
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// makeCert creates a certificate for key according to s.
func makeCert(t testing.TB, key *ecdsa.PrivateKey, s certSpec) *x509.Certificate {
	t.Helper()
	if s.cn == "" {
		s.cn = "Test Owner"
	}
	if s.notBefore.IsZero() {
		s.notBefore = testNow.AddDate(-1, 0, 0)
	}
	if s.notAfter.IsZero() {
		s.notAfter = testNow.AddDate(2, 0, 0)
	}
	if s.keyUsage == 0 {
		s.keyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: s.cn},
		NotBefore:    s.notBefore, NotAfter: s.notAfter,
		KeyUsage: s.keyUsage, ExtKeyUsage: s.extUsage,
		BasicConstraintsValid: true, IsCA: s.isCA,
	}
	parent, signer := tmpl, crypto.Signer(key)
	if s.issuer != nil {
		parent, signer = s.issuer, s.issuerKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
}

// writeProfileDir writes a profile folder by hand, as a person or another
// tool would; files with nil content are skipped.
func writeProfileDir(t testing.TB, root, id string, created time.Time, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join(root, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, ok := files[MetaFile]; !ok {
		m := Meta{Format: FormatV1, ID: id, Name: "Profile " + id, Owner: "Owner " + id, Created: created, Updated: created}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		files[MetaFile] = b
	}
	for n, b := range files {
		if b == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// goodFiles returns the files of a valid self-signed profile.
func goodFiles(t testing.TB, s certSpec) map[string][]byte {
	t.Helper()
	k := newKey(t)
	return map[string][]byte{CertFile: certPEM(makeCert(t, k, s)), KeyFile: keyPEM(t, k)}
}

func newTestManager(t testing.TB, dir string, mod ...func(*Options)) *Manager {
	t.Helper()
	o := Options{
		Dir: dir, Now: func() time.Time { return testNow },
		Logger:           slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BundleWorkFactor: 10,
	}
	for _, f := range mod {
		f(&o)
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func byID(list []agentapi.ProfileInfo) map[string]agentapi.ProfileInfo {
	out := map[string]agentapi.ProfileInfo{}
	for _, p := range list {
		out[p.ID] = p
	}
	return out
}

func defaults(list []agentapi.ProfileInfo) []string {
	var d []string
	for _, p := range list {
		if p.Default {
			d = append(d, p.ID)
		}
	}
	return d
}

// runManager runs m.Run until the test ends.
func runManager(t testing.TB, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitWatching waits until m.Run has its watches in place.
func waitWatching(t testing.TB, m *Manager) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !m.Watching() {
		if time.Now().After(deadline) {
			t.Fatal("Run never started watching")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The engine's ProfileSource interface (agent/engine) is implemented.
var _ interface {
	Status(maxProfiles int) agentapi.ProfilesStatus
	Summary(maxProfiles int) protocol.ProfileSummary
	Changes() <-chan struct{}
} = (*Manager)(nil)
