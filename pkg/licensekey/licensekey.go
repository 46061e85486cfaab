// Package licensekey generates and checks Entitle license keys.
//
// A key is 25 Crockford base32 symbols (no I, L, O or U): 24 random symbols
// (120 bits from crypto/rand) and one check symbol, shown in groups of five,
// "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX". People type keys by hand, so Normalize
// accepts lower case, spaces, hyphens and the look-alikes O (for 0) and I/L
// (for 1), and the check symbol catches every single mistyped symbol and every
// swap of two neighbouring symbols before the key reaches the server.
//
// The check symbol is not Crockford's mod-37 symbol: that one can be "*",
// "~", "$", "=" or "U", which are awkward to read aloud and outside the key
// alphabet. Instead the key is a codeword of a one-symbol Reed–Solomon-style
// check over GF(32): with symbols d0..d24 as field elements and a primitive
// element a, sum(a^(24-j) * dj) must be 0. All 25 weights are distinct and
// non-zero (a has order 31), so a substitution changes the sum by
// a^k*(d-d') != 0 and a swap of positions j, k changes it by
// (a^(24-j) - a^(24-k))*(dj-dk) != 0: both are always detected.
package licensekey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// Alphabet is the Crockford base32 alphabet, in value order.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

const (
	// DataLen is the number of random symbols in a key.
	DataLen = 24
	// Len is the number of symbols in a normalized key, check symbol included.
	Len = DataLen + 1
	// GroupLen is the size of the hyphen-separated groups in a formatted key.
	GroupLen = 5
	// maxInput bounds what Normalize will look at, so a pasted novel fails
	// fast and the error message stays short.
	maxInput = 200
)

// ErrCheck is wrapped by the error Normalize returns when every symbol is
// valid but the check symbol does not match.
var ErrCheck = errors.New("check character does not match: a character was probably mistyped")

// Generate returns a new random key, formatted.
func Generate() (string, error) {
	var buf [DataLen]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", fmt.Errorf("generate license key: %w", err)
	}
	var vals [Len]byte
	for i, b := range buf {
		vals[i] = b & 31 // 256 is a multiple of 32: no bias
	}
	vals[DataLen] = checkValue(vals[:DataLen])
	var sb strings.Builder
	sb.Grow(Len)
	for _, v := range vals {
		sb.WriteByte(Alphabet[v])
	}
	return Format(sb.String()), nil
}

// Normalize turns what a person typed into the canonical 25-symbol key
// (upper case, no separators) and verifies its check symbol.
func Normalize(s string) (string, error) {
	if len(s) > maxInput {
		return "", fmt.Errorf("license key is too long (%d characters); a key has %d characters", len(s), Len)
	}
	var out [Len]byte
	var vals [Len]byte
	n := 0
	pos := 0 // 1-based position in the input, in characters, for error messages
	for _, r := range s {
		pos++
		switch r {
		case ' ', '-', '\t':
			continue
		}
		v, ok := symbolValue(r)
		if !ok {
			return "", fmt.Errorf("license key: character %d (%q) is not allowed; keys use only digits and the letters A to Z except U", pos, string(r))
		}
		if n < Len {
			out[n] = Alphabet[v]
			vals[n] = v
		}
		n++
	}
	if n != Len {
		return "", fmt.Errorf("license key has %d characters (not counting hyphens and spaces); a key has %d", n, Len)
	}
	if !valid(vals[:]) {
		return "", fmt.Errorf("license key %s: %w", Format(string(out[:])), ErrCheck)
	}
	return string(out[:]), nil
}

// Format groups a normalized key as XXXXX-XXXXX-XXXXX-XXXXX-XXXXX. It does not
// validate; any string is grouped by five.
func Format(normalized string) string {
	var sb strings.Builder
	sb.Grow(len(normalized) + len(normalized)/GroupLen)
	for i := 0; i < len(normalized); i++ {
		if i > 0 && i%GroupLen == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(normalized[i])
	}
	return sb.String()
}

// symbolValue maps a typed character to its value, accepting lower case and
// Crockford's look-alikes. U is refused: Crockford reserves it.
func symbolValue(r rune) (byte, bool) {
	if r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	switch r {
	case 'O':
		return 0, true
	case 'I', 'L':
		return 1, true
	}
	if r > 'Z' {
		return 0, false
	}
	i := strings.IndexByte(Alphabet, byte(r))
	if i < 0 {
		return 0, false
	}
	return byte(i), true
}

// gfPoly is the primitive polynomial x^5 + x^2 + 1 defining GF(32).
const gfPoly = 0x25

// mulAlpha multiplies a field element by the primitive element a = x.
func mulAlpha(v byte) byte {
	v <<= 1
	if v&0x20 != 0 {
		v ^= gfPoly
	}
	return v
}

// horner returns sum(a^(len-1-j) * vals[j]) in GF(32).
func horner(vals []byte) byte {
	var acc byte
	for _, v := range vals {
		acc = mulAlpha(acc) ^ v
	}
	return acc
}

// checkValue returns the check symbol value that makes data+check a codeword:
// horner(data+c) = a*horner(data) + c = 0, and in GF(2^k) minus is plus.
func checkValue(data []byte) byte { return mulAlpha(horner(data)) }

func valid(vals []byte) bool { return horner(vals) == 0 }
