package accounts

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("a fine password", Argon2Params{}.orDefault())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q", h)
	}
	tests := []struct {
		name, hash, pw string
		ok, err        bool
	}{
		{"right", h, "a fine password", true, false},
		{"wrong", h, "a fine passworD", false, false},
		{"not PHC", "plain", "x", false, true},
		{"argon2i", strings.Replace(h, "argon2id", "argon2i", 1), "a fine password", false, true},
		{"absurd memory", strings.Replace(h, "m=19456", "m=99999999", 1), "a fine password", false, true},
		{"bad salt", h[:strings.LastIndex(h, "$")-2] + "!!" + h[strings.LastIndex(h, "$"):], "a fine password", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := verifyPassword(tc.hash, tc.pw)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("verifyPassword = %v, %v; want %v, error %v", ok, err, tc.ok, tc.err)
			}
		})
	}
}
