package certcheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

func cert(t testing.TB, ku x509.KeyUsage, eku []x509.ExtKeyUsage, unknown []asn1.ObjectIdentifier) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "T"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: ku, ExtKeyUsage: eku, UnknownExtKeyUsage: unknown}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return k, c
}

func TestSigningUsage(t *testing.T) {
	tests := []struct {
		name    string
		ku      x509.KeyUsage
		eku     []x509.ExtKeyUsage
		unknown []asn1.ObjectIdentifier
		ok      bool
	}{
		{"digitalSignature", x509.KeyUsageDigitalSignature, nil, nil, true},
		{"contentCommitment", x509.KeyUsageContentCommitment, nil, nil, true},
		{"no key usage extension", 0, nil, nil, true},
		{"encipherment only", x509.KeyUsageKeyEncipherment, nil, nil, false},
		{"email protection", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, nil, true},
		{"code signing", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, nil, true},
		{"any", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, nil, true},
		{"server auth only", x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, nil, false},
		{"document signing OID", x509.KeyUsageDigitalSignature, nil, []asn1.ObjectIdentifier{OIDDocumentSigning}, true},
		{"Adobe OID", x509.KeyUsageDigitalSignature, nil, []asn1.ObjectIdentifier{OIDAdobeAuthenticDocument}, true},
		{"unknown OID", x509.KeyUsageDigitalSignature, nil, []asn1.ObjectIdentifier{{1, 2, 3}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, c := cert(t, tc.ku, tc.eku, tc.unknown)
			if err := SigningUsage(c); (err == nil) != tc.ok {
				t.Fatalf("SigningUsage = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	nb := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	w := 30 * 24 * time.Hour
	tests := []struct {
		now  time.Time
		want string
	}{
		{nb.Add(-time.Second), StatusNotYetValid},
		{nb, StatusValid},
		{na.Add(-31 * 24 * time.Hour), StatusValid},
		{na.Add(-29 * 24 * time.Hour), StatusExpiring},
		{na, StatusExpiring},
		{na.Add(time.Second), StatusExpired},
	}
	for _, tc := range tests {
		if got, _ := Evaluate(nb, na, tc.now, w); got != tc.want {
			t.Errorf("at %s: %s, want %s", tc.now, got, tc.want)
		}
	}
}

func TestPKCS12AndKeys(t *testing.T) {
	k, c := cert(t, x509.KeyUsageDigitalSignature, nil, nil)
	locked, _ := pkcs12.Modern.Encode(k, c, nil, "pw")
	if _, _, _, err := ParsePKCS12(context.Background(), locked, ""); !errors.Is(err, ErrLocked) {
		t.Errorf("no password: %v", err)
	}
	if _, _, _, err := ParsePKCS12(context.Background(), locked, "bad"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("bad password: %v", err)
	}
	key, got, chain, err := ParsePKCS12(context.Background(), locked, "pw")
	if err != nil || len(chain) != 0 || KeyMatches(got, key) != nil || !SelfSigned(got) || Serial(got) != "2a" {
		t.Fatalf("open: %v", err)
	}
	defaultPW, _ := pkcs12.Modern.Encode(k, c, nil, pkcs12.DefaultPassword)
	if _, _, _, err := ParsePKCS12(context.Background(), defaultPW, ""); err != nil {
		t.Errorf("default password: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if KeyMatches(c, other) == nil {
		t.Error("a foreign key matched")
	}
	if _, err := ParsePEM([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")); !errors.Is(err, ErrLocked) {
		t.Errorf("encrypted PEM: %v", err)
	}
	if _, err := ParseCertificate([]byte("junk")); err == nil {
		t.Error("junk parsed")
	}
}
