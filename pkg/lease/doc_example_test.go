package lease

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestDocumentedExample verifies the worked example of docs/lease.md, so the
// documentation and the code cannot drift apart.
func TestDocumentedExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "lease.md"))
	if err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile(`(?m)^(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$`).FindSubmatch(doc)
	jwks := regexp.MustCompile(`(?m)^(\{"keys":.*\})$`).FindSubmatch(doc)
	if tok == nil || jwks == nil {
		t.Fatal("docs/lease.md lost its example token or key set")
	}
	ks, err := ParseKeySet(jwks[1])
	if err != nil {
		t.Fatal(err)
	}
	fpr := "3f6c1b0e9a4d7c2e8b5f0a1d6e3c9b7a2f4e8d1c5b9a3e7f0c2d6b8a4e1f5c9d"
	at := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	c, err := Verify(string(tok[1]), ks, fpr, at)
	if err != nil {
		t.Fatalf("documented lease does not verify: %v", err)
	}
	if c.License.Plan != "Pro" || c.ExpiryTime().UTC() != time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) {
		t.Fatalf("documented claims changed: %+v", c)
	}
	if _, err := Verify(string(tok[1]), ks, fprA, at); !errors.Is(err, ErrWrongDevice) {
		t.Fatalf("on another machine: %v", err)
	}
}
