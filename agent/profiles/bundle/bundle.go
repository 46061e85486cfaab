// Package bundle encodes the migration bundle: every signature profile of a
// computer (metadata, certificate, private key) and the default choice, as
// one tar archive encrypted with age under a passphrase (scrypt recipient).
// It only encodes and decodes, bounding everything it reads; the profiles
// package decides what to write.
package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
)

// Format is the version of the manifest written and read.
const Format = 1

// Bounds applied when opening a bundle.
const (
	MaxDecrypted = 64 << 20 // bytes of plaintext tar
	MaxProfiles  = 10_000
	MaxFileSize  = 1 << 20
	maxManifest  = 64 << 10
	// MaxFilesPerProfile bounds the files of one profile (as a profile
	// folder: every file of it travels, not only the known ones).
	MaxFilesPerProfile = 64
	minPassphrase      = 8
	ManifestName       = "manifest.json"
	profilesPrefix     = "profiles/"
	maxWorkFactor      = 18 // scrypt log2(N) accepted when opening: the age default, 256 MiB
)

// Errors of Open, wrapped with details.
var (
	ErrPassphrase = errors.New("wrong passphrase (or not a bundle for this passphrase)")
	ErrDamaged    = errors.New("the bundle is damaged or not a profile bundle")
	ErrTooLarge   = errors.New("the bundle is too large")
)

// AllowedFiles are the file names a profile may carry in a bundle.
var AllowedFiles = map[string]bool{
	"profile.json": true, "certificate.pem": true, "certificate.crt": true,
	"certificate.cer": true, "certificate.der": true, "key.pem": true, "profile.p12": true,
}

// fileRe is what any other file name of a profile folder may look like to
// travel in a bundle: one path element, no leading dot, portable.
var fileRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9 ._+()-]{0,127}$`)

// AllowedFile reports whether a profile file of that name can travel in a
// bundle: the known names and any other plain, portable file name (a
// migration carries every file of a profile folder).
func AllowedFile(name string) bool {
	return AllowedFiles[name] || (fileRe.MatchString(name) && !strings.HasSuffix(name, " ") && !strings.Contains(name, ".."))
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// Profile is one profile in a bundle: its id and its files by name.
type Profile struct {
	ID    string
	Files map[string][]byte
}

// Contents is everything a bundle carries.
type Contents struct {
	Created  time.Time
	Default  string // id of the default profile, may be empty
	Profiles []Profile
}

type manifest struct {
	Format   int       `json:"format"`
	Created  time.Time `json:"created"`
	Default  string    `json:"default,omitempty"`
	Profiles []string  `json:"profiles"`
}

// CheckPassphrase rejects passphrases too short to protect private keys.
func CheckPassphrase(p string) error {
	if len([]rune(p)) < minPassphrase {
		return fmt.Errorf("the passphrase must have at least %d characters", minPassphrase)
	}
	return nil
}

// Seal writes c as a tar archive encrypted to passphrase. workFactor is the
// scrypt log2(N); 0 means the age default.
func Seal(c Contents, passphrase string, workFactor int) ([]byte, error) {
	if err := CheckPassphrase(passphrase); err != nil {
		return nil, err
	}
	plain, err := encodeTar(c)
	if err != nil {
		return nil, err
	}
	if len(plain) > MaxDecrypted {
		return nil, fmt.Errorf("%w: %d bytes (at most %d)", ErrTooLarge, len(plain), MaxDecrypted)
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if workFactor > 0 {
		r.SetWorkFactor(workFactor)
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, fmt.Errorf("bundle: encrypt: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("bundle: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("bundle: encrypt: %w", err)
	}
	return out.Bytes(), nil
}

// IsBundle reports whether data starts like an age file.
func IsBundle(data []byte) bool {
	return bytes.HasPrefix(data, []byte("age-encryption.org/"))
}

// Open decrypts and decodes a bundle, checking every bound. Nothing is
// returned unless the whole bundle is sound.
func Open(data []byte, passphrase string) (Contents, error) {
	if len(data) > MaxDecrypted+(1<<20) {
		return Contents{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return Contents{}, fmt.Errorf("bundle: %w", err)
	}
	id.SetMaxWorkFactor(maxWorkFactor)
	r, err := age.Decrypt(bytes.NewReader(data), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return Contents{}, ErrPassphrase
		}
		return Contents{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxDecrypted+1))
	if err != nil {
		return Contents{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if len(plain) > MaxDecrypted {
		return Contents{}, fmt.Errorf("%w: more than %d bytes once decrypted", ErrTooLarge, MaxDecrypted)
	}
	return DecodeTar(plain)
}

func encodeTar(c Contents) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	man := manifest{Format: Format, Created: c.Created.UTC(), Default: c.Default}
	for _, p := range c.Profiles {
		man.Profiles = append(man.Profiles, p.ID)
	}
	mb, err := json.Marshal(man)
	if err != nil {
		return nil, fmt.Errorf("bundle: manifest: %w", err)
	}
	add := func(name string, b []byte, mode int64) error {
		h := &tar.Header{Name: name, Mode: mode, Size: int64(len(b)), ModTime: man.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("bundle: %s: %w", name, err)
		}
		_, err := tw.Write(b)
		return err
	}
	if err := add(ManifestName, mb, 0o600); err != nil {
		return nil, err
	}
	for _, p := range c.Profiles {
		if !idRe.MatchString(p.ID) {
			return nil, fmt.Errorf("bundle: bad profile id %q", p.ID)
		}
		if len(p.Files) > MaxFilesPerProfile {
			return nil, fmt.Errorf("bundle: profile %s: more than %d files", p.ID, MaxFilesPerProfile)
		}
		names := make([]string, 0, len(p.Files))
		for n := range p.Files {
			if !AllowedFile(n) {
				return nil, fmt.Errorf("bundle: profile %s: file %q not allowed", p.ID, n)
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := add(profilesPrefix+p.ID+"/"+n, p.Files[n], 0o600); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeTar parses the plaintext archive of a bundle. It never panics and
// accepts only: manifest.json first, then regular files named
// profiles/<id>/<allowed name>, each profile listed in the manifest.
func DecodeTar(plain []byte) (Contents, error) {
	if len(plain) > MaxDecrypted {
		return Contents{}, ErrTooLarge
	}
	bad := func(format string, args ...any) (Contents, error) {
		return Contents{}, fmt.Errorf("%w: %s", ErrDamaged, fmt.Sprintf(format, args...))
	}
	tr := tar.NewReader(bytes.NewReader(plain))
	var (
		man   manifest
		haveM bool
		byID  = map[string]*Profile{}
		order []string
	)
	for entries := 0; ; entries++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad("%v", err)
		}
		if entries > MaxProfiles*MaxFilesPerProfile+1 {
			return bad("too many entries")
		}
		if h.Typeflag != tar.TypeReg {
			return bad("entry %q is not a regular file", h.Name)
		}
		if h.Size < 0 || h.Size > MaxFileSize {
			return bad("entry %q is too large", h.Name)
		}
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil || int64(len(b)) != h.Size {
			return bad("entry %q is truncated", h.Name)
		}
		if !haveM {
			if h.Name != ManifestName || h.Size > maxManifest {
				return bad("the manifest must come first")
			}
			if err := json.Unmarshal(b, &man); err != nil {
				return bad("manifest: %v", err)
			}
			if man.Format != Format {
				return bad("unsupported bundle format %d", man.Format)
			}
			if len(man.Profiles) > MaxProfiles {
				return bad("too many profiles (%d, at most %d)", len(man.Profiles), MaxProfiles)
			}
			haveM = true
			continue
		}
		id, file, ok := splitName(h.Name)
		if !ok {
			return bad("unexpected entry %q", h.Name)
		}
		p := byID[id]
		if p == nil {
			if len(byID) >= MaxProfiles {
				return bad("too many profiles")
			}
			p = &Profile{ID: id, Files: map[string][]byte{}}
			byID[id] = p
			order = append(order, id)
		}
		if _, dup := p.Files[file]; dup {
			return bad("duplicate entry %q", h.Name)
		}
		if len(p.Files) >= MaxFilesPerProfile {
			return bad("profile %q has more than %d files", id, MaxFilesPerProfile)
		}
		p.Files[file] = b
	}
	if !haveM {
		return bad("no manifest")
	}
	listed := map[string]bool{}
	for _, id := range man.Profiles {
		if listed[id] || byID[id] == nil {
			return bad("manifest lists profile %q twice or without files", id)
		}
		listed[id] = true
	}
	if len(listed) != len(byID) {
		return bad("the archive holds profiles the manifest does not list")
	}
	if man.Default != "" && !listed[man.Default] {
		return bad("the default profile %q is not in the bundle", man.Default)
	}
	c := Contents{Created: man.Created, Default: man.Default}
	for _, id := range order {
		c.Profiles = append(c.Profiles, *byID[id])
	}
	return c, nil
}

func splitName(name string) (id, file string, ok bool) {
	if !strings.HasPrefix(name, profilesPrefix) || path.Clean(name) != name {
		return "", "", false
	}
	rest := strings.TrimPrefix(name, profilesPrefix)
	id, file, ok = strings.Cut(rest, "/")
	if !ok || !idRe.MatchString(id) || !AllowedFile(file) {
		return "", "", false
	}
	return id, file, true
}
