package certcheck

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// Bounds on the work one PKCS#12 file may cost before any key derivation
// starts. The counts are read from the file's ASN.1 (MacData, PBMAC1 and
// PBES2/PBKDF2 parameters, the legacy PKCS#12 PBE parameters of every
// encrypted safe and shrouded key bag) and checked before the library
// derives anything, so a file asking for 2^40 rounds costs microseconds.
const (
	// MaxPKCS12Iterations is the highest iteration count accepted for
	// any one key derivation. Tools write 2,048 (OpenSSL), 2,000 (Windows)
	// or 10,000 (Java keytool); password guides recommend up to 600,000
	// for PBKDF2-HMAC-SHA256.
	MaxPKCS12Iterations = 1_000_000
	// MaxPKCS12Size bounds the file itself.
	MaxPKCS12Size = 1 << 20
	// maxSafes is what the PKCS#12 library decodes (1 or 2 safes).
	maxSafes = 2
	// maxBags bounds the bags of one safe.
	maxBags = 64
)

// ErrTooCostly means a PKCS#12 file asks for more key-derivation work than
// the agent accepts (MaxPKCS12Iterations), or is shaped so that its cost
// cannot be bounded.
var ErrTooCostly = errors.New("PKCS#12 file asks for too much key-derivation work")

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidShroudedKey   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidKeyBag        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidPBMAC1        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	oidPBE3DES       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBERC2128     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBERC240      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidHMACSHA1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type p12PFX struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  p12MacData `asn1:"optional"`
}

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type p12MacData struct {
	Mac        p12DigestInfo
	MacSalt    []byte
	Iterations int64 `asn1:"optional,default:1"`
}

type p12DigestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type p12EncryptedData struct {
	Version              int
	EncryptedContentInfo p12EncryptedContentInfo
}

type p12EncryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

type p12SafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue   `asn1:"tag:0,explicit"`
	Attributes []asn1.RawValue `asn1:"set,optional"`
}

type p12EncryptedKey struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type p12PBEParams struct {
	Salt       []byte
	Iterations int64
}

type p12PBES2Params struct {
	KDF        pkix.AlgorithmIdentifier
	Encryption pkix.AlgorithmIdentifier
}

type p12PBKDF2Params struct {
	Salt       asn1.RawValue
	Iterations int64
	KeyLength  int64                    `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type p12PBMAC1Params struct {
	KDF    pkix.AlgorithmIdentifier
	MacAlg pkix.AlgorithmIdentifier
}

// p12Shape is what the password-free walk of a PKCS#12 file found: the
// encrypted safes whose bags can only be checked once decrypted.
type p12Shape struct {
	encrypted []p12EncryptedContentInfo
	keyBags   int
}

// CheckPKCS12Cost walks a PKCS#12 file's ASN.1 and refuses it (ErrTooCostly)
// when any key derivation it would ask for exceeds MaxPKCS12Iterations.
// With a password it also decrypts the encrypted safes (PBES2/AES, 3DES,
// RC2: what the library reads; each derivation
// already bounded) to check the key bags inside them. It never derives a
// key from an unchecked count.
func CheckPKCS12Cost(data []byte, password string) error {
	shape, err := checkPKCS12Shape(data)
	if err != nil {
		return err
	}
	return shape.checkEncrypted(password)
}

func checkPKCS12Shape(data []byte) (*p12Shape, error) {
	if len(data) > MaxPKCS12Size {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", ErrTooCostly, MaxPKCS12Size)
	}
	var pfx p12PFX
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		return nil, fmt.Errorf("malformed PKCS#12: %v", err)
	}
	if err := checkMacCost(pfx.MacData); err != nil {
		return nil, err
	}
	if !pfx.AuthSafe.ContentType.Equal(oidData) {
		return &p12Shape{}, nil // the library refuses it without deriving anything
	}
	var content []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &content); err != nil {
		return nil, fmt.Errorf("malformed PKCS#12: %v", err)
	}
	var safes []p12ContentInfo
	if _, err := asn1.Unmarshal(content, &safes); err != nil {
		return nil, fmt.Errorf("malformed PKCS#12: %v", err)
	}
	if len(safes) > maxSafes {
		return nil, fmt.Errorf("malformed PKCS#12: %d safes (at most %d are read)", len(safes), maxSafes)
	}
	shape := &p12Shape{}
	for _, ci := range safes {
		switch {
		case ci.ContentType.Equal(oidData):
			var raw []byte
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &raw); err != nil {
				return nil, fmt.Errorf("malformed PKCS#12: %v", err)
			}
			if err := shape.checkBags(raw); err != nil {
				return nil, err
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed p12EncryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, fmt.Errorf("malformed PKCS#12: %v", err)
			}
			if err := checkPBECost(ed.EncryptedContentInfo.ContentEncryptionAlgorithm); err != nil {
				return nil, err
			}
			shape.encrypted = append(shape.encrypted, ed.EncryptedContentInfo)
		}
	}
	return shape, nil
}

// checkBags checks the shrouded key bags of one (decrypted) safe.
func (s *p12Shape) checkBags(raw []byte) error {
	var bags []p12SafeBag
	if _, err := asn1.Unmarshal(raw, &bags); err != nil {
		return fmt.Errorf("malformed PKCS#12: %v", err)
	}
	if len(bags) > maxBags {
		return fmt.Errorf("malformed PKCS#12: more than %d bags in a safe", maxBags)
	}
	for _, b := range bags {
		switch {
		case b.ID.Equal(oidShroudedKey):
			var k p12EncryptedKey
			if _, err := asn1.Unmarshal(b.Value.Bytes, &k); err != nil {
				return fmt.Errorf("malformed PKCS#12 key bag: %v", err)
			}
			if err := checkPBECost(k.Algorithm); err != nil {
				return err
			}
			s.keyBags++
		case b.ID.Equal(oidKeyBag):
			s.keyBags++
		}
	}
	if s.keyBags > 1 {
		return errors.New("malformed PKCS#12: more than one private key")
	}
	return nil
}

// checkEncrypted decrypts the encrypted safes with password to check the key
// bags they hold. A safe that does not decrypt (wrong password) is left
// to the library, whose MAC check refuses the password first.
func (s *p12Shape) checkEncrypted(password string) error {
	for _, e := range s.encrypted {
		var (
			plain []byte
			ok    bool
		)
		switch alg := e.ContentEncryptionAlgorithm; {
		case alg.Algorithm.Equal(oidPBES2):
			plain, ok = decryptPBES2(alg, e.EncryptedContent, password)
		case alg.Algorithm.Equal(oidPBE3DES):
			plain, ok = decrypt3DES(alg, e.EncryptedContent, password)
		case alg.Algorithm.Equal(oidPBERC240), alg.Algorithm.Equal(oidPBERC2128):
			plain, ok = decryptRC2(alg, e.EncryptedContent, password)
		}
		if !ok {
			continue
		}
		// A wrong password can still unpad (1 in 256): only a proven cost
		// refuses here; anything else is the library's to judge.
		if err := s.checkBags(plain); errors.Is(err, ErrTooCostly) {
			return err
		}
	}
	return nil
}

func checkIterations(what string, n int64) error {
	if n < 1 {
		return fmt.Errorf("malformed PKCS#12: %s iteration count %d", what, n)
	}
	if n > MaxPKCS12Iterations {
		return fmt.Errorf("%w: %s asks for %d iterations (at most %d are accepted)", ErrTooCostly, what, n, MaxPKCS12Iterations)
	}
	return nil
}

func checkMacCost(md p12MacData) error {
	if len(md.Mac.Algorithm.Algorithm) == 0 {
		return nil
	}
	if !md.Mac.Algorithm.Algorithm.Equal(oidPBMAC1) {
		return checkIterations("the MAC", md.Iterations)
	}
	var p p12PBMAC1Params
	if _, err := asn1.Unmarshal(md.Mac.Algorithm.Parameters.FullBytes, &p); err != nil {
		return fmt.Errorf("malformed PKCS#12 PBMAC1 parameters: %v", err)
	}
	_, err := pbkdf2Params(p.KDF, "the MAC")
	return err
}

// checkPBECost checks the work of one encryption algorithm identifier.
func checkPBECost(alg pkix.AlgorithmIdentifier) error {
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		var p p12PBES2Params
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return fmt.Errorf("malformed PKCS#12 PBES2 parameters: %v", err)
		}
		_, err := pbkdf2Params(p.KDF, "the encryption")
		return err
	case alg.Algorithm.Equal(oidPBE3DES), alg.Algorithm.Equal(oidPBERC2128), alg.Algorithm.Equal(oidPBERC240):
		var p p12PBEParams
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return fmt.Errorf("malformed PKCS#12 PBE parameters: %v", err)
		}
		return checkIterations("the encryption", p.Iterations)
	}
	// Other algorithms are refused by the library before any derivation.
	return nil
}

func pbkdf2Params(kdf pkix.AlgorithmIdentifier, what string) (p12PBKDF2Params, error) {
	var p p12PBKDF2Params
	if !kdf.Algorithm.Equal(oidPBKDF2) {
		return p, nil // refused by the library without deriving
	}
	if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
		return p, fmt.Errorf("malformed PKCS#12 PBKDF2 parameters: %v", err)
	}
	return p, checkIterations(what, p.Iterations)
}

// decryptPBES2 decrypts a PBES2 (PBKDF2, AES-CBC) encrypted safe whose
// iteration count was checked. ok is false when it cannot.
func decryptPBES2(alg pkix.AlgorithmIdentifier, data []byte, password string) ([]byte, bool) {
	var p p12PBES2Params
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
		return nil, false
	}
	kp, err := pbkdf2Params(p.KDF, "the encryption")
	if err != nil || !p.KDF.Algorithm.Equal(oidPBKDF2) || kp.Salt.Tag != asn1.TagOctetString {
		return nil, false
	}
	var prf func() hash.Hash
	switch {
	case kp.PRF.Algorithm == nil, kp.PRF.Algorithm.Equal(oidHMACSHA1):
		prf = sha1.New
	case kp.PRF.Algorithm.Equal(oidHMACSHA256):
		prf = sha256.New
	case kp.PRF.Algorithm.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, false
	}
	var keyLen int
	switch {
	case p.Encryption.Algorithm.Equal(oidAES128CBC):
		keyLen = 16
	case p.Encryption.Algorithm.Equal(oidAES192CBC):
		keyLen = 24
	case p.Encryption.Algorithm.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return nil, false
	}
	iv := p.Encryption.Parameters.Bytes
	if len(iv) != aes.BlockSize || len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, false
	}
	key, err := pbkdf2.Key(prf, password, kp.Salt.Bytes, int(kp.Iterations), keyLen)
	if err != nil {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	return unpad(out, aes.BlockSize)
}
