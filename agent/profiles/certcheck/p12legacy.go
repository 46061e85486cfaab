package certcheck

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"unicode/utf16"
)

// legacyKDF is the key derivation of the original PKCS#12 password-based
// encryption (RFC 7292, appendix B.2) with SHA-1: id 1 derives a key, 2
// an IV. The caller checked iterations against MaxPKCS12Iterations.
func legacyKDF(salt, password []byte, iterations, id, size int) []byte {
	const v = 64 // SHA-1's block size
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	D := make([]byte, v)
	for i := range D {
		D[i] = byte(id)
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	one := big.NewInt(1)
	mod := new(big.Int).Lsh(one, v*8)
	for len(out) < size {
		h := sha1.New()
		h.Write(D)
		h.Write(I)
		A := h.Sum(nil)
		for r := 1; r < iterations; r++ {
			s := sha1.Sum(A)
			A = s[:]
		}
		out = append(out, A...)
		if len(out) >= size {
			break
		}
		B := new(big.Int).SetBytes(fill(A)[:v])
		B.Add(B, one)
		for j := 0; j < len(I); j += v {
			Ij := new(big.Int).SetBytes(I[j : j+v])
			Ij.Add(Ij, B).Mod(Ij, mod)
			b := Ij.Bytes()
			clear(I[j : j+v])
			copy(I[j+v-len(b):j+v], b)
		}
	}
	return out[:size]
}

// bmpPassword is a password as PKCS#12's legacy algorithms take it:
// UTF-16 big-endian with a terminating zero; ok is false outside the BMP.
func bmpPassword(s string) ([]byte, bool) {
	var out []byte
	for _, c := range utf16.Encode([]rune(s)) {
		if c >= 0xd800 && c < 0xe000 {
			return nil, false
		}
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0), true
}

// decrypt3DES decrypts a safe encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC
// whose iteration count was checked. For the empty password it also tries
// the empty byte string, as the library does.
func decrypt3DES(alg pkix.AlgorithmIdentifier, data []byte, password string) ([]byte, bool) {
	var p p12PBEParams
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || checkIterations("", p.Iterations) != nil {
		return nil, false
	}
	pw, ok := bmpPassword(password)
	if !ok || len(data) == 0 || len(data)%des.BlockSize != 0 {
		return nil, false
	}
	tries := [][]byte{pw}
	if password == "" {
		tries = append(tries, nil)
	}
	for _, pw := range tries {
		key := legacyKDF(p.Salt, pw, int(p.Iterations), 1, 24)
		iv := legacyKDF(p.Salt, pw, int(p.Iterations), 2, 8)
		block, err := des.NewTripleDESCipher(key)
		if err != nil {
			return nil, false
		}
		out := make([]byte, len(data))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
		if plain, ok := unpad(out, des.BlockSize); ok {
			return plain, true
		}
	}
	return nil, false
}

// unpad strips PKCS#7 padding.
func unpad(b []byte, size int) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > size || n > len(b) {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}
