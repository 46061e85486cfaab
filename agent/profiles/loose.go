package profiles

import (
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
// and a certificate needs its key beside it. The list is kept by the scans
// (at most 100 entries), so asking costs no disk access.
func (m *Manager) Loose() []agentapi.NotAProfile {
	m.ensureLoaded()
	m.mu.RLock()
	out := make([]agentapi.NotAProfile, 0, len(m.loose))
	for _, l := range m.loose {
		out = append(out, l)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// isLoose tells a root entry that is neither a profile folder (nor a link
// to one) nor the agent's own.
func isLoose(e fs.DirEntry) bool {
	n := e.Name()
	return !skipName(n) && !worthless[n] && !e.IsDir() && e.Type()&fs.ModeSymlink == 0
}

// rescanLoose updates loose for one root name after a change.
func (m *Manager) rescanLoose(loose map[string]agentapi.NotAProfile, name string) {
	st, err := os.Lstat(filepath.Join(m.dir, name))
	if err != nil || !isLoose(fs.FileInfoToDirEntry(st)) {
		delete(loose, name)
		return
	}
	if _, known := loose[name]; known || len(loose) < maxLoose {
		loose[name] = looseEntry(filepath.Join(m.dir, name), name)
	}
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
