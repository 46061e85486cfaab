package profiles

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/entitle/entitle/pkg/agentapi"
)

// maxLoose bounds the entries at the folder root reported as not profiles.
const maxLoose = 100

// Codes of agentapi.NotAProfile.
const (
	LoosePKCS12      = "pkcs12_at_root"      // a .p12/.pfx file: import it
	LooseCertificate = "certificate_at_root" // a .pem/.crt/.cer/.der/.key file: import it or put it in a subfolder
	LooseOther       = "other_at_root"       // any other file
)

// Loose lists the files at the folder root that are not profiles (a
// person dropped a certificate there): each with a code, the reason and
// the command that imports it. A profile is a subfolder; files at the root
// are never read as profiles, because a PKCS#12 file needs its password
// and a certificate needs its key beside it.
func (m *Manager) Loose() []agentapi.NotAProfile {
	f, err := os.Open(m.dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []agentapi.NotAProfile
	for len(out) < maxLoose {
		batch, err := f.ReadDir(1024)
		for _, e := range batch {
			n := e.Name()
			if skipName(n) || worthless[n] || e.IsDir() || e.Type()&fs.ModeSymlink != 0 || len(out) >= maxLoose {
				continue
			}
			out = append(out, looseEntry(filepath.Join(m.dir, n), n))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				m.log.Warn("profiles: cannot list the profile folder", "folder", m.dir, "err", err)
			}
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func looseEntry(path, name string) agentapi.NotAProfile {
	quoted := shellQuote(path)
	switch strings.ToLower(filepath.Ext(name)) {
	case ".p12", ".pfx":
		return agentapi.NotAProfile{Name: name, Code: LoosePKCS12,
			Reason:  "a PKCS#12 file at the folder root is not a profile (a profile is a subfolder); import it",
			Command: "entitle profiles import " + quoted}
	case ".pem", ".crt", ".cer", ".der", ".key":
		return agentapi.NotAProfile{Name: name, Code: LooseCertificate,
			Reason:  "a certificate or key file at the folder root is not a profile; import a file holding both the certificate and its key, or put the certificate and key.pem together in a subfolder",
			Command: "entitle profiles import " + quoted}
	}
	return agentapi.NotAProfile{Name: name, Code: LooseOther, Reason: "not part of any profile (a profile is a subfolder)"}
}

// shellQuote quotes a path for a command shown to a person.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '\\' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
