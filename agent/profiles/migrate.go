package profiles

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	v := m.view(0)
	c := bundle.Contents{Created: m.now()}
	seen := map[string]bool{}
	for i, r := range v.recs {
		if !r.metaOK || seen[r.meta.ID] || (onlyID != "" && r.meta.ID != onlyID) {
			continue
		}
		seen[r.meta.ID] = true
		files, err := readProfileFiles(filepath.Join(m.dir, r.dir), m.opts.MaxFileSize, func(string, ...any) {})
		if err != nil {
			m.writeMu.Unlock()
			return nil, fmt.Errorf("profiles: export %s: %w", r.meta.ID, err)
		}
		c.Profiles = append(c.Profiles, bundle.Profile{ID: r.meta.ID, Files: files})
		if i == v.deflt {
			c.Default = r.meta.ID
		}
		if err := ctx.Err(); err != nil {
			m.writeMu.Unlock()
			return nil, err
		}
	}
	m.writeMu.Unlock()
	if onlyID != "" && len(c.Profiles) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, onlyID)
	}
	if onlyID != "" {
		c.Default = ""
	}
	out, err := bundle.Seal(c, passphrase, m.opts.BundleWorkFactor)
	if err != nil {
		return nil, fmt.Errorf("profiles: export: %w", err)
	}
	m.log.Info("profiles: exported a bundle", "profiles", len(c.Profiles))
	return out, nil
}

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
		info, err := m.Get(pl.meta.ID, 0)
		if err == nil {
			res.Imported = append(res.Imported, info)
		}
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
