// Package certcheck parses signing certificates and private keys (PEM, DER,
// PKCS#8, PKCS#12) and judges whether they make a usable signature profile:
// validity window, key usage fit for signing, issuer, and whether the private
// key matches the certificate.
package certcheck

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// ErrLocked means a private key is present but encrypted with a password
// the agent does not have.
var ErrLocked = errors.New("key present but locked")

// ErrWrongPassword means a PKCS#12 password was given and is wrong.
var ErrWrongPassword = errors.New("wrong password")

// Statuses of a profile (agentapi.ProfileInfo.Status).
const (
	StatusValid       = "valid"
	StatusExpiring    = "expiring"
	StatusExpired     = "expired"
	StatusNotYetValid = "not_yet_valid"
	StatusInvalid     = "invalid"
	StatusUnlicensed  = "unlicensed"
)

// Extended key usages accepted for document signing, besides any,
// emailProtection and codeSigning.
var (
	OIDDocumentSigning        = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}       // RFC 9336 id-kp-documentSigning
	OIDMicrosoftDocumentSign  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 12} // Microsoft Document Signing
	OIDAdobeAuthenticDocument = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 5}       // Adobe Authentic Documents Trust
)

// maxPEMBlocks bounds how many PEM blocks are looked at in one file.
const maxPEMBlocks = 32

// MaxChain bounds the CA certificates kept with a profile's certificate
// (its chain), in a certificate file, a PEM import or a PKCS#12 file.
const MaxChain = 10

// ErrChainTooLong means a file holds more than MaxChain CA certificates
// besides the profile's certificate.
var ErrChainTooLong = fmt.Errorf("more than %d chain certificates", MaxChain)

// ParseCertificate reads the first certificate of a PEM or DER file.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	if !looksPEM(data) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("not a PEM or DER certificate: %w", err)
		}
		return c, nil
	}
	rest := data
	for i := 0; i < maxPEMBlocks; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("malformed certificate: %w", err)
			}
			return c, nil
		}
	}
	return nil, errors.New("no CERTIFICATE block in the PEM file")
}

// ParseCertificates reads a profile's certificate file: a single DER
// certificate, or PEM with the profile's certificate first and then its
// chain (the CA certificates, as stored). Every CERTIFICATE block must
// parse: a damaged chain certificate is an error naming its position
// (2 for the first chain certificate), as is a chain longer than MaxChain.
// Other PEM blocks are ignored.
func ParseCertificates(data []byte) (*x509.Certificate, []*x509.Certificate, error) {
	if !looksPEM(data) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, nil, fmt.Errorf("not a PEM or DER certificate: %w", err)
		}
		return c, nil, nil
	}
	var (
		leaf  *x509.Certificate
		chain []*x509.Certificate
	)
	rest := data
	for i := 0; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if i >= maxPEMBlocks {
			return nil, nil, fmt.Errorf("too many PEM blocks (more than %d)", maxPEMBlocks)
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if leaf != nil && len(chain) == MaxChain {
			return nil, nil, ErrChainTooLong
		}
		c, err := x509.ParseCertificate(b.Bytes)
		switch {
		case err != nil && leaf == nil:
			return nil, nil, fmt.Errorf("malformed certificate: %w", err)
		case err != nil:
			return nil, nil, fmt.Errorf("chain certificate %d (certificate %d of the file): malformed: %w", len(chain)+1, len(chain)+2, err)
		case leaf == nil:
			leaf = c
		default:
			chain = append(chain, c)
		}
	}
	if leaf == nil {
		return nil, nil, errors.New("no CERTIFICATE block in the PEM file")
	}
	return leaf, chain, nil
}

// LeafFirst picks, among certs, the certificate of key (the profile's
// certificate) and returns it with the others as its chain, without
// duplicates or copies of the leaf. The chain follows the issuer names
// from the leaf up (no signature is verified: an order, not a trust
// decision); certificates outside that path follow in their order. When no
// certificate matches key, the first one is the leaf (KeyMatches then says
// why it is refused). More than MaxChain chain certificates yield
// ErrChainTooLong.
func LeafFirst(key crypto.Signer, certs []*x509.Certificate) (*x509.Certificate, []*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, nil, errors.New("no certificate")
	}
	li := 0
	if key != nil {
		for i, c := range certs {
			if KeyMatches(c, key) == nil {
				li = i
				break
			}
		}
	}
	leaf := certs[li]
	seen := map[string]bool{string(leaf.Raw): true}
	var rest []*x509.Certificate
	for _, c := range certs {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			rest = append(rest, c)
		}
	}
	if len(rest) > MaxChain {
		return nil, nil, ErrChainTooLong
	}
	chain := make([]*x509.Certificate, 0, len(rest))
	used := make([]bool, len(rest))
	for cur := leaf; !SelfSigned(cur); {
		next := -1
		for i, c := range rest {
			if !used[i] && bytes.Equal(c.RawSubject, cur.RawIssuer) {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		cur = rest[next]
		chain = append(chain, cur)
	}
	for i, c := range rest {
		if !used[i] {
			chain = append(chain, c)
		}
	}
	return leaf, chain, nil
}

// PEMItems is what a PEM file holds: certificates (leaf first, as found)
// and at most one private key.
type PEMItems struct {
	Certs []*x509.Certificate
	Key   crypto.Signer
}

// ParsePEM reads certificates and one private key from PEM data. Accepted
// key blocks: PRIVATE KEY (PKCS#8), EC PRIVATE KEY, RSA PRIVATE KEY. An
// ENCRYPTED PRIVATE KEY yields ErrLocked.
func ParsePEM(data []byte) (PEMItems, error) {
	var out PEMItems
	if !looksPEM(data) {
		return out, errors.New("not PEM data")
	}
	rest := data
	for i := 0; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if i >= maxPEMBlocks {
			return PEMItems{}, fmt.Errorf("too many PEM blocks (more than %d)", maxPEMBlocks)
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return PEMItems{}, fmt.Errorf("malformed certificate: %w", err)
			}
			out.Certs = append(out.Certs, c)
		case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if out.Key != nil {
				return PEMItems{}, errors.New("more than one private key")
			}
			k, err := parseKeyBlock(b)
			if err != nil {
				return PEMItems{}, err
			}
			out.Key = k
		}
	}
	if len(out.Certs) == 0 && out.Key == nil {
		return PEMItems{}, errors.New("no certificate or private key in the PEM data")
	}
	return out, nil
}

// ParseKeyFile reads key.pem: one PKCS#8 PRIVATE KEY block.
func ParseKeyFile(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("key.pem holds no PEM block")
	}
	if b.Type != "PRIVATE KEY" && b.Type != "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("key.pem holds a %q block, want PRIVATE KEY (PKCS#8)", b.Type)
	}
	return parseKeyBlock(b)
}

func parseKeyBlock(b *pem.Block) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	switch b.Type {
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("encrypted private key: %w", ErrLocked)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("malformed private key: %w", err)
	}
	return asSigner(k)
}

func asSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported private key type %T", k)
	}
}

// ParsePKCS12 opens a PKCS#12 file and returns its private key, the
// certificate of that key and the file's other certificates (its chain,
// at most MaxChain, in the file's order). With password "" it also tries
// the conventional default password; a file it cannot open that way
// yields ErrLocked, a file opened with a wrong explicit password
// ErrWrongPassword. The work is bounded before any key is derived
// (CheckPKCS12Cost: ErrTooCostly), and ctx bounds the time: when it ends
// first, ParsePKCS12 returns ctx's error at once.
func ParsePKCS12(ctx context.Context, data []byte, password string) (crypto.Signer, *x509.Certificate, []*x509.Certificate, error) {
	shape, err := checkPKCS12Shape(data)
	if err != nil {
		return nil, nil, nil, err
	}
	try := []string{password}
	if password == "" {
		try = append(try, pkcs12.DefaultPassword)
	}
	for _, p := range try {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, fmt.Errorf("PKCS#12: %w", err)
		}
		if err := shape.checkEncrypted(p); err != nil {
			return nil, nil, nil, err
		}
		k, cert, chain, err := decodeWithin(ctx, data, p)
		if err == nil {
			s, serr := asSigner(k)
			if serr != nil {
				return nil, nil, nil, serr
			}
			// The first certificate bag is not always the key's: some
			// tools write the CA certificates first.
			leaf, rest, lerr := LeafFirst(s, append([]*x509.Certificate{cert}, chain...))
			if lerr != nil {
				return nil, nil, nil, fmt.Errorf("PKCS#12: %w", lerr)
			}
			return s, leaf, rest, nil
		}
		if ctx.Err() != nil {
			return nil, nil, nil, fmt.Errorf("PKCS#12: %w", ctx.Err())
		}
		if !errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, nil, nil, fmt.Errorf("malformed PKCS#12: %w", err)
		}
	}
	if password == "" {
		return nil, nil, nil, fmt.Errorf("encrypted PKCS#12: %w", ErrLocked)
	}
	return nil, nil, nil, fmt.Errorf("PKCS#12: %w", ErrWrongPassword)
}

// decodeWithin runs the library's decoder, returning early when ctx ends.
// Its work was bounded by CheckPKCS12Cost; the deadline is the last line
// of defence for a shape that check cannot see into.
func decodeWithin(ctx context.Context, data []byte, password string) (any, *x509.Certificate, []*x509.Certificate, error) {
	type result struct {
		k     any
		cert  *x509.Certificate
		chain []*x509.Certificate
		err   error
	}
	done := make(chan result, 1) // buffered: an abandoned decode never blocks
	go func() {
		k, c, ch, err := pkcs12.DecodeChain(data, password)
		done <- result{k, c, ch, err}
	}()
	select {
	case r := <-done:
		return r.k, r.cert, r.chain, r.err
	case <-ctx.Done():
		return nil, nil, nil, ctx.Err()
	}
}

// KeyMatches reports whether key is the private half of cert's public key.
func KeyMatches(cert *x509.Certificate, key crypto.Signer) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return errors.New("the private key does not match the certificate")
	}
	return nil
}

// SigningUsage checks that cert may sign documents. KeyUsage, when present,
// must include digitalSignature or contentCommitment (nonRepudiation). An
// ExtKeyUsage, when present, must include any, emailProtection, codeSigning
// or a document-signing purpose (RFC 9336, Microsoft, Adobe).
func SigningUsage(cert *x509.Certificate) error {
	if cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return errors.New("certificate key usage allows neither digitalSignature nor contentCommitment (non-repudiation)")
	}
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range cert.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageAny, x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageCodeSigning:
			return nil
		}
	}
	for _, o := range cert.UnknownExtKeyUsage {
		if o.Equal(OIDDocumentSigning) || o.Equal(OIDMicrosoftDocumentSign) || o.Equal(OIDAdobeAuthenticDocument) {
			return nil
		}
	}
	return errors.New("certificate extended key usage does not include document signing, emailProtection, codeSigning or any")
}

// SelfSigned reports whether cert names itself as issuer and, when both key
// identifiers are present, its authority key id equals its subject key id.
// The signature itself is not verified (a report, not a trust decision).
func SelfSigned(cert *x509.Certificate) bool {
	if !bytes.Equal(cert.RawSubject, cert.RawIssuer) {
		return false
	}
	if len(cert.AuthorityKeyId) > 0 && len(cert.SubjectKeyId) > 0 {
		return bytes.Equal(cert.AuthorityKeyId, cert.SubjectKeyId)
	}
	return true
}

// Serial formats a certificate serial number as lowercase hex.
func Serial(cert *x509.Certificate) string {
	if cert.SerialNumber == nil {
		return ""
	}
	return hex.EncodeToString(cert.SerialNumber.Bytes())
}

// Evaluate returns the time-based status of a certificate valid from
// notBefore until notAfter, at now, with expiring meaning "ends within
// window", and a human reason such as "valid from 2024-01-02 until 2027-01-02".
func Evaluate(notBefore, notAfter, now time.Time, window time.Duration) (status, reason string) {
	const day = "2006-01-02"
	span := "valid from " + notBefore.UTC().Format(day) + " until " + notAfter.UTC().Format(day)
	switch {
	case now.Before(notBefore):
		return StatusNotYetValid, "not yet valid: " + span
	case now.After(notAfter):
		return StatusExpired, "expired on " + notAfter.UTC().Format(day)
	case notAfter.Sub(now) <= window:
		days := int(notAfter.Sub(now).Hours() / 24)
		return StatusExpiring, fmt.Sprintf("expires in %d days: %s", days, span)
	default:
		return StatusValid, span
	}
}

func looksPEM(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 4096)], []byte("-----BEGIN "))
}

// CommonName returns the subject CN, trimmed.
func CommonName(cert *x509.Certificate) string { return strings.TrimSpace(cert.Subject.CommonName) }
