package profiles

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/entitle/entitle/agent/profiles/certcheck"
)

// caChain is a signing certificate issued by a test intermediate CA issued
// by a test root CA: a chain of 2 CA certificates.
type caChain struct {
	rootKey, interKey, leafKey *ecdsa.PrivateKey
	root, inter, leaf          *x509.Certificate
}

func newCAChain(t testing.TB) caChain {
	t.Helper()
	var c caChain
	c.rootKey, c.interKey, c.leafKey = newKey(t), newKey(t), newKey(t)
	caUsage := x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	c.root = makeCert(t, c.rootKey, certSpec{cn: "Entitle Test Root", keyUsage: caUsage, isCA: true})
	c.inter = makeCert(t, c.interKey, certSpec{cn: "Entitle Test Intermediate", keyUsage: caUsage, isCA: true, issuer: c.root, issuerKey: c.rootKey})
	c.leaf = makeCert(t, c.leafKey, certSpec{cn: "Dana Notary", extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, issuer: c.inter, issuerKey: c.interKey})
	return c
}

func (c caChain) cas() []*x509.Certificate { return []*x509.Certificate{c.inter, c.root} }

func (c caChain) p12(t testing.TB, password string) []byte {
	t.Helper()
	data, err := pkcs12.Modern.Encode(c.leafKey, c.leaf, c.cas(), password)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pemCerts returns the DER of every CERTIFICATE block of data, in order.
func pemCerts(t testing.TB, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" {
			t.Fatalf("unexpected %s block", b.Type)
		}
		out = append(out, b.Bytes)
	}
}

// storedCerts returns the certificates of a stored profile's certificate.pem.
func storedCerts(t testing.TB, m *Manager, id string) [][]byte {
	t.Helper()
	rec, _, ok := m.view(0).find(id)
	if !ok {
		t.Fatalf("profile %s not found", id)
	}
	b, err := os.ReadFile(filepath.Join(m.Dir(), rec.dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	return pemCerts(t, b)
}

func wantDER(certs ...*x509.Certificate) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	return out
}

func sameDER(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// checkP12Chain exports id as PKCS#12 and checks, with DecodeChain, that it
// holds leaf and exactly the CA certificates cas.
func checkP12Chain(t *testing.T, m *Manager, id string, leaf *x509.Certificate, cas []*x509.Certificate) {
	t.Helper()
	data, err := m.ExportPKCS12(id, "export pw")
	if err != nil {
		t.Fatal(err)
	}
	key, cert, got, err := pkcs12.DecodeChain(data, "export pw")
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Equal(leaf) {
		t.Fatalf("PKCS#12 certificate %s, want %s", cert.Subject, leaf.Subject)
	}
	if pub, ok := key.(*ecdsa.PrivateKey); !ok || !pub.PublicKey.Equal(leaf.PublicKey) {
		t.Fatal("the PKCS#12 key is not the certificate's")
	}
	if !sameDER(wantDER(got...), wantDER(cas...)) {
		t.Fatalf("PKCS#12 CA certificates: %d, want %d (%v)", len(got), len(cas), got)
	}
}

func TestImportKeepsChain(t *testing.T) {
	ctx := context.Background()
	c := newCAChain(t)
	keyBytes := keyPEM(t, c.leafKey)
	tests := []struct {
		name     string
		data     []byte
		password string
	}{
		{"PKCS#12 (modern)", c.p12(t, "p12 pw"), "p12 pw"},
		{"PKCS#12, CA certificates written first", func() []byte {
			// Some tools put the CA bags first: the key's certificate must
			// still lead.
			d, err := pkcs12.LegacyDES.Encode(c.leafKey, c.root, []*x509.Certificate{c.inter, c.leaf}, "p12 pw")
			if err != nil {
				t.Fatal(err)
			}
			return d
		}(), "p12 pw"},
		{"PEM leaf, chain, key", append(append(certPEM(c.leaf), append(certPEM(c.inter), certPEM(c.root)...)...), keyBytes...), ""},
		{"PEM key, root, intermediate, leaf", append(append(keyBytes, certPEM(c.root)...), append(certPEM(c.inter), certPEM(c.leaf)...)...), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestManager(t, t.TempDir())
			res, err := m.Import(ctx, tc.data, tc.password, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Imported) != 1 {
				t.Fatalf("imported %+v", res)
			}
			info := res.Imported[0]
			// The profile's certificate is the leaf: subject, issuer, validity.
			if info.Status != certcheck.StatusValid || info.SelfSigned || !info.HasKey ||
				info.Subject != c.leaf.Subject.String() || info.Issuer != c.inter.Subject.String() ||
				!info.NotAfter.Equal(c.leaf.NotAfter) {
				t.Fatalf("imported %+v", info)
			}
			if got := storedCerts(t, m, info.ID); !sameDER(got, wantDER(c.leaf, c.inter, c.root)) {
				t.Fatalf("certificate.pem holds %d certificates, want leaf, intermediate, root", len(got))
			}
			checkP12Chain(t, m, info.ID, c.leaf, c.cas())
			// "Copy to file" stays the leaf alone; pem-chain asks for the chain.
			for _, f := range []struct {
				format string
				want   [][]byte
			}{
				{FormatPEM, wantDER(c.leaf)},
				{FormatPEMChain, wantDER(c.leaf, c.inter, c.root)},
			} {
				out, err := m.ExportProfile(ctx, info.ID, f.format, "")
				if err != nil {
					t.Fatal(err)
				}
				if got := pemCerts(t, out); !sameDER(got, f.want) {
					t.Errorf("%s export: %d certificates, want %d", f.format, len(got), len(f.want))
				}
			}
			if der, err := m.ExportCertificate(info.ID, FormatDER); err != nil || !bytes.Equal(der, c.leaf.Raw) {
				t.Errorf("der export: %v", err)
			}
			// The exported PKCS#12 imports again as the same credentials.
			p12, err := m.ExportPKCS12(info.ID, "again")
			if err != nil {
				t.Fatal(err)
			}
			if res, err := m.Import(ctx, p12, "again", ImportOptions{}); err != nil || len(res.Skipped) != 1 {
				t.Errorf("re-import of the export: %+v %v", res, err)
			}
		})
	}
}

func TestImportRefusesLongChain(t *testing.T) {
	ctx := context.Background()
	c := newCAChain(t)
	var cas []*x509.Certificate
	for range certcheck.MaxChain + 1 {
		k := newKey(t)
		cas = append(cas, makeCert(t, k, certSpec{cn: "Some CA", keyUsage: x509.KeyUsageCertSign, isCA: true}))
	}
	p12, err := pkcs12.Modern.Encode(c.leafKey, c.leaf, cas, "pw")
	if err != nil {
		t.Fatal(err)
	}
	pemData := certPEM(c.leaf)
	for _, ca := range cas {
		pemData = append(pemData, certPEM(ca)...)
	}
	pemData = append(pemData, keyPEM(t, c.leafKey)...)
	tests := []struct {
		name, password string
		data           []byte
	}{
		{"PKCS#12", "pw", p12},
		{"PEM", "", pemData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "profiles")
			m := newTestManager(t, dir)
			_, err := m.Import(ctx, tc.data, tc.password, ImportOptions{})
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "more than 10 chain certificates") {
				t.Fatalf("error %v", err)
			}
			if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
				t.Fatalf("a refused import wrote: %v", folderState(t, dir))
			}
		})
	}
}

func TestChainOnDisk(t *testing.T) {
	c := newCAChain(t)
	leafKey := keyPEM(t, c.leafKey)
	damaged := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.inter.Raw[:len(c.inter.Raw)-40]})
	var long []byte
	for range certcheck.MaxChain + 1 {
		long = append(long, certPEM(c.root)...)
	}
	p12Chain, err := pkcs12.Modern.Encode(c.leafKey, c.leaf, c.cas(), "")
	if err != nil {
		t.Fatal(err)
	}
	self := newKey(t)
	selfCert := makeCert(t, self, certSpec{cn: "Old Profile"})
	tests := []struct {
		name       string
		files      map[string][]byte
		wantLeaf   *x509.Certificate
		wantChain  []*x509.Certificate
		wantReason string // non-empty: invalid with this reason
	}{
		{"leaf-only certificate.pem (older profiles)", map[string][]byte{CertFile: certPEM(selfCert), KeyFile: keyPEM(t, self)}, selfCert, nil, ""},
		{"leaf-only certificate.der", map[string][]byte{"certificate.der": selfCert.Raw, KeyFile: keyPEM(t, self)}, selfCert, nil, ""},
		{"leaf and chain", map[string][]byte{CertFile: append(certPEM(c.leaf), append(certPEM(c.inter), certPEM(c.root)...)...), KeyFile: leafKey}, c.leaf, c.cas(), ""},
		{"profile.p12 with its chain", map[string][]byte{PKCS12File: p12Chain}, c.leaf, c.cas(), ""},
		{"damaged chain certificate", map[string][]byte{CertFile: append(append(certPEM(c.leaf), damaged...), certPEM(c.root)...), KeyFile: leafKey}, nil, nil,
			"certificate.pem: chain certificate 1 (certificate 2 of the file): malformed"},
		{"too many chain certificates", map[string][]byte{CertFile: append(certPEM(c.leaf), long...), KeyFile: leafKey}, nil, nil,
			"certificate.pem: more than 10 chain certificates"},
		// The first certificate is the profile's: a CA certificate first is
		// not reordered but judged (and refused) as the profile's.
		{"chain before the leaf", map[string][]byte{CertFile: append(certPEM(c.inter), certPEM(c.leaf)...), KeyFile: leafKey}, c.inter, nil,
			"key usage allows neither"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeProfileDir(t, dir, "p", testNow, tc.files)
			m := newTestManager(t, dir)
			info, err := m.Get("p", 0)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantReason != "" {
				if info.Status != certcheck.StatusInvalid || !strings.Contains(info.Reason, tc.wantReason) {
					t.Fatalf("status %s, reason %q; want invalid with %q", info.Status, info.Reason, tc.wantReason)
				}
				if tc.wantLeaf != nil && info.Subject != tc.wantLeaf.Subject.String() {
					t.Errorf("subject %q, want the first certificate's %q", info.Subject, tc.wantLeaf.Subject)
				}
				// Never a PKCS#12 without the chain, or with the wrong certificate.
				if _, err := m.ExportPKCS12("p", "pw"); !errors.Is(err, ErrConflict) {
					t.Errorf("PKCS#12 export of an invalid profile: %v", err)
				}
				return
			}
			if info.Status != certcheck.StatusValid || info.Subject != tc.wantLeaf.Subject.String() {
				t.Fatalf("profile %+v", info)
			}
			checkP12Chain(t, m, "p", tc.wantLeaf, tc.wantChain)
			out, err := m.ExportCertificate("p", FormatPEMChain)
			if err != nil {
				t.Fatal(err)
			}
			if got := pemCerts(t, out); !sameDER(got, wantDER(append([]*x509.Certificate{tc.wantLeaf}, tc.wantChain...)...)) {
				t.Errorf("pem-chain export: %d certificates", len(got))
			}
		})
	}
}

func TestBundleKeepsChain(t *testing.T) {
	ctx := context.Background()
	const pass = "a long enough passphrase"
	c := newCAChain(t)
	src := newTestManager(t, t.TempDir())
	res, err := src.Import(ctx, c.p12(t, "pw"), "pw", ImportOptions{Name: "Notary"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Imported[0].ID
	if _, err := src.Create(ctx, CreateRequest{Owner: "Jeanne Dupont", Name: "Self"}); err != nil {
		t.Fatal(err)
	}
	migration, err := src.ExportBundle(ctx, pass)
	if err != nil {
		t.Fatal(err)
	}
	single, err := src.ExportProfile(ctx, id, FormatProfile, pass)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		data      []byte
		wantCount int
	}{
		{"migration bundle", migration, 2},
		{"profile export", single, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := newTestManager(t, t.TempDir())
			res, err := dst.Import(ctx, tc.data, pass, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Imported) != tc.wantCount || len(dst.List(0)) != tc.wantCount {
				t.Fatalf("imported %+v", res)
			}
			if got := storedCerts(t, dst, id); !sameDER(got, wantDER(c.leaf, c.inter, c.root)) {
				t.Fatalf("certificate.pem after the round trip holds %d certificates, want 3", len(got))
			}
			if info, err := dst.Get(id, 0); err != nil || info.Status != certcheck.StatusValid || info.Name != "Notary" {
				t.Fatalf("%+v %v", info, err)
			}
			checkP12Chain(t, dst, id, c.leaf, c.cas())
		})
	}
}

func TestExportRoutePEMChain(t *testing.T) {
	c := newCAChain(t)
	m := newTestManager(t, t.TempDir())
	res, err := m.Import(context.Background(), c.p12(t, "pw"), "pw", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Imported[0].ID
	tests := []struct {
		format    string
		wantCerts int
		wantName  string
	}{
		{FormatPEM, 1, id + ".pem"},
		{FormatPEMChain, 3, id + ".chain.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			w := call(t, serve(m), "POST", "/v1/profiles/"+id+"/export", ExportRequest{Format: tc.format})
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/x-pem-file" {
				t.Errorf("content type %q", ct)
			}
			if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, `"`+tc.wantName+`"`) {
				t.Errorf("content disposition %q", cd)
			}
			if n := len(pemCerts(t, w.Body.Bytes())); n != tc.wantCerts {
				t.Errorf("%d certificates, want %d", n, tc.wantCerts)
			}
		})
	}
}
