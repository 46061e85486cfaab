// Package p12test builds hostile PKCS#12 files for the tests of the packages
// that parse them (certcheck, profiles), and a guard that fails a test whose
// call hangs. Only tests import it.
package p12test

import (
	"encoding/asn1"
	"testing"
	"time"
)

// CostlyPKCS12 is a 76-byte PKCS#12 file whose legacy SHA-1 MAC asks for
// 2^40 key-derivation rounds (issue 16: it kept the agent at 100% CPU).
func CostlyPKCS12(t testing.TB) []byte {
	t.Helper()
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	type digestInfo struct {
		Algorithm algID
		Digest    []byte
	}
	type macData struct {
		Mac        digestInfo
		Salt       []byte
		Iterations int64
	}
	type contentInfo struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	type pfx struct {
		Version  int
		AuthSafe contentInfo
		MacData  macData
	}
	emptySafe, _ := asn1.Marshal([]contentInfo{})
	octets, _ := asn1.Marshal(emptySafe)
	der, err := asn1.Marshal(pfx{
		Version: 3,
		AuthSafe: contentInfo{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, Content: asn1.RawValue{
			Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}},
		MacData: macData{
			Mac:        digestInfo{Algorithm: algID{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, Parameters: asn1.NullRawValue}, Digest: make([]byte, 20)},
			Salt:       make([]byte, 5),
			Iterations: 1 << 40,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(der) != 76 {
		t.Fatalf("crafted file is %d bytes, want 76", len(der))
	}
	return der
}

// Within runs f and fails the test if it has not returned after a generous
// deadline: a hang, not a speed target.
func Within(t testing.TB, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not return: the work is not bounded", what)
	}
}
