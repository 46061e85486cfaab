package profiles

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/entitle/entitle/agent/profiles/certcheck"
)

func TestScanStatuses(t *testing.T) {
	caKey := newKey(t)
	ca := makeCert(t, caKey, certSpec{cn: "Test CA", isCA: true, keyUsage: x509.KeyUsageCertSign})
	dir := t.TempDir()
	day := 24 * time.Hour
	p12Key := newKey(t)
	p12Cert := makeCert(t, p12Key, certSpec{cn: "P12 Owner"})
	openP12, err := pkcs12.Passwordless.Encode(p12Key, p12Cert, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	lockedP12, err := pkcs12.Modern.Encode(p12Key, p12Cert, nil, "secret-password")
	if err != nil {
		t.Fatal(err)
	}
	mismatch := goodFiles(t, certSpec{})
	mismatch[KeyFile] = keyPEM(t, newKey(t))
	caIssued := newKey(t)
	tests := []struct {
		id         string
		files      map[string][]byte
		status     string
		reason     string // substring
		selfSigned bool
		hasKey     bool
	}{
		{id: "valid", files: goodFiles(t, certSpec{}), status: certcheck.StatusValid, reason: "valid from 2025-03-01 until 2028-03-01", selfSigned: true, hasKey: true},
		{id: "expired", files: goodFiles(t, certSpec{notAfter: testNow.Add(-day)}), status: certcheck.StatusExpired, reason: "expired on", selfSigned: true, hasKey: true},
		{id: "notyet", files: goodFiles(t, certSpec{notBefore: testNow.Add(day)}), status: certcheck.StatusNotYetValid, selfSigned: true, hasKey: true},
		{id: "expiring", files: goodFiles(t, certSpec{notAfter: testNow.Add(10 * day)}), status: certcheck.StatusExpiring, reason: "expires in 10 days", selfSigned: true, hasKey: true},
		{id: "ca-issued", files: map[string][]byte{
			CertFile: append(certPEM(makeCert(t, caIssued, certSpec{cn: "Employee", issuer: ca, issuerKey: caKey})), certPEM(ca)...),
			KeyFile:  keyPEM(t, caIssued),
		}, status: certcheck.StatusValid, selfSigned: false, hasKey: true},
		{id: "wrong-usage", files: goodFiles(t, certSpec{keyUsage: x509.KeyUsageKeyEncipherment}), status: certcheck.StatusInvalid, reason: "key usage", selfSigned: true, hasKey: true},
		{id: "wrong-eku", files: goodFiles(t, certSpec{extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}), status: certcheck.StatusInvalid, reason: "extended key usage", selfSigned: true, hasKey: true},
		{id: "mismatch", files: mismatch, status: certcheck.StatusInvalid, reason: "does not match", selfSigned: true, hasKey: true},
		{id: "no-key", files: map[string][]byte{CertFile: certPEM(p12Cert)}, status: certcheck.StatusInvalid, reason: "no private key", selfSigned: true},
		{id: "bad-pem", files: map[string][]byte{CertFile: []byte("-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n"), KeyFile: keyPEM(t, p12Key)}, status: certcheck.StatusInvalid, reason: "certificate.pem", hasKey: true},
		{id: "der-cert", files: map[string][]byte{"certificate.der": p12Cert.Raw, KeyFile: keyPEM(t, p12Key)}, status: certcheck.StatusValid, selfSigned: true, hasKey: true},
		{id: "p12-open", files: map[string][]byte{PKCS12File: openP12}, status: certcheck.StatusValid, selfSigned: true, hasKey: true},
		{id: "p12-locked", files: map[string][]byte{PKCS12File: lockedP12}, status: certcheck.StatusInvalid, reason: "encrypted PKCS#12: key present but locked", hasKey: true},
		{id: "p12-bad", files: map[string][]byte{PKCS12File: []byte("\x30\x82junk junk junk")}, status: certcheck.StatusInvalid, reason: "profile.p12"},
		{id: "bad-json", files: map[string][]byte{MetaFile: []byte(`{"format":1,"id":`), CertFile: certPEM(p12Cert), KeyFile: keyPEM(t, p12Key)}, status: certcheck.StatusInvalid, reason: "not valid JSON", selfSigned: true, hasKey: true},
		{id: "no-meta", files: map[string][]byte{MetaFile: nil, CertFile: certPEM(p12Cert), KeyFile: keyPEM(t, p12Key)}, status: certcheck.StatusInvalid, reason: "not valid JSON", selfSigned: true, hasKey: true},
	}
	for i, tc := range tests {
		writeProfileDir(t, dir, tc.id, testNow.Add(time.Duration(i)*time.Second), tc.files)
	}
	// The "no-meta" case: remove the generated profile.json after the fact.
	os.Remove(filepath.Join(dir, "no-meta", MetaFile))
	// Adopted (issue 13): a folder with a usable certificate and key is a
	// profile even without profile.json.
	tests[len(tests)-1].status, tests[len(tests)-1].reason = certcheck.StatusValid, "valid from"

	m := newTestManager(t, dir)
	got := byID(m.List(0))
	if len(got) != len(tests) {
		t.Fatalf("listed %d profiles, want %d", len(got), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			p, ok := got[tc.id]
			if !ok {
				t.Fatalf("profile %s not listed", tc.id)
			}
			if p.Status != tc.status || !strings.Contains(p.Reason, tc.reason) {
				t.Errorf("status %q reason %q, want %q containing %q", p.Status, p.Reason, tc.status, tc.reason)
			}
			if p.SelfSigned != tc.selfSigned || p.HasKey != tc.hasKey {
				t.Errorf("self-signed %v has-key %v, want %v %v", p.SelfSigned, p.HasKey, tc.selfSigned, tc.hasKey)
			}
		})
	}
	if p := got["ca-issued"]; p.Issuer != "CN=Test CA" || p.Subject != "CN=Employee" || p.Serial == "" || p.NotAfter == nil {
		t.Errorf("ca-issued facts: %+v", p)
	}
	st := m.Status(0)
	if st.Count != len(tests) || st.Expired != 1 || st.Expiring != 1 || st.Invalid != 8 {
		t.Errorf("status counts %+v", st)
	}
	sum := m.Summary(0)
	if sum.Total != len(tests) || sum.Valid != 5 || sum.Invalid != 8 || sum.EarliestCertUntil == 0 {
		t.Errorf("summary %+v", sum)
	}
}

func TestScanRefusesLinksAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.pem")
	if err := os.WriteFile(secret, []byte("outside data"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A key file symlinked to a file outside the folder.
	files := goodFiles(t, certSpec{})
	files[KeyFile] = nil
	writeProfileDir(t, dir, "linked-key", testNow, files)
	if err := os.Symlink(secret, filepath.Join(dir, "linked-key", KeyFile)); err != nil {
		t.Fatal(err)
	}
	// A whole profile folder that is a symlink to a valid profile elsewhere.
	writeProfileDir(t, outside, "elsewhere", testNow, goodFiles(t, certSpec{}))
	if err := os.Symlink(filepath.Join(outside, "elsewhere"), filepath.Join(dir, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	// A 100 MB sparse junk certificate.
	files = goodFiles(t, certSpec{})
	files[CertFile] = nil
	writeProfileDir(t, dir, "huge", testNow, files)
	f, err := os.Create(filepath.Join(dir, "huge", CertFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	writeProfileDir(t, dir, "fine", testNow.Add(time.Second), goodFiles(t, certSpec{}))

	m := newTestManager(t, dir)
	start := time.Now()
	got := byID(m.List(0))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("scan took %s: the huge file was read", d)
	}
	for id, want := range map[string]string{
		"linked-key": "key.pem is a symbolic link pointing outside the profile folder",
		"elsewhere":  "the profile folder is a symbolic link",
		"huge":       "file too large",
	} {
		if p := got[id]; p.Status != certcheck.StatusInvalid || !strings.Contains(p.Reason, want) {
			t.Errorf("%s: status %q reason %q, want invalid with %q", id, p.Status, p.Reason, want)
		}
	}
	if got["fine"].Status != certcheck.StatusValid {
		t.Errorf("fine: %+v", got["fine"])
	}
}

func TestPlanLimitAndDefault(t *testing.T) {
	dir := t.TempDir()
	for i, id := range []string{"a-oldest", "b-middle", "c-newest"} {
		writeProfileDir(t, dir, id, testNow.Add(time.Duration(i)*time.Hour), goodFiles(t, certSpec{}))
	}
	writeProfileDir(t, dir, "broken", testNow.Add(-time.Hour), map[string][]byte{CertFile: []byte("junk")})
	if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte("c-newest\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, dir)
	tests := []struct {
		max        int
		unlicensed []string
	}{
		{0, nil},
		{5, nil},
		{2, []string{"b-middle"}},
		{1, []string{"a-oldest", "b-middle"}},
	}
	for _, tc := range tests {
		list := m.List(tc.max)
		if list[0].ID != "c-newest" || !list[0].Default {
			t.Fatalf("max %d: default not first: %+v", tc.max, list[0])
		}
		if d := defaults(list); len(d) != 1 {
			t.Fatalf("defaults %v", d)
		}
		var un []string
		for _, p := range list {
			if p.Status == certcheck.StatusUnlicensed {
				un = append(un, p.ID)
				if p.Licensed || p.Reason == "" {
					t.Errorf("unlicensed profile %+v", p)
				}
			}
		}
		if strings.Join(un, ",") != strings.Join(tc.unlicensed, ",") {
			t.Errorf("max %d: unlicensed %v, want %v", tc.max, un, tc.unlicensed)
		}
		if got := byID(list)["broken"].Status; got != certcheck.StatusInvalid {
			t.Errorf("broken profile: %s", got)
		}
	}
	if want := "your plan allows 1 profiles; this one is beyond the limit"; byID(m.List(1))["a-oldest"].Reason != want {
		t.Errorf("reason %q", byID(m.List(1))["a-oldest"].Reason)
	}
	// A stale default file: the oldest usable profile is the default.
	if err := os.WriteFile(filepath.Join(dir, DefaultFile), []byte("gone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Rescan()
	if d := defaults(m.List(0)); len(d) != 1 || d[0] != "a-oldest" {
		t.Errorf("fallback default %v", d)
	}
}
