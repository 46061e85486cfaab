package profiles

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/entitle/entitle/agent/profiles/bundle"
	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/pkg/agentapi"
)

// MaxImportSize bounds a PEM, DER or PKCS#12 file given to Import.
const MaxImportSize = 1 << 20

// What Import does when a profile with the same name (or id, for bundles)
// but different credentials exists.
const (
	OnClashFail    = "fail"    // refuse, nothing written (the default)
	OnClashRename  = "rename"  // import under a new name ("Name (2)") and, if needed, a new id
	OnClashReplace = "replace" // delete the existing profile, import the new one
)

// Export formats of ExportProfile.
const (
	FormatP12      = "p12"       // PKCS#12 with certificate and key, password protected
	FormatPEM      = "pem"       // the certificate only
	FormatPEMChain = "pem-chain" // the certificate, then its chain (CA certificates), PEM
	FormatDER      = "der"       // the certificate only
	FormatProfile  = "profile"   // a one-profile bundle (age, passphrase), keeps id, name and owner
)

// ImportOptions tune Import. Name and Owner override the imported values
// when exactly one profile is imported.
type ImportOptions struct {
	Name    string `json:"name,omitempty"`
	Owner   string `json:"owner,omitempty"`
	OnClash string `json:"on_clash,omitempty"`
	// Force imports a certificate that is not fit for signing (e.g. a
	// TLS-only certificate): it is stored, and listed as invalid.
	Force bool `json:"force,omitempty"`
}

// ImportResult lists what an import did.
type ImportResult struct {
	Imported []agentapi.ProfileInfo `json:"imported"`
	Skipped  []string               `json:"skipped,omitempty"` // ids already present with the same credentials
	// Files lists, by imported profile id, the files written for it: an
	// import says what it restored.
	Files map[string][]string `json:"files,omitempty"`
}

func checkOnClash(s string) (string, error) {
	switch s {
	case "":
		return OnClashFail, nil
	case OnClashFail, OnClashRename, OnClashReplace:
		return s, nil
	}
	return "", fmt.Errorf("%w: on_clash must be fail, rename or replace", ErrBadInput)
}

// Import adds profiles from data: a PKCS#12 file, PEM certificate(s) with
// a private key, or a bundle (a profile exported in the "profile" format or
// a migration bundle; then password is its passphrase). Bad input changes
// nothing.
func (m *Manager) Import(ctx context.Context, data []byte, password string, opts ImportOptions) (ImportResult, error) {
	onClash, err := checkOnClash(opts.OnClash)
	if err != nil {
		return ImportResult{}, err
	}
	if bundle.IsBundle(data) {
		return m.ImportBundle(ctx, data, password, onClash, opts)
	}
	if len(data) > MaxImportSize {
		return ImportResult{}, fmt.Errorf("%w: the file is larger than %d bytes", ErrBadInput, MaxImportSize)
	}
	if len(data) == 0 {
		return ImportResult{}, fmt.Errorf("%w: the file is empty", ErrBadInput)
	}
	var (
		cert  *x509.Certificate
		chain []*x509.Certificate
		key   crypto.Signer
	)
	if items, perr := certcheck.ParsePEM(data); perr == nil {
		if len(items.Certs) == 0 {
			return ImportResult{}, fmt.Errorf("%w: the PEM file holds a private key but no certificate", ErrBadInput)
		}
		if items.Key == nil {
			return ImportResult{}, fmt.Errorf("%w: the file holds a certificate but no private key; a signature profile needs both (import the PKCS#12 file instead)", ErrBadInput)
		}
		// The key's certificate leads, whatever the order of the file;
		// the others are its chain.
		c, ch, lerr := certcheck.LeafFirst(items.Key, items.Certs)
		if lerr != nil {
			return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, lerr)
		}
		cert, chain, key = c, ch, items.Key
	} else if errors.Is(perr, certcheck.ErrLocked) {
		return ImportResult{}, fmt.Errorf("%w: encrypted PEM private keys are not supported; import a PKCS#12 file instead", ErrBadInput)
	} else if strings.Contains(perr.Error(), "not PEM") {
		pctx, cancel := context.WithTimeout(ctx, m.opts.ParseTimeout)
		k, c, ch, err := certcheck.ParsePKCS12(pctx, data, password)
		cancel()
		switch {
		case errors.Is(err, certcheck.ErrTooCostly):
			return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, err)
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			return ImportResult{}, fmt.Errorf("%w: the PKCS#12 file took too long to open", ErrBadInput)
		case ctx.Err() != nil:
			return ImportResult{}, ctx.Err()
		case errors.Is(err, certcheck.ErrWrongPassword), errors.Is(err, certcheck.ErrLocked):
			return ImportResult{}, fmt.Errorf("%w: the PKCS#12 file's password is wrong or missing", ErrWrongPassword)
		case errors.Is(err, certcheck.ErrChainTooLong):
			return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, err)
		case err != nil:
			if _, derr := x509.ParseCertificate(data); derr == nil {
				return ImportResult{}, fmt.Errorf("%w: the file holds a certificate but no private key; a signature profile needs both (import the PKCS#12 file instead)", ErrBadInput)
			}
			return ImportResult{}, fmt.Errorf("%w: not a PKCS#12, PEM or profile file: %v", ErrBadInput, err)
		}
		cert, chain, key = c, ch, k
	} else {
		return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, perr)
	}
	if err := certcheck.KeyMatches(cert, key); err != nil {
		return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	if err := certcheck.SigningUsage(cert); err != nil && !opts.Force {
		return ImportResult{}, fmt.Errorf("%w: %w", ErrNotForSigning, err)
	}
	files, err := credentialFiles(cert, chain, key)
	if err != nil {
		return ImportResult{}, err
	}
	id, err := NewID()
	if err != nil {
		return ImportResult{}, err
	}
	name := firstNonEmpty(opts.Name, certcheck.CommonName(cert), "Imported profile")
	owner := firstNonEmpty(opts.Owner, certcheck.CommonName(cert), name)
	now := m.now().UTC()
	meta := Meta{Format: FormatV1, ID: id, Name: strings.TrimSpace(name), Owner: strings.TrimSpace(owner), Created: now, Updated: now}
	if err := meta.Validate(); err != nil {
		return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	return m.apply(ctx, []incoming{{meta: meta, files: files}}, "", onClash)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// ExportProfile returns a profile in one of the export formats. password
// protects p12 and profile exports and is ignored otherwise.
func (m *Manager) ExportProfile(ctx context.Context, id, format, password string) ([]byte, error) {
	switch format {
	case FormatP12:
		return m.ExportPKCS12(id, password)
	case FormatPEM, FormatPEMChain, FormatDER:
		return m.ExportCertificate(id, format)
	case FormatProfile:
		return m.exportBundle(ctx, password, id)
	}
	return nil, fmt.Errorf("%w: format must be p12, pem, pem-chain, der or profile", ErrBadInput)
}

// ExportCertificate returns the certificate of a profile as PEM or DER
// (the "copy to file" of the certificate view): the profile's certificate
// alone, or with FormatPEMChain followed by its chain.
func (m *Manager) ExportCertificate(id, format string) ([]byte, error) {
	rec, _, ok := m.view(0).find(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if rec.cert == nil {
		return nil, fmt.Errorf("%w: profile %s has no readable certificate", ErrConflict, id)
	}
	switch format {
	case FormatPEM:
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rec.cert.Raw}), nil
	case FormatPEMChain:
		out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rec.cert.Raw})
		for _, c := range rec.chain {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		return out, nil
	case FormatDER:
		return append([]byte(nil), rec.cert.Raw...), nil
	}
	return nil, fmt.Errorf("%w: format must be pem, pem-chain or der", ErrBadInput)
}

// ExportPKCS12 returns the profile's certificate, chain and private key as
// a PKCS#12 file (modern encryption: PBES2 AES-256, SHA-256 MAC).
func (m *Manager) ExportPKCS12(id, password string) ([]byte, error) {
	if password == "" {
		return nil, fmt.Errorf("%w: a password is required to export a private key", ErrBadInput)
	}
	rec, _, ok := m.view(0).find(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	switch {
	case rec.cert == nil:
		return nil, fmt.Errorf("%w: profile %s has no readable certificate", ErrConflict, id)
	case rec.key == nil && rec.hasKey:
		return nil, fmt.Errorf("profile %s: %w", id, ErrLocked)
	case rec.key == nil:
		return nil, fmt.Errorf("%w: profile %s has no private key", ErrConflict, id)
	}
	if err := certcheck.KeyMatches(rec.cert, rec.key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConflict, err)
	}
	out, err := pkcs12.Modern.Encode(rec.key, rec.cert, rec.chain, password)
	if err != nil {
		return nil, fmt.Errorf("profiles: encode PKCS#12: %w", err)
	}
	return out, nil
}
