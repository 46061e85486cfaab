package profiles

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/pkg/agentapi"
)

// CreateRequest describes a new profile with a self-signed certificate.
type CreateRequest struct {
	Name        string `json:"name"`            // display name; defaults to Owner
	Owner       string `json:"owner"`           // the certificate's CN
	Email       string `json:"email,omitempty"` // optional, put in the certificate
	ValidYears  int    `json:"valid_years"`     // 1..10, default 3
	MakeDefault bool   `json:"make_default"`
}

// Create generates an ECDSA P-256 key and a self-signed signing certificate
// and stores them as a new profile. The first profile becomes the default.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (agentapi.ProfileInfo, error) {
	req.Owner, req.Name, req.Email = strings.TrimSpace(req.Owner), strings.TrimSpace(req.Name), strings.TrimSpace(req.Email)
	if req.Name == "" {
		req.Name = req.Owner
	}
	if err := checkText("owner", req.Owner, true); err != nil {
		return agentapi.ProfileInfo{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	if err := checkText("name", req.Name, true); err != nil {
		return agentapi.ProfileInfo{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	if req.Email != "" {
		if a, err := mail.ParseAddress(req.Email); err != nil || a.Address != req.Email || len(req.Email) > 254 {
			return agentapi.ProfileInfo{}, fmt.Errorf("%w: email %q is not a plain address", ErrBadInput, req.Email)
		}
	}
	switch {
	case req.ValidYears == 0:
		req.ValidYears = 3
	case req.ValidYears < 1 || req.ValidYears > 10:
		return agentapi.ProfileInfo{}, fmt.Errorf("%w: valid_years must be 1 to 10", ErrBadInput)
	}
	if err := ctx.Err(); err != nil {
		return agentapi.ProfileInfo{}, err
	}
	key, cert, err := selfSigned(req, m.now())
	if err != nil {
		return agentapi.ProfileInfo{}, err
	}
	files, err := credentialFiles(cert, nil, key)
	if err != nil {
		return agentapi.ProfileInfo{}, err
	}
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	v := m.view(0)
	if clash := nameTaken(v, req.Name, ""); clash != "" {
		return agentapi.ProfileInfo{}, fmt.Errorf("%w: a profile named %q already exists", ErrConflict, req.Name)
	}
	id, err := NewID()
	if err != nil {
		return agentapi.ProfileInfo{}, err
	}
	now := m.now().UTC() // to the nanosecond: the plan's order must not tie
	meta := Meta{Format: FormatV1, ID: id, Name: req.Name, Owner: req.Owner, Created: now, Updated: now}
	if err := m.writeProfile(meta, files); err != nil {
		return agentapi.ProfileInfo{}, err
	}
	if req.MakeDefault || v.deflt < 0 {
		if err := m.writeDefault(id); err != nil {
			return agentapi.ProfileInfo{}, err
		}
	}
	m.refresh(context.Background(), []string{id}, false)
	m.log.Info("profiles: created", "id", id)
	return m.Get(id, m.limit())
}

// selfSigned makes the key and certificate of a new profile. ECDSA P-256
// is used because every PKCS#12 consumer (Windows, macOS, Java, OpenSSL,
// PDF signers) reads it; Ed25519 in PKCS#12 is not widely supported.
func selfSigned(req CreateRequest, now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("profiles: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("profiles: serial: %w", err)
	}
	start := now.UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: req.Owner},
		NotBefore:             start,
		NotAfter:              start.AddDate(req.ValidYears, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{certcheck.OIDDocumentSigning},
		BasicConstraintsValid: true,
	}
	if req.Email != "" {
		tmpl.EmailAddresses = []string{req.Email}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("profiles: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("profiles: parse new certificate: %w", err)
	}
	return key, cert, nil
}

// credentialFiles encodes a certificate (plus chain) and its PKCS#8 key.
func credentialFiles(cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer) (map[string][]byte, error) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("profiles: encode key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	for _, c := range chain {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return map[string][]byte{
		CertFile: certPEM,
		KeyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}, nil
}

// nameTaken returns the id of a profile other than exceptID named name.
func nameTaken(v view, name, exceptID string) string {
	for _, info := range v.infos {
		if info.ID != exceptID && sameName(info.Name, name) {
			return info.ID
		}
	}
	return ""
}

// writeProfile stores a profile as subfolder meta.ID: every file is written
// and fsynced in a hidden temporary folder, which is then renamed into
// place.
func (m *Manager) writeProfile(meta Meta, files map[string][]byte) error {
	tmp, err := m.stageProfile(meta, files)
	if err != nil {
		return err
	}
	return m.commitStaged(tmp, meta.ID)
}

// stageProfile writes a profile into a hidden temporary folder.
func (m *Manager) stageProfile(meta Meta, files map[string][]byte) (string, error) {
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return "", fmt.Errorf("profiles: create folder: %w", err)
	}
	mb, err := meta.Marshal()
	if err != nil {
		return "", err
	}
	tmp := filepath.Join(m.dir, ".tmp-"+meta.ID+"-"+randomSuffix())
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", fmt.Errorf("profiles: stage %s: %w", meta.ID, err)
	}
	all := map[string][]byte{MetaFile: mb}
	for n, b := range files {
		if n != MetaFile {
			all[n] = b
		}
	}
	for n, b := range all {
		perm := os.FileMode(0o600) // any other file may hold a secret too
		if n == MetaFile || knownCertFile(n) {
			perm = 0o644
		}
		if err := writeFileSync(filepath.Join(tmp, n), b, perm); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("profiles: stage %s: %w", meta.ID, err)
		}
	}
	if err := syncDir(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// commitStaged renames a staged folder to its final name, first moving the
// replaced subfolders and any folder already named id out of the way.
func (m *Manager) commitStaged(tmp, id string, replace ...string) error {
	final := filepath.Join(m.dir, id)
	var trash []string
	for _, old := range append(replace, id) {
		if old == "" {
			continue
		}
		p := filepath.Join(m.dir, old)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		t := filepath.Join(m.dir, ".trash-"+randomSuffix())
		if err := os.Rename(p, t); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("profiles: replace %s: %w", old, err)
		}
		trash = append(trash, t)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("profiles: store %s: %w", id, err)
	}
	err := syncDir(m.dir)
	for _, t := range trash {
		os.RemoveAll(t)
	}
	return err
}

// writeDefault atomically replaces the default file.
func (m *Manager) writeDefault(id string) error {
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return fmt.Errorf("profiles: create folder: %w", err)
	}
	return writeFileAtomic(filepath.Join(m.dir, DefaultFile), []byte(id+"\n"), 0o644)
}

// Delete removes a profile. When it was the default, the oldest remaining
// profile becomes the default.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	v := m.view(0)
	rec, info, ok := v.find(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	t := filepath.Join(m.dir, ".trash-"+randomSuffix())
	if err := os.Rename(filepath.Join(m.dir, rec.dir), t); err != nil {
		return fmt.Errorf("profiles: delete %s: %w", id, err)
	}
	if err := syncDir(m.dir); err != nil {
		return err
	}
	if err := os.RemoveAll(t); err != nil {
		m.log.Warn("profiles: could not remove a deleted profile's files", "folder", t, "err", err)
	}
	m.refresh(context.Background(), []string{rec.dir}, false)
	if info.Default {
		if err := m.repairDefault(); err != nil {
			return err
		}
	}
	m.log.Info("profiles: deleted", "id", id)
	return nil
}

// repairDefault makes the default file name the effective default (the
// oldest remaining profile), or removes it when no profile is left.
func (m *Manager) repairDefault() error {
	v := m.view(0)
	if v.deflt < 0 {
		err := os.Remove(filepath.Join(m.dir, DefaultFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("profiles: remove default: %w", err)
		}
		m.refresh(context.Background(), nil, false)
		return nil
	}
	if err := m.writeDefault(v.infos[v.deflt].ID); err != nil {
		return err
	}
	m.refresh(context.Background(), nil, false)
	return nil
}

// SetDefault makes id the default profile (one atomic file replace).
func (m *Manager) SetDefault(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	rec, info, ok := m.view(0).find(id)
	if !ok || !rec.metaOK {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if info.Status == certcheck.StatusInvalid {
		return fmt.Errorf("%w: profile %q is invalid (%s) and cannot be the default", ErrConflict, info.Name, info.Reason)
	}
	if err := m.writeDefault(id); err != nil {
		return err
	}
	m.refresh(context.Background(), nil, false)
	return nil
}

func knownCertFile(n string) bool {
	for _, c := range certFiles {
		if n == c {
			return true
		}
	}
	return false
}
