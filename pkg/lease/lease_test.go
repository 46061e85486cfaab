package lease

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var (
	testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	fprA    = strings.Repeat("ab", 32)
	fprB    = strings.Repeat("cd", 32)
)

func testClaims() Claims {
	return Claims{
		Issuer:      "https://licensing.example",
		Subject:     "dev_1",
		ID:          "lease_1",
		IssuedAt:    testNow.Unix(),
		NotBefore:   testNow.Unix(),
		Expiry:      testNow.Add(7 * 24 * time.Hour).Unix(),
		CheckinAt:   testNow.Add(15 * time.Minute).Unix(),
		Fingerprint: fprA,
		Product:     "entitle-signing",
		License: License{
			ID: "lic_1", Plan: "Pro", Features: []string{"sign", "timestamp"},
			MaxProfiles: 5, TermEnd: testNow.Add(365 * 24 * time.Hour).Unix(),
		},
		Account: "demo@entitle.local",
	}
}

func newSigner(t testing.TB) (*Signer, *KeySet) {
	t.Helper()
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return s, ks
}

func TestRoundTrip(t *testing.T) {
	s, ks := newSigner(t)
	tok, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Verify(tok, ks, fprA, testNow.Add(time.Hour))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.DeviceID() != "dev_1" || c.License.Plan != "Pro" || !c.HasFeature("sign") || c.HasFeature("nope") {
		t.Fatalf("claims not preserved: %+v", c)
	}
	if c.Audience != Audience {
		t.Fatalf("audience = %q", c.Audience)
	}
}

// resign builds a token with arbitrary header and payload, signed by key, so
// tests can forge every variant an attacker could produce with a real key.
func resign(t *testing.T, key ed25519.PrivateKey, kid, typ string, payload []byte) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := sg.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTamperingRejected(t *testing.T) {
	key, _ := GenerateKey()
	s, _ := NewSigner(key)
	ks, _ := NewKeySet(s.Public())
	otherKey, _ := GenerateKey()
	other, _ := NewSigner(otherKey)
	good, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	payload, _ := json.Marshal(func() Claims { c := testClaims(); c.Audience = Audience; return c }())

	flipPayload := func() string {
		c := testClaims()
		c.Audience = Audience
		c.License.MaxProfiles = 500
		b, _ := json.Marshal(c)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
	}
	flipSig := func() string {
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sig[0] ^= 1
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	wrongAud := func() string {
		c := testClaims()
		c.Audience = "something-else"
		b, _ := json.Marshal(c)
		return resign(t, key, s.KeyID(), Type, b)
	}
	alteredHeader := func() string {
		hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"` + other.KeyID() + `","typ":"` + Type + `"}`))
		return hdr + "." + parts[1] + "." + parts[2]
	}
	tests := []struct {
		name  string
		token string
		fpr   string
		now   time.Time
		want  error
	}{
		{"payload edited", flipPayload(), fprA, testNow, ErrBadSignature},
		{"signature edited", flipSig(), fprA, testNow, ErrBadSignature},
		{"signed by an unpinned key", resign(t, otherKey, other.KeyID(), Type, payload), fprA, testNow, ErrUnknownKey},
		{"key id swapped", alteredHeader(), fprA, testNow, ErrUnknownKey},
		{"unpinned key claiming the pinned key id", resign(t, otherKey, s.KeyID(), Type, payload), fprA, testNow, ErrBadSignature},
		{"no type header", resign(t, key, s.KeyID(), "", payload), fprA, testNow, ErrWrongType},
		{"another token type", resign(t, key, s.KeyID(), "JWT", payload), fprA, testNow, ErrWrongType},
		{"wrong audience", wrongAud(), fprA, testNow, ErrWrongType},
		{"another computer", good, fprB, testNow, ErrWrongDevice},
		{"issued in the future", good, fprA, testNow.Add(-6 * time.Minute), ErrIssuedInFuture},
		{"expired", good, fprA, testNow.Add(8 * 24 * time.Hour), ErrExpired},
		{"expired exactly at exp", good, fprA, time.Unix(testClaims().Expiry, 0), ErrExpired},
		{"garbage", "not-a-token", fprA, testNow, ErrMalformed},
		{"oversize", strings.Repeat("a", MaxTokenSize+1), fprA, testNow, ErrMalformed},
		{"alg none", "eyJhbGciOiJub25lIn0." + parts[1] + ".", fprA, testNow, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.token, ks, tc.fpr, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestIssuedSlightlyInFutureAccepted(t *testing.T) {
	s, ks := newSigner(t)
	tok, _ := s.Sign(testClaims())
	if _, err := Verify(tok, ks, fprA, testNow.Add(-4*time.Minute)); err != nil {
		t.Fatalf("a lease issued 4 minutes ahead (clock skew) must pass: %v", err)
	}
}

func TestNotBefore(t *testing.T) {
	s, ks := newSigner(t)
	c := testClaims()
	c.NotBefore = testNow.Add(time.Hour).Unix()
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(tok, ks, fprA, testNow); !errors.Is(err, ErrNotYetValid) {
		t.Fatalf("err = %v, want ErrNotYetValid", err)
	}
}

func TestSignRefusesBadClaims(t *testing.T) {
	s, _ := newSigner(t)
	for name, mutate := range map[string]func(*Claims){
		"no device":         func(c *Claims) { c.Subject = "" },
		"short fingerprint": func(c *Claims) { c.Fingerprint = "abc" },
		"exp before nbf":    func(c *Claims) { c.Expiry = c.NotBefore - 1 },
		"no license":        func(c *Claims) { c.License.ID = "" },
		"no lease id":       func(c *Claims) { c.ID = "" },
	} {
		t.Run(name, func(t *testing.T) {
			c := testClaims()
			mutate(&c)
			if _, err := s.Sign(c); err == nil {
				t.Fatal("Sign accepted invalid claims")
			}
		})
	}
}

func TestKeySetJSONRoundTripAndRotation(t *testing.T) {
	old, _ := newSigner(t)
	cur, _ := newSigner(t)
	ks, err := NewKeySet(old.Public(), cur.Public())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ks)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"crv":"Ed25519"`) || !strings.Contains(string(b), `"kid":"`+old.KeyID()+`"`) {
		t.Fatalf("not a JWK set with Ed25519 keys: %s", b)
	}
	parsed, err := ParseKeySet(b)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Len() != 2 {
		t.Fatalf("parsed %d keys", parsed.Len())
	}
	for _, s := range []*Signer{old, cur} {
		tok, _ := s.Sign(testClaims())
		if _, err := Verify(tok, parsed, fprA, testNow); err != nil {
			t.Fatalf("lease signed by %s after rotation: %v", s.KeyID(), err)
		}
	}
}

func TestParseKeySetRejectsLyingKid(t *testing.T) {
	a, _ := newSigner(t)
	b, _ := newSigner(t)
	set := `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + EncodePublicKey(a.Public()) + `","kid":"` + b.KeyID() + `"}]}`
	if _, err := ParseKeySet([]byte(set)); err == nil {
		t.Fatal("a key claiming another key's id was accepted")
	}
}

func TestPublicKeyText(t *testing.T) {
	s, _ := newSigner(t)
	got, err := DecodePublicKey(EncodePublicKey(s.Public()))
	if err != nil || !got.Equal(s.Public()) {
		t.Fatalf("round trip failed: %v", err)
	}
	for _, bad := range []string{"", "!!", EncodePublicKey(s.Public())[:10]} {
		if _, err := DecodePublicKey(bad); err == nil {
			t.Errorf("DecodePublicKey(%q) accepted", bad)
		}
	}
}

func TestValidFingerprint(t *testing.T) {
	for s, want := range map[string]bool{fprA: true, strings.ToUpper(fprA): false, fprA[:63]: false, fprA + "0": false, "": false, fprA[:63] + "g": false, fprA[:63] + "/": false, fprA[:63] + ":": false, fprA[:63] + "`": false} {
		if ValidFingerprint(s) != want {
			t.Errorf("ValidFingerprint(%q) != %v", s, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	key, _ := GenerateKey()
	s, _ := NewSigner(key)
	ks, _ := NewKeySet(s.Public())
	good, _ := s.Sign(testClaims())
	f.Add(good)
	f.Add("a.b.c")
	f.Add("")
	f.Add(good[:len(good)/2])
	f.Add("eyJhbGciOiJFZERTQSJ9..")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := Verify(token, ks, fprA, testNow)
		if err == nil && (c == nil || c.Fingerprint != fprA) {
			t.Fatalf("accepted a token without a matching fingerprint")
		}
		if err == nil && token != good {
			// Ed25519 signatures are not malleable, and the payload is fixed:
			// the only acceptable token is the one we signed.
			t.Fatalf("accepted a token that differs from the signed one: %q", token)
		}
	})
}

// TestSignedTokenIsStandardJWS checks the hand-assembled token with go-jose
// alone (no code of this package on the verifying side).
func TestSignedTokenIsStandardJWS(t *testing.T) {
	s, _ := newSigner(t)
	tok, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	h := obj.Signatures[0].Protected
	if h.KeyID != s.KeyID() || h.Algorithm != "EdDSA" || h.ExtraHeaders[jose.HeaderType] != Type {
		t.Fatalf("header = %+v", h)
	}
	payload, err := obj.Verify(s.Public())
	if err != nil {
		t.Fatalf("go-jose rejects the signature: %v", err)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Subject != "dev_1" {
		t.Fatalf("payload: %v %+v", err, c)
	}
}

func BenchmarkSign(b *testing.B) {
	s, _ := newSigner(b)
	c := testClaims()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s, ks := newSigner(b)
	tok, _ := s.Sign(testClaims())
	for b.Loop() {
		if _, err := Verify(tok, ks, fprA, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
