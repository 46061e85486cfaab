package profiles

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/entitle/entitle/agent/profiles/certcheck"
)

func TestCreateDeleteDefault(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "profiles") // does not exist yet
	m := newTestManager(t, dir)
	now := testNow
	m.now = func() time.Time { return now }
	var ids []string
	for i, name := range []string{"Alice", "Bob", "Carol"} {
		now = now.Add(time.Minute) // distinct creation times
		info, err := m.Create(ctx, CreateRequest{Owner: name + " Martin", Name: name, Email: strings.ToLower(name) + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if info.Status != certcheck.StatusValid || !info.SelfSigned || !info.HasKey || info.Owner != name+" Martin" {
			t.Fatalf("created %+v", info)
		}
		if info.Default != (i == 0) {
			t.Errorf("%s: default %v", name, info.Default)
		}
		if !ValidID(info.ID) || len(info.ID) != 36 {
			t.Errorf("id %q", info.ID)
		}
		ids = append(ids, info.ID)
	}
	// Files and modes.
	st, err := os.Stat(filepath.Join(dir, ids[0], KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	certBytes, _ := os.ReadFile(filepath.Join(dir, ids[0], CertFile))
	cert, err := certcheck.ParseCertificate(certBytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "Alice Martin" || cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment ||
		cert.NotAfter.Sub(cert.NotBefore) < 3*365*24*time.Hour || cert.EmailAddresses[0] != "alice@example.com" {
		t.Errorf("certificate %v %v %v", cert.Subject, cert.KeyUsage, cert.NotAfter)
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key type %T", cert.PublicKey)
	}
	// Bad input changes nothing.
	for _, req := range []CreateRequest{
		{Owner: ""}, {Owner: "x\x00y"}, {Owner: "Dan", ValidYears: 50}, {Owner: "Dan", Email: "not an email"},
		{Owner: strings.Repeat("é", 200)},
	} {
		if _, err := m.Create(ctx, req); !errors.Is(err, ErrBadInput) {
			t.Errorf("create %+v: %v", req, err)
		}
	}
	if _, err := m.Create(ctx, CreateRequest{Owner: "Someone", Name: " alice "}); !errors.Is(err, ErrConflict) {
		t.Errorf("name clash: %v", err)
	}
	if n := len(m.List(0)); n != 3 {
		t.Fatalf("%d profiles after refused creates", n)
	}
	// SetDefault: one atomic replace, exactly one default.
	if err := m.SetDefault(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if d := defaults(m.List(0)); len(d) != 1 || d[0] != ids[2] {
		t.Fatalf("defaults %v", d)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, DefaultFile)); strings.TrimSpace(string(b)) != ids[2] {
		t.Errorf("default file %q", b)
	}
	if err := m.SetDefault(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("set default unknown: %v", err)
	}
	// Deleting the default: the oldest remaining becomes default.
	if err := m.Delete(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if d := defaults(m.List(0)); len(d) != 1 || d[0] != ids[0] {
		t.Fatalf("after delete defaults %v, want oldest %s", d, ids[0])
	}
	if b, _ := os.ReadFile(filepath.Join(dir, DefaultFile)); strings.TrimSpace(string(b)) != ids[0] {
		t.Errorf("default file %q", b)
	}
	if err := m.Delete(ctx, ids[2]); !errors.Is(err, ErrNotFound) {
		t.Errorf("double delete: %v", err)
	}
	for _, id := range ids[:2] {
		if err := m.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.List(0)) != 0 {
		t.Fatal("profiles left")
	}
	if _, err := os.Stat(filepath.Join(dir, DefaultFile)); !os.IsNotExist(err) {
		t.Errorf("default file left with no profile: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("leftovers: %v", entries)
	}
}

func TestSetDefaultRefusesInvalid(t *testing.T) {
	dir := t.TempDir()
	writeProfileDir(t, dir, "good", testNow, goodFiles(t, certSpec{}))
	writeProfileDir(t, dir, "bad", testNow, map[string][]byte{CertFile: []byte("junk")})
	m := newTestManager(t, dir)
	if err := m.SetDefault(context.Background(), "bad"); !errors.Is(err, ErrConflict) {
		t.Errorf("set invalid default: %v", err)
	}
	if d := defaults(m.List(0)); len(d) != 1 || d[0] != "good" {
		t.Errorf("defaults %v", d)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := newTestManager(t, t.TempDir())
	info, err := src.Create(ctx, CreateRequest{Owner: "Jeanne Dupont", Name: "Signature"})
	if err != nil {
		t.Fatal(err)
	}
	p12, err := src.ExportPKCS12(info.ID, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ExportPKCS12(info.ID, ""); !errors.Is(err, ErrBadInput) {
		t.Errorf("empty password: %v", err)
	}
	pemCert, err := src.ExportCertificate(info.ID, "pem")
	if err != nil || !strings.HasPrefix(string(pemCert), "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("pem export: %v", err)
	}
	der, err := src.ExportCertificate(info.ID, "der")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(pemCert); string(b.Bytes) != string(der) {
		t.Error("pem and der exports differ")
	}

	dst := newTestManager(t, t.TempDir())
	if _, err := dst.Import(ctx, p12, "wrong", ImportOptions{}); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := dst.Import(ctx, der, "", ImportOptions{}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "no private key") {
		t.Errorf("cert only: %v", err)
	}
	if _, err := dst.Import(ctx, []byte("garbage"), "", ImportOptions{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("garbage: %v", err)
	}
	if n := len(dst.List(0)); n != 0 {
		t.Fatalf("bad imports wrote %d profiles", n)
	}
	res, err := dst.Import(ctx, p12, "correct horse", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 1 || res.Imported[0].Name != "Jeanne Dupont" || !res.Imported[0].Default || res.Imported[0].Status != certcheck.StatusValid {
		t.Fatalf("import result %+v", res)
	}
	// Sign a digest with the imported key; verify with the original certificate.
	keyPEMBytes, err := os.ReadFile(filepath.Join(dst.Dir(), res.Imported[0].ID, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	key, err := certcheck.ParseKeyFile(keyPEMBytes)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("contract.pdf"))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := certcheck.ParseCertificate(pemCert)
	if !ecdsa.VerifyASN1(orig.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("signature by the imported key does not verify with the original certificate")
	}
	// The same credentials again: skipped, no duplicate.
	res, err = dst.Import(ctx, p12, "correct horse", ImportOptions{Name: "Other"})
	if err != nil || len(res.Imported) != 0 || len(res.Skipped) != 1 {
		t.Fatalf("re-import %+v %v", res, err)
	}
	// PEM certificate + key import, with a name clash per mode.
	k := newKey(t)
	c := makeCert(t, k, certSpec{cn: "Jeanne Dupont"})
	pemBoth := append(certPEM(c), keyPEM(t, k)...)
	if _, err := dst.Import(ctx, pemBoth, "", ImportOptions{}); !errors.Is(err, ErrConflict) {
		t.Errorf("clash fail: %v", err)
	}
	res, err = dst.Import(ctx, pemBoth, "", ImportOptions{OnClash: OnClashRename})
	if err != nil || res.Imported[0].Name != "Jeanne Dupont (2)" {
		t.Fatalf("clash rename %+v %v", res, err)
	}
	k2 := newKey(t)
	pem2 := append(certPEM(makeCert(t, k2, certSpec{cn: "Jeanne Dupont"})), keyPEM(t, k2)...)
	res, err = dst.Import(ctx, pem2, "", ImportOptions{OnClash: OnClashReplace})
	if err != nil || len(res.Imported) != 1 {
		t.Fatalf("clash replace %+v %v", res, err)
	}
	list := dst.List(0)
	if len(list) != 2 || len(defaults(list)) != 1 {
		t.Fatalf("after replace: %+v", list)
	}
	if _, err := dst.Import(ctx, pem2, "", ImportOptions{OnClash: "merge"}); !errors.Is(err, ErrBadInput) {
		t.Errorf("bad on_clash: %v", err)
	}
	// A p12 encoded by another tool (legacy) also imports.
	legacy, err := pkcs12.LegacyDES.Encode(k, c, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := dst.Import(ctx, legacy, "pw", ImportOptions{}); err != nil || len(res.Skipped) != 1 {
		t.Errorf("legacy p12 of known credentials: %+v %v", res, err)
	}
}
