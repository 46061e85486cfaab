package certcheck

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// testPKI is a leaf issued by an intermediate CA issued by a root CA.
type testPKI struct {
	rootKey, interKey, leafKey *ecdsa.PrivateKey
	root, inter, leaf          *x509.Certificate
}

func issue(t *testing.T, serial int64, cn string, ca bool, pub *ecdsa.PublicKey, parent *x509.Certificate, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: ca,
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newPKI(t *testing.T) testPKI {
	t.Helper()
	var p testPKI
	for _, k := range []**ecdsa.PrivateKey{&p.rootKey, &p.interKey, &p.leafKey} {
		var err error
		if *k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	p.root = issue(t, 1, "Test Root", true, &p.rootKey.PublicKey, nil, p.rootKey)
	p.inter = issue(t, 2, "Test Intermediate", true, &p.interKey.PublicKey, p.root, p.rootKey)
	p.leaf = issue(t, 3, "Test Signer", false, &p.leafKey.PublicKey, p.inter, p.interKey)
	return p
}

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func sameCerts(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestParseCertificates(t *testing.T) {
	p := newPKI(t)
	damaged := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.inter.Raw[:len(p.inter.Raw)/2]})
	var tooMany []*x509.Certificate
	for range MaxChain + 1 {
		tooMany = append(tooMany, p.root)
	}
	tests := []struct {
		name      string
		data      []byte
		wantChain []*x509.Certificate
		wantErr   string
	}{
		{"leaf only (PEM)", pemOf(p.leaf), nil, ""},
		{"leaf only (DER)", p.leaf.Raw, nil, ""},
		{"leaf and chain", pemOf(p.leaf, p.inter, p.root), []*x509.Certificate{p.inter, p.root}, ""},
		{"other blocks ignored", append(pemOf(p.leaf, p.inter), []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")...), []*x509.Certificate{p.inter}, ""},
		{"chain of MaxChain", pemOf(append([]*x509.Certificate{p.leaf}, tooMany[:MaxChain]...)...), tooMany[:MaxChain], ""},
		{"damaged chain certificate", append(pemOf(p.leaf), damaged...), nil, "chain certificate 1 (certificate 2 of the file): malformed"},
		{"damaged last chain certificate", append(pemOf(p.leaf, p.inter), damaged...), nil, "chain certificate 2 (certificate 3 of the file): malformed"},
		{"damaged leaf", append(damaged, pemOf(p.leaf)...), nil, "malformed certificate"},
		{"chain too long", pemOf(append([]*x509.Certificate{p.leaf}, tooMany...)...), nil, "more than 10 chain certificates"},
		{"no certificate", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), nil, "no CERTIFICATE block"},
		{"junk DER", []byte("junk"), nil, "not a PEM or DER certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf, chain, err := ParseCertificates(tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !leaf.Equal(p.leaf) || !sameCerts(chain, tc.wantChain) {
				t.Fatalf("leaf %s, chain of %d; want %s and %d", leaf.Subject, len(chain), p.leaf.Subject, len(tc.wantChain))
			}
		})
	}
	if _, _, err := ParseCertificates(pemOf(append([]*x509.Certificate{p.leaf}, tooMany...)...)); !errors.Is(err, ErrChainTooLong) {
		t.Errorf("too long: %v, want ErrChainTooLong", err)
	}
}

func TestLeafFirst(t *testing.T) {
	p := newPKI(t)
	other := issue(t, 9, "Unrelated CA", true, &p.rootKey.PublicKey, nil, p.rootKey)
	var tooMany []*x509.Certificate
	for i := range MaxChain + 1 {
		tooMany = append(tooMany, issue(t, int64(100+i), "CA", true, &p.rootKey.PublicKey, nil, p.rootKey))
	}
	foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		key       crypto.Signer
		certs     []*x509.Certificate
		wantLeaf  *x509.Certificate
		wantChain []*x509.Certificate
		wantErr   error
	}{
		{"in order", p.leafKey, []*x509.Certificate{p.leaf, p.inter, p.root}, p.leaf, []*x509.Certificate{p.inter, p.root}, nil},
		{"root first", p.leafKey, []*x509.Certificate{p.root, p.inter, p.leaf}, p.leaf, []*x509.Certificate{p.inter, p.root}, nil},
		{"shuffled, with an unrelated CA", p.leafKey, []*x509.Certificate{other, p.root, p.leaf, p.inter}, p.leaf, []*x509.Certificate{p.inter, p.root, other}, nil},
		{"duplicates dropped", p.leafKey, []*x509.Certificate{p.leaf, p.inter, p.leaf, p.inter, p.root}, p.leaf, []*x509.Certificate{p.inter, p.root}, nil},
		{"leaf only", p.leafKey, []*x509.Certificate{p.leaf}, p.leaf, nil, nil},
		{"no certificate of the key: the first leads", foreign, []*x509.Certificate{p.inter, p.leaf}, p.inter, []*x509.Certificate{p.leaf}, nil},
		{"exactly MaxChain", p.leafKey, append([]*x509.Certificate{p.leaf}, tooMany[:MaxChain]...), p.leaf, tooMany[:MaxChain], nil},
		{"too many", p.leafKey, append([]*x509.Certificate{p.leaf}, tooMany...), nil, nil, ErrChainTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf, chain, err := LeafFirst(tc.key, tc.certs)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !leaf.Equal(tc.wantLeaf) || !sameCerts(chain, tc.wantChain) {
				t.Fatalf("leaf %s, chain %v", leaf.Subject, subjects(chain))
			}
		})
	}
	if _, _, err := LeafFirst(p.leafKey, nil); err == nil {
		t.Error("no certificate accepted")
	}
}

func subjects(cs []*x509.Certificate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Subject.CommonName
	}
	return out
}

func TestParsePKCS12Chain(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name      string
		cert      *x509.Certificate // the first certificate bag
		ca        []*x509.Certificate
		wantChain []*x509.Certificate
		wantErr   error
	}{
		{"leaf only", p.leaf, nil, nil, nil},
		{"chain of 2", p.leaf, []*x509.Certificate{p.inter, p.root}, []*x509.Certificate{p.inter, p.root}, nil},
		// Some tools write the CA certificates before the key's.
		{"CA certificates first", p.root, []*x509.Certificate{p.inter, p.leaf}, []*x509.Certificate{p.inter, p.root}, nil},
		{"too many", p.leaf, nil, nil, ErrChainTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// LeafFirst drops byte-identical copies: "too many" needs
			// distinct CA certificates.
			ca := tc.ca
			if tc.wantErr != nil {
				ca = nil
				for i := range MaxChain + 1 {
					ca = append(ca, issue(t, int64(200+i), "CA", true, &p.rootKey.PublicKey, nil, p.rootKey))
				}
			}
			data, err := pkcs12.Modern.Encode(p.leafKey, tc.cert, ca, "pw")
			if err != nil {
				t.Fatal(err)
			}
			key, leaf, chain, err := ParsePKCS12(context.Background(), data, "pw")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !leaf.Equal(p.leaf) || KeyMatches(leaf, key) != nil || !sameCerts(chain, tc.wantChain) {
				t.Fatalf("leaf %s, chain %v", leaf.Subject, subjects(chain))
			}
		})
	}
}

func TestParsePEMKeepsFileOrder(t *testing.T) {
	p := newPKI(t)
	// ParsePEM keeps every certificate in file order (the importer then
	// puts the key's first).
	items, err := ParsePEM(pemOf(p.root, p.leaf, p.inter))
	if err != nil || len(items.Certs) != 3 || !bytes.Equal(items.Certs[0].Raw, p.root.Raw) {
		t.Fatalf("ParsePEM: %v", err)
	}
}
