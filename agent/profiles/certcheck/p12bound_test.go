package certcheck

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/entitle/entitle/agent/profiles/certcheck/p12test"
	"software.sslmate.com/src/go-pkcs12"
)

func TestParsePKCS12BoundsWork(t *testing.T) {
	k, c := cert(t, 0, nil, nil)
	costlyModern, err := pkcs12.Modern.WithIterations(MaxPKCS12Iterations+1).Encode(k, c, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	fine, err := pkcs12.Modern.WithIterations(4096).Encode(k, c, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := pkcs12.LegacyRC2.Encode(k, c, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		password string
		want     error // nil: opens
	}{
		{"MAC asks for 2^40 rounds, no password", p12test.CostlyPKCS12(t), "", ErrTooCostly},
		{"MAC asks for 2^40 rounds, a password", p12test.CostlyPKCS12(t), "pw", ErrTooCostly},
		{"PBES2 over the limit", costlyModern, "pw", ErrTooCostly},
		{"too large", append(fine, make([]byte, MaxPKCS12Size)...), "pw", ErrTooCostly},
		{"modern, 4096 rounds", fine, "pw", nil},
		{"legacy RC2", legacy, "pw", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			p12test.Within(t, "ParsePKCS12", func() { _, _, _, err = ParsePKCS12(context.Background(), tc.data, tc.password) })
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ParsePKCS12 = %v, want %v", err, tc.want)
			}
		})
	}
}

// A key bag inside a PBES2-encrypted safe is checked once the safe is
// decrypted: the MAC and the safe are cheap, the key is not.
func TestParsePKCS12BoundsNestedKeyBag(t *testing.T) {
	k, c := cert(t, 0, nil, nil)
	data, err := pkcs12.Modern.WithIterations(2048).Encode(k, c, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	shape, err := checkPKCS12Shape(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := shape.checkEncrypted("pw"); err != nil {
		t.Fatalf("a well-formed file: %v", err)
	}
	if shape.keyBags != 1 {
		t.Fatalf("key bags seen = %d, want 1 (the Modern encoder's key bag)", shape.keyBags)
	}
}

func FuzzCheckPKCS12Cost(f *testing.F) {
	f.Add(p12test.CostlyPKCS12(f), "")
	f.Add(nestedCostlyPKCS12(f, "pw"), "pw")
	k, c := cert(f, 0, nil, nil)
	if d, err := pkcs12.Modern.WithIterations(16).Encode(k, c, nil, "pw"); err == nil {
		f.Add(d, "pw")
	}
	if d, err := pkcs12.LegacyRC2.WithIterations(16).Encode(k, c, nil, ""); err == nil {
		f.Add(d, "")
	}
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		if len(data) > 1<<16 {
			return
		}
		if CheckPKCS12Cost(data, password) != nil {
			return
		}
		// Accepted: every count the library will use is within bounds, so
		// decoding must return (the fuzzer's own timeout catches a hang).
		_, _, _, _ = ParsePKCS12(context.Background(), data, password)
	})
}

// nestedCostlyPKCS12 builds a PKCS#12 whose MAC (SHA-1, 2048 rounds) and
// 3DES-encrypted safe are cheap and correct for password, while the key
// bag inside that safe asks for 2^40 rounds: the library would verify
// the MAC, decrypt the safe, then spin on the key.
func nestedCostlyPKCS12(t testing.TB, password string) []byte {
	t.Helper()
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pbe := func(iter int64) pkix.AlgorithmIdentifier {
		params := must(asn1.Marshal(p12PBEParams{Salt: []byte("saltsalt"), Iterations: iter}))
		return pkix.AlgorithmIdentifier{Algorithm: oidPBE3DES, Parameters: asn1.RawValue{FullBytes: params}}
	}
	keyBag := must(asn1.Marshal(p12EncryptedKey{Algorithm: pbe(1 << 40), Data: make([]byte, 16)}))
	bags := must(asn1.Marshal([]p12SafeBag{{ID: oidShroudedKey, Value: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: keyBag}}}))
	pw, _ := bmpPassword(password)
	key := legacyKDF([]byte("saltsalt"), pw, 2048, 1, 24)
	iv := legacyKDF([]byte("saltsalt"), pw, 2048, 2, 8)
	block, err := des.NewTripleDESCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	n := des.BlockSize - len(bags)%des.BlockSize
	plain := append(bags, bytes.Repeat([]byte{byte(n)}, n)...)
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
	ed := must(asn1.Marshal(struct {
		Version int
		Info    struct {
			ContentType asn1.ObjectIdentifier
			Alg         pkix.AlgorithmIdentifier
			Content     []byte `asn1:"tag:0,optional"`
		}
	}{Info: struct {
		ContentType asn1.ObjectIdentifier
		Alg         pkix.AlgorithmIdentifier
		Content     []byte `asn1:"tag:0,optional"`
	}{oidData, pbe(2048), enc}}))
	safes := must(asn1.Marshal([]p12ContentInfo{{ContentType: oidEncryptedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: ed}}}))
	macKey := legacyKDF([]byte("macsalt!"), pw, 2048, 3, 20)
	h := hmac.New(sha1.New, macKey)
	h.Write(safes)
	octets := must(asn1.Marshal(safes))
	return must(asn1.Marshal(p12PFX{
		Version:  3,
		AuthSafe: p12ContentInfo{ContentType: oidData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}},
		MacData: p12MacData{
			Mac:        p12DigestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, Parameters: asn1.NullRawValue}, Digest: h.Sum(nil)},
			MacSalt:    []byte("macsalt!"),
			Iterations: 2048,
		},
	}))
}

func TestParsePKCS12BoundsKeyInsideEncryptedSafe(t *testing.T) {
	for _, pw := range []string{"pw", ""} {
		data := nestedCostlyPKCS12(t, pw)
		var err error
		p12test.Within(t, "ParsePKCS12", func() { _, _, _, err = ParsePKCS12(context.Background(), data, pw) })
		if !errors.Is(err, ErrTooCostly) {
			t.Fatalf("password %q: ParsePKCS12 = %v, want ErrTooCostly for the key bag inside the 3DES safe", pw, err)
		}
	}
	// The legacy KDF agrees with the library: its 3DES safes decrypt.
	k, c := cert(t, 0, nil, nil)
	data, err := pkcs12.Legacy.Encode(k, c, nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	shape, err := checkPKCS12Shape(data)
	if err != nil || len(shape.encrypted) != 1 {
		t.Fatalf("shape: %v, %d encrypted safes", err, len(shape.encrypted))
	}
	e := shape.encrypted[0]
	plain, ok := decrypt3DES(e.ContentEncryptionAlgorithm, e.EncryptedContent, "pw")
	var bags []p12SafeBag
	if !ok {
		t.Fatal("the library's 3DES safe does not decrypt")
	}
	if _, err := asn1.Unmarshal(plain, &bags); err != nil || len(bags) == 0 {
		t.Fatalf("decrypted safe: %v, %d bags", err, len(bags))
	}
}

// RC2 safes (OpenSSL 1.x and old Windows exports put certificates in one)
// decrypt, so a key bag inside one is checked as well.
func TestRC2SafeDecrypts(t *testing.T) {
	k, c := cert(t, 0, nil, nil)
	for _, pw := range []string{"pw", ""} {
		data, err := pkcs12.LegacyRC2.Encode(k, c, []*x509.Certificate{c}, pw)
		if err != nil {
			t.Fatal(err)
		}
		shape, err := checkPKCS12Shape(data)
		if err != nil || len(shape.encrypted) != 1 {
			t.Fatalf("shape: %v, %d encrypted safes", err, len(shape.encrypted))
		}
		e := shape.encrypted[0]
		if !e.ContentEncryptionAlgorithm.Algorithm.Equal(oidPBERC240) {
			t.Fatalf("LegacyRC2 safe algorithm %v", e.ContentEncryptionAlgorithm.Algorithm)
		}
		plain, ok := decryptRC2(e.ContentEncryptionAlgorithm, e.EncryptedContent, pw)
		if !ok {
			t.Fatalf("password %q: the library's RC2 safe does not decrypt", pw)
		}
		var bags []p12SafeBag
		if _, err := asn1.Unmarshal(plain, &bags); err != nil || len(bags) != 2 {
			t.Fatalf("decrypted RC2 safe: %v, %d bags (want the 2 certificate bags)", err, len(bags))
		}
	}
}

// BenchmarkRefuseCostlyPKCS12 measures what the 76-byte file of issue 16
// costs now (before: 2^40 SHA-1 rounds, days of CPU).
func BenchmarkRefuseCostlyPKCS12(b *testing.B) {
	data := p12test.CostlyPKCS12(b)
	for b.Loop() {
		if _, _, _, err := ParsePKCS12(context.Background(), data, ""); !errors.Is(err, ErrTooCostly) {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenModernPKCS12 is the cost of opening an ordinary file
// (2,048 rounds), check included.
func BenchmarkOpenModernPKCS12(b *testing.B) {
	k, c := cert(b, 0, nil, nil)
	data, err := pkcs12.Modern.Encode(k, c, nil, "pw")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, _, err := ParsePKCS12(context.Background(), data, "pw"); err != nil {
			b.Fatal(err)
		}
	}
}
