package profiles

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
)

// maxFilesPerProfile bounds the entries read from one profile subfolder.
const maxFilesPerProfile = 64

// record is what scanning one profile subfolder found. Time-dependent and
// folder-wide facts (status, default, licensing) are derived later, in view.
type record struct {
	dir    string // subfolder name
	meta   Meta   // zero unless metaOK
	metaOK bool
	// adopted: the folder has no profile.json but a usable certificate
	// and key; meta was made from the folder name and the certificate.
	adopted bool
	problem string // why the profile is invalid; empty when usable

	subject, issuer, serial string
	notBefore, notAfter     time.Time
	hasCert, selfSigned     bool
	hasKey                  bool

	cert  *x509.Certificate   // the profile's certificate, kept for exports; nil when absent
	chain []*x509.Certificate // its CA certificates as stored (at most certcheck.MaxChain)
	key   crypto.Signer       // nil when absent or locked

	digest [32]byte // content digest, to tell a change from a touch
	cred   [32]byte // digest of the credential files only
	// cleanRead: every known file was read (none refused), so digest
	// stands for the whole profile.
	cleanRead bool
}

// id is the profile id: from the metadata, or the folder name as a fallback
// so a broken profile can still be listed and deleted.
func (r *record) id() string {
	if r.metaOK {
		return r.meta.ID
	}
	return r.dir
}

func (r *record) invalid(format string, args ...any) {
	if r.problem == "" {
		r.problem = fmt.Sprintf(format, args...)
	}
}

// scanProfile reads one profile subfolder. It never follows symbolic links
// and never reads a file larger than maxFile. When prev (the last scan of
// the same subfolder) saw exactly the same files, its parse is reused:
// records are never modified once built.
func scanProfile(ctx context.Context, root, name string, maxFile int64, parseTimeout time.Duration, prev *record) *record {
	r := &record{dir: name}
	dir := filepath.Join(root, name)
	st, err := os.Lstat(dir)
	if err != nil {
		return nil
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		r.invalid("the profile folder is a symbolic link; links are not followed")
		r.digest = sha256.Sum256([]byte("symlink"))
		return r
	}
	if !st.IsDir() {
		return nil
	}
	files, err := readProfileFiles(dir, maxFile, r.invalid)
	if err != nil {
		r.invalid("cannot read the profile folder: %v", err)
		return r
	}
	r.digest = digestFiles(files)
	if r.problem == "" && prev != nil && prev.cleanRead && prev.digest == r.digest {
		return prev
	}
	r.cleanRead = r.problem == ""
	r.cred = credentialDigest(files)
	pctx, cancel := context.WithTimeout(ctx, parseTimeout)
	defer cancel()
	r.parse(pctx, files)
	if ctx.Err() != nil {
		return nil // interrupted: the caller keeps its previous picture
	}
	return r
}

// readProfileFiles reads the known files of a profile folder, reporting
// each file it refuses (symbolic link, too large, unreadable) to refuse.
func readProfileFiles(dir string, maxFile int64, refuse func(format string, args ...any)) (map[string][]byte, error) {
	entries, err := readDirBounded(dir, maxFilesPerProfile)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		n := e.Name()
		if !knownFile(n) {
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			refuse("%s is a symbolic link%s; links are not followed", n, symlinkWhere(dir, n))
			continue
		}
		b, err := readBounded(filepath.Join(dir, n), maxFile)
		if err != nil {
			if errors.Is(err, errTooLarge) {
				refuse("%v", err)
			} else {
				refuse("cannot read %s: %v", n, err)
			}
			continue
		}
		files[n] = b
	}
	return files, nil
}

// digestFiles hashes file names and contents in name order.
func digestFiles(files map[string][]byte) [32]byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		io.WriteString(h, n)
		h.Write([]byte{0})
		h.Write(files[n])
		h.Write([]byte{0})
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// credentialDigest hashes only the certificate and key files, so two
// profiles holding the same credentials under different metadata match.
func credentialDigest(files map[string][]byte) [32]byte {
	c := make(map[string][]byte, len(files))
	for n, b := range files {
		if n != MetaFile && knownFile(n) { // other files travel but are not credentials
			c[n] = b
		}
	}
	return digestFiles(c)
}

func (r *record) parse(ctx context.Context, files map[string][]byte) {
	b, hasMeta := files[MetaFile]
	if !hasMeta {
		defer r.adopt()
	} else if m, err := ParseMeta(b); err != nil {
		r.invalid("%v", err)
	} else {
		r.meta, r.metaOK = m, true
	}
	var certName string
	for _, n := range certFiles {
		if _, ok := files[n]; ok {
			if certName != "" {
				r.invalid("several certificate files (%s and %s)", certName, n)
				break
			}
			certName = n
		}
	}
	p12, hasP12 := files[PKCS12File]
	keyPEM, hasKeyFile := files[KeyFile]
	switch {
	case hasP12 && (certName != "" || hasKeyFile):
		r.invalid("both profile.p12 and separate certificate or key files")
	case hasP12:
		key, cert, chain, err := certcheck.ParsePKCS12(ctx, p12, "")
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			r.invalid("profile.p12: took too long to open; the file is not tried again until it changes")
		case errors.Is(err, certcheck.ErrLocked):
			r.hasKey = true
			r.invalid("encrypted PKCS#12: key present but locked")
		case err != nil:
			r.invalid("profile.p12: %v", err)
		default:
			r.setCert(cert, chain)
			r.key, r.hasKey = key, true
		}
	default:
		if certName == "" {
			r.invalid("no certificate (certificate.pem, .crt, .cer, .der or profile.p12)")
		} else if cert, chain, err := certcheck.ParseCertificates(files[certName]); err != nil {
			r.invalid("%s: %v", certName, err)
		} else {
			r.setCert(cert, chain)
		}
		if !hasKeyFile {
			r.invalid("no private key (key.pem or profile.p12)")
		} else if key, err := certcheck.ParseKeyFile(keyPEM); errors.Is(err, certcheck.ErrLocked) {
			r.hasKey = true
			r.invalid("key.pem: encrypted private key: key present but locked")
		} else if err != nil {
			r.invalid("key.pem: %v", err)
		} else {
			r.key, r.hasKey = key, true
		}
	}
	if r.cert != nil {
		if err := certcheck.SigningUsage(r.cert); err != nil {
			r.invalid("%v", err)
		}
		if r.key != nil {
			if err := certcheck.KeyMatches(r.cert, r.key); err != nil {
				r.invalid("%v", err)
			}
		}
	}
}

// adopt makes a profile of a folder without profile.json (a person
// dropped a certificate and its key into a subfolder): when its
// credentials are usable and its name can be an id, the id is the folder
// name, the name and owner the certificate's common name, and the creation
// time the certificate's start of validity (stable, so the plan's order
// does not move). Otherwise the folder is invalid and says why.
func (r *record) adopt() {
	switch {
	case r.problem != "":
		r.problem = "profile.json is missing, and " + r.problem
		return
	case !ValidID(r.dir):
		r.invalid("profile.json is missing, and the folder name %q cannot be a profile id (1-64 letters, digits, '-' or '_'); rename the folder or import its files with 'entitle profiles import'", r.dir)
		return
	}
	cn := certcheck.CommonName(r.cert)
	name, owner := cn, cn
	if checkText("name", name, true) != nil {
		name = r.dir
	}
	if checkText("owner", owner, false) != nil {
		owner = ""
	}
	start := r.cert.NotBefore.UTC()
	r.meta = Meta{Format: FormatV1, ID: r.dir, Name: name, Owner: owner, Created: start, Updated: start}
	r.metaOK, r.adopted = true, true
}

// setCert records the profile's certificate (the first of its file, or the
// key's in a PKCS#12) and its chain; subject, validity and key match are
// always those of c.
func (r *record) setCert(c *x509.Certificate, chain []*x509.Certificate) {
	r.cert, r.chain, r.hasCert = c, chain, true
	r.subject = c.Subject.String()
	r.issuer = c.Issuer.String()
	r.serial = certcheck.Serial(c)
	r.notBefore, r.notAfter = c.NotBefore, c.NotAfter
	r.selfSigned = certcheck.SelfSigned(c)
}

func knownFile(n string) bool {
	if n == MetaFile || n == KeyFile || n == PKCS12File {
		return true
	}
	for _, c := range certFiles {
		if n == c {
			return true
		}
	}
	return false
}

// symlinkWhere says where a link points when it leaves the profile folder,
// without following it.
func symlinkWhere(dir, name string) string {
	t, err := os.Readlink(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join(dir, t)
	}
	rel, err := filepath.Rel(dir, filepath.Clean(t))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return " pointing outside the profile folder"
	}
	return ""
}

// readDirBounded lists at most limit+1 entries of dir, failing beyond limit.
func readDirBounded(dir string, limit int) ([]fs.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(limit + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(entries) > limit {
		return nil, fmt.Errorf("more than %d entries", limit)
	}
	return entries, nil
}
