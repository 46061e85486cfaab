package profiles

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/entitle/entitle/agent/profiles/certcheck"

	"github.com/entitle/entitle/agent/profiles/bundle"
)

// incoming is one profile about to be imported.
type incoming struct {
	meta  Meta
	files map[string][]byte
}

// plan is what apply will write for one incoming profile.
type plan struct {
	meta    Meta
	files   map[string][]byte
	replace []string // subfolders removed when it is committed
	tmp     string
}

// ExportBundle writes every profile and the default choice into one
// passphrase-encrypted migration bundle.
func (m *Manager) ExportBundle(ctx context.Context, passphrase string) ([]byte, error) {
	return m.exportBundle(ctx, passphrase, "")
}

func (m *Manager) exportBundle(ctx context.Context, passphrase, onlyID string) ([]byte, error) {
	if err := bundle.CheckPassphrase(passphrase); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	m.writeMu.Lock()
	c, left, err := m.collectExport(ctx, onlyID)
	m.writeMu.Unlock()
	if err != nil {
		return nil, err
	}
	if len(left) > 0 {
		return nil, &LeftBehindError{Items: left}
	}
	if onlyID != "" && len(c.Profiles) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, onlyID)
	}
	out, err := bundle.Seal(c, passphrase, m.opts.BundleWorkFactor)
	if err != nil {
		return nil, fmt.Errorf("profiles: export: %w", err)
	}
	m.log.Info("profiles: exported a bundle", "profiles", len(c.Profiles))
	return out, nil
}

// collectExport gathers every file of every profile folder (or of onlyID's
// folder) into bundle contents, and lists what it cannot carry. A folder
// without readable metadata (or with a duplicate id) travels with
// metadata made for it (its id from the folder name when possible, its
// name from the certificate); the broken profile.json travels beside it as
// profile.json.broken.
func (m *Manager) collectExport(ctx context.Context, onlyID string) (bundle.Contents, []LeftBehind, error) {
	m.refresh(ctx, nil, true) // what is on disk now, not the last picture
	v := m.view(0)
	c := bundle.Contents{Created: m.now()}
	var left []LeftBehind
	if onlyID == "" {
		left = m.looseEntries()
	}
	ids, names := map[string]bool{}, map[string]string{}
	for _, r := range v.recs {
		if r.metaOK {
			names[foldName(r.meta.Name)] = r.meta.ID
		}
	}
	for i, r := range v.recs {
		if onlyID != "" && v.infos[i].ID != onlyID {
			continue
		}
		if err := ctx.Err(); err != nil {
			return c, nil, err
		}
		files, l := collectFolder(filepath.Join(m.dir, r.dir), r.dir, m.opts.MaxFileSize)
		left = append(left, l...)
		if len(files) == 0 {
			continue // an empty folder holds nothing to lose
		}
		meta := r.meta
		if r.adopted && !ids[meta.ID] { // it travels with the metadata it is listed with
			mb, err := meta.Marshal()
			if err != nil {
				return c, nil, err
			}
			files[MetaFile] = mb
		} else if !r.metaOK || ids[meta.ID] {
			made, err := m.madeMeta(r, ids, names)
			if err != nil {
				return c, nil, err
			}
			if b, ok := files[MetaFile]; ok {
				files[MetaFile+".broken"] = b
			}
			mb, err := made.Marshal()
			if err != nil {
				return c, nil, err
			}
			files[MetaFile] = mb
			meta = made
		}
		ids[meta.ID] = true
		c.Profiles = append(c.Profiles, bundle.Profile{ID: meta.ID, Files: files})
		if i == v.deflt && onlyID == "" && r.metaOK {
			c.Default = meta.ID
		}
	}
	return c, left, nil
}

// madeMeta makes metadata for a folder that has none usable.
func (m *Manager) madeMeta(r *record, ids map[string]bool, names map[string]string) (Meta, error) {
	id := r.dir
	if !ValidID(id) || ids[id] || (r.metaOK && r.meta.ID == id) {
		var err error
		if id, err = NewID(); err != nil {
			return Meta{}, err
		}
	}
	name := r.dir
	if r.metaOK {
		name = r.meta.Name
	} else if r.cert != nil && certcheck.CommonName(r.cert) != "" {
		name = certcheck.CommonName(r.cert)
	}
	if checkText("name", name, true) != nil {
		name = "Profile " + id
	}
	if _, taken := names[foldName(name)]; taken {
		name = uniqueName(names, name)
	}
	names[foldName(name)] = id
	owner := ""
	if r.cert != nil && checkText("owner", certcheck.CommonName(r.cert), false) == nil {
		owner = certcheck.CommonName(r.cert)
	}
	now := m.now().UTC()
	return Meta{Format: FormatV1, ID: id, Name: name, Owner: owner, Created: now, Updated: now}, nil
}

// worthless lists file names a desktop writes into any folder: they are
// not carried and not reported.
var worthless = map[string]bool{".DS_Store": true, "Thumbs.db": true, "desktop.ini": true}

// collectFolder reads every file of one profile folder; what cannot travel
// (links, subfolders, files too large or oddly named) is listed with why.
func collectFolder(dir, rel string, maxFile int64) (map[string][]byte, []LeftBehind) {
	files := map[string][]byte{}
	var left []LeftBehind
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, []LeftBehind{{Path: rel, Reason: fmt.Sprintf("cannot read the folder: %v", err)}}
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, []LeftBehind{{Path: rel, Reason: "the profile folder is a symbolic link (links are not followed)"}}
	}
	entries, err := readDirBounded(dir, bundle.MaxFilesPerProfile)
	if err != nil {
		return nil, []LeftBehind{{Path: rel, Reason: fmt.Sprintf("cannot read the folder: %v", err)}}
	}
	for _, e := range entries {
		n, p := e.Name(), rel+"/"+e.Name()
		switch {
		case worthless[n]:
			continue
		case e.Type()&fs.ModeSymlink != 0:
			left = append(left, LeftBehind{Path: p, Reason: "a symbolic link (links are not followed)"})
			continue
		case e.IsDir():
			left = append(left, LeftBehind{Path: p, Reason: "a folder inside a profile folder"})
			continue
		case !e.Type().IsRegular():
			left = append(left, LeftBehind{Path: p, Reason: "not a regular file"})
			continue
		case !bundle.AllowedFile(n):
			left = append(left, LeftBehind{Path: p, Reason: "a file name that cannot travel (hidden or unusual characters)"})
			continue
		}
		b, err := readBounded(filepath.Join(dir, n), maxFile)
		if err != nil {
			left = append(left, LeftBehind{Path: p, Reason: err.Error()})
			continue
		}
		files[n] = b
	}
	return files, left
}

// looseEntries lists what sits at the folder root besides the profile
// folders, the default file and the agent's hidden temporary folders.
func (m *Manager) looseEntries() []LeftBehind {
	var out []LeftBehind
	for _, l := range m.Loose() {
		r := l.Reason
		if l.Command != "" {
			r += ": " + l.Command
		}
		out = append(out, LeftBehind{Path: l.Name, Reason: r})
	}
	return out
}

// LeftBehind is one file or folder an export cannot carry, and why.
type LeftBehind struct {
	Path   string `json:"path"` // relative to the profile folder
	Reason string `json:"reason"`
}

// LeftBehindError refuses an export that would leave files behind.
type LeftBehindError struct{ Items []LeftBehind }

func (e *LeftBehindError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: the export would leave %d item(s) of the profile folder behind; nothing was exported. Move, import or delete them, then export again:", ErrConflict, len(e.Items))
	for i, it := range e.Items {
		if i == 20 {
			fmt.Fprintf(&b, " … and %d more", len(e.Items)-i)
			break
		}
		fmt.Fprintf(&b, " %s (%s);", it.Path, it.Reason)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Unwrap makes the error an ErrConflict.
func (e *LeftBehindError) Unwrap() error { return ErrConflict }

// ImportBundle adds the profiles of a bundle. A wrong passphrase, a damaged
// bundle or a refused clash writes nothing. Profiles already present with
// the same credentials are skipped, so importing twice is harmless. The
// bundle's default becomes the default only when no profile existed.
func (m *Manager) ImportBundle(ctx context.Context, data []byte, passphrase, onClash string, opts ImportOptions) (ImportResult, error) {
	onClash, err := checkOnClash(onClash)
	if err != nil {
		return ImportResult{}, err
	}
	c, err := bundle.Open(data, passphrase)
	switch {
	case errors.Is(err, bundle.ErrPassphrase):
		return ImportResult{}, fmt.Errorf("%w: %v", ErrWrongPassword, err)
	case err != nil:
		return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	in := make([]incoming, 0, len(c.Profiles))
	for _, p := range c.Profiles {
		meta, err := ParseMeta(p.Files[MetaFile])
		if err != nil {
			return ImportResult{}, fmt.Errorf("%w: bundle profile %s: %v", ErrBadInput, p.ID, err)
		}
		if meta.ID != p.ID {
			return ImportResult{}, fmt.Errorf("%w: bundle profile %s: id does not match its metadata", ErrBadInput, p.ID)
		}
		if len(c.Profiles) == 1 {
			if opts.Name != "" {
				meta.Name = opts.Name
			}
			if opts.Owner != "" {
				meta.Owner = opts.Owner
			}
			if err := meta.Validate(); err != nil {
				return ImportResult{}, fmt.Errorf("%w: %v", ErrBadInput, err)
			}
		}
		in = append(in, incoming{meta: meta, files: p.Files})
	}
	return m.apply(ctx, in, c.Default, onClash)
}

// apply plans every incoming profile against the folder, refusing the
// whole import on a "fail" clash, then stages all of them in hidden
// folders and only then renames them into place.
func (m *Manager) apply(ctx context.Context, in []incoming, bundleDefault, onClash string) (ImportResult, error) {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	v := m.view(0)
	byID := map[string]*record{}
	byCred := map[[32]byte]string{}
	for _, r := range v.recs {
		if r.metaOK {
			if _, dup := byID[r.meta.ID]; !dup {
				byID[r.meta.ID] = r
			}
			byCred[r.cred] = r.meta.ID
		}
	}
	names := map[string]string{} // folded name -> id, existing and planned
	for _, info := range v.infos {
		names[foldName(info.Name)] = info.ID
	}
	var (
		res     ImportResult
		plans   []*plan
		removed = map[string]bool{} // ids replaced
		idMap   = map[string]string{}
	)
	for _, p := range in {
		cred := credentialDigest(p.files)
		if id, ok := byCred[cred]; ok {
			res.Skipped = append(res.Skipped, id)
			idMap[p.meta.ID] = id
			continue
		}
		pl := &plan{meta: p.meta, files: p.files}
		if old, clash := byID[pl.meta.ID]; clash {
			switch onClash {
			case OnClashFail:
				return ImportResult{}, fmt.Errorf("%w: a different profile with id %s (%q) exists", ErrConflict, pl.meta.ID, old.meta.Name)
			case OnClashReplace:
				pl.replace = append(pl.replace, old.dir)
				removed[old.meta.ID] = true
				delete(names, foldName(old.meta.Name))
			case OnClashRename:
				id, err := NewID()
				if err != nil {
					return ImportResult{}, err
				}
				pl.meta.ID = id
			}
		}
		if otherID, clash := names[foldName(pl.meta.Name)]; clash {
			other := byID[otherID]
			switch {
			case onClash == OnClashFail:
				return ImportResult{}, fmt.Errorf("%w: a profile named %q already exists", ErrConflict, pl.meta.Name)
			case onClash == OnClashReplace && other != nil && !removed[otherID]:
				pl.replace = append(pl.replace, other.dir)
				removed[otherID] = true
			default:
				pl.meta.Name = uniqueName(names, pl.meta.Name)
			}
		}
		names[foldName(pl.meta.Name)] = pl.meta.ID
		idMap[p.meta.ID] = pl.meta.ID
		plans = append(plans, pl)
	}
	if err := ctx.Err(); err != nil {
		return ImportResult{}, err
	}
	for _, pl := range plans { // stage everything before touching visible names
		tmp, err := m.stageProfile(pl.meta, pl.files)
		if err != nil {
			cleanupStaged(plans)
			return ImportResult{}, err
		}
		pl.tmp = tmp
	}
	var dirs []string
	for i, pl := range plans {
		if err := m.commitStaged(pl.tmp, pl.meta.ID, pl.replace...); err != nil {
			cleanupStaged(plans[i+1:])
			m.refresh(context.Background(), nil, true)
			return ImportResult{}, err
		}
		dirs = append(dirs, append([]string{pl.meta.ID}, pl.replace...)...)
	}
	m.refresh(context.Background(), dirs, false)
	oldDefault := ""
	if v.deflt >= 0 {
		oldDefault = v.infos[v.deflt].ID
	}
	switch {
	case v.deflt < 0 && idMap[bundleDefault] != "":
		if err := m.writeDefault(idMap[bundleDefault]); err != nil {
			return ImportResult{}, err
		}
		m.refresh(context.Background(), nil, false)
	case v.deflt < 0 || removed[oldDefault]:
		if err := m.repairDefault(); err != nil {
			return ImportResult{}, err
		}
	}
	for _, pl := range plans {
		info, err := m.Get(pl.meta.ID, m.limit())
		if err == nil {
			res.Imported = append(res.Imported, info)
		}
		names := []string{MetaFile}
		for n := range pl.files {
			if n != MetaFile {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		if res.Files == nil {
			res.Files = map[string][]string{}
		}
		res.Files[pl.meta.ID] = names
	}
	m.log.Info("profiles: imported", "added", len(res.Imported), "skipped", len(res.Skipped))
	return res, nil
}

func cleanupStaged(plans []*plan) {
	for _, pl := range plans {
		if pl.tmp != "" {
			os.RemoveAll(pl.tmp)
		}
	}
}

func uniqueName(taken map[string]string, name string) string {
	if r := []rune(name); len(r) > maxNameRunes-8 {
		name = string(r[:maxNameRunes-8])
	}
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s (%d)", name, i)
		if _, ok := taken[foldName(n)]; !ok {
			return n
		}
	}
}
