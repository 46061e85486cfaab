package profiles

import (
	"fmt"
	"sort"
	"time"

	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// maxWarnings bounds the warnings listed in a status.
const maxWarnings = 10

// view is a derived picture of the folder at one instant: the records in
// listing order (default first, then by creation time), with their status.
type view struct {
	infos   []agentapi.ProfileInfo
	recs    []*record
	deflt   int // index of the default in infos, -1 when there is no profile
	allowed int
}

// UnlimitedProfiles, or any value <= 0, means "no plan limit".
const UnlimitedProfiles = 0

// buildView derives statuses from the scanned records. defaultID is the
// content of the default file (may be stale or empty). maxProfiles <= 0
// means no limit.
func buildView(recs map[string]*record, defaultID string, now time.Time, window time.Duration, maxProfiles int) view {
	list := make([]*record, 0, len(recs))
	for _, r := range recs {
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return olderFirst(list[i], list[j]) })

	problems := make([]string, len(list))
	seen := make(map[string]string, len(list))
	for i, r := range list {
		problems[i] = r.problem
		if !r.metaOK {
			continue
		}
		if other, dup := seen[r.meta.ID]; dup {
			if problems[i] == "" {
				problems[i] = fmt.Sprintf("duplicate profile id %s (also in folder %s)", r.meta.ID, other)
			}
			continue
		}
		seen[r.meta.ID] = r.dir
	}
	deflt := chooseDefault(list, problems, defaultID)
	if deflt > 0 { // move the default to the front, keeping the others in order
		d, p := list[deflt], problems[deflt]
		copy(list[1:deflt+1], list[:deflt])
		copy(problems[1:deflt+1], problems[:deflt])
		list[0], problems[0] = d, p
		deflt = 0
	}
	v := view{infos: make([]agentapi.ProfileInfo, len(list)), recs: list, deflt: deflt, allowed: maxProfiles}
	usable := 0
	for i, r := range list {
		info := agentapi.ProfileInfo{
			ID: r.id(), Name: r.dir, Default: i == deflt,
			Subject: r.subject, Issuer: r.issuer, Serial: r.serial,
			SelfSigned: r.selfSigned, HasKey: r.hasKey, Adopted: r.adopted,
		}
		if r.metaOK {
			info.Name, info.Owner = r.meta.Name, r.meta.Owner
			info.Created, info.Updated = r.meta.Created, r.meta.Updated
		}
		if r.hasCert {
			nb, na := r.notBefore, r.notAfter
			info.NotBefore, info.NotAfter = &nb, &na
		}
		switch {
		case problems[i] != "":
			info.Status, info.Reason = certcheck.StatusInvalid, problems[i]
		case maxProfiles > 0 && usable >= maxProfiles:
			info.Status = certcheck.StatusUnlicensed
			info.Reason = fmt.Sprintf("your plan allows %d profiles; this one is beyond the limit", maxProfiles)
		default:
			usable++
			info.Licensed = true
			info.Status, info.Reason = certcheck.Evaluate(r.notBefore, r.notAfter, now, window)
		}
		v.infos[i] = info
	}
	return v
}

// olderFirst orders records by creation time (to the nanosecond, as
// written), then id, then folder name; records without readable metadata
// come last. With the default moved to the front, this is the order in
// which the plan's limit licenses profiles.
func olderFirst(a, b *record) bool {
	if a.metaOK != b.metaOK {
		return a.metaOK
	}
	if !a.meta.Created.Equal(b.meta.Created) {
		return a.meta.Created.Before(b.meta.Created)
	}
	if a.id() != b.id() {
		return a.id() < b.id()
	}
	return a.dir < b.dir
}

// chooseDefault returns the index of the default profile: the one named by
// the default file (even when invalid: the person chose it), else the
// oldest usable one, else the oldest with
// metadata, else the first; -1 when list is empty.
func chooseDefault(list []*record, problems []string, defaultID string) int {
	if len(list) == 0 {
		return -1
	}
	if defaultID != "" {
		for i, r := range list {
			if r.metaOK && r.meta.ID == defaultID { // the first match is never a duplicate
				return i
			}
		}
	}
	for i := range list {
		if problems[i] == "" {
			return i
		}
	}
	for i, r := range list {
		if r.metaOK {
			return i
		}
	}
	return 0
}

// find returns the record and info for id, or false.
func (v view) find(id string) (*record, agentapi.ProfileInfo, bool) {
	for i, info := range v.infos {
		if info.ID == id {
			return v.recs[i], info, true
		}
	}
	return nil, agentapi.ProfileInfo{}, false
}

func (v view) status(folder string) agentapi.ProfilesStatus {
	s := agentapi.ProfilesStatus{Folder: folder, Count: len(v.infos)}
	if v.deflt >= 0 {
		s.Default = v.infos[v.deflt].Name
	}
	var unlicensed int
	for _, info := range v.infos {
		switch info.Status {
		case certcheck.StatusInvalid:
			s.Invalid++
			s.Warnings = appendWarning(s.Warnings, fmt.Sprintf("profile %q is invalid: %s", info.Name, info.Reason))
		case certcheck.StatusExpiring:
			s.Expiring++
			s.Warnings = appendWarning(s.Warnings, fmt.Sprintf("the certificate of profile %q %s", info.Name, info.Reason))
		case certcheck.StatusExpired:
			s.Expired++
			s.Warnings = appendWarning(s.Warnings, fmt.Sprintf("the certificate of profile %q %s", info.Name, info.Reason))
		case certcheck.StatusUnlicensed:
			unlicensed++
		}
		if info.Status != certcheck.StatusInvalid && info.NotAfter != nil &&
			(s.EarliestCertUntil == nil || info.NotAfter.Before(*s.EarliestCertUntil)) {
			t := *info.NotAfter
			s.EarliestCertUntil = &t
		}
	}
	s.Unlicensed = unlicensed
	for _, info := range v.infos {
		if info.Licensed && (info.Status == certcheck.StatusValid || info.Status == certcheck.StatusExpiring) {
			s.Usable++
		}
	}
	if unlicensed > 0 {
		s.Warnings = appendWarning(s.Warnings, fmt.Sprintf("your plan allows %d profiles; %d are beyond the limit", v.allowed, unlicensed))
	}
	return s
}

func (v view) summary() protocol.ProfileSummary {
	s := v.status("")
	out := protocol.ProfileSummary{
		Total: s.Count, Expiring: s.Expiring, Expired: s.Expired,
		Invalid: s.Invalid, Unlicensed: s.Unlicensed, Default: s.Default,
	}
	for _, info := range v.infos {
		if info.Status == certcheck.StatusValid {
			out.Valid++
		}
	}
	if s.EarliestCertUntil != nil {
		out.EarliestCertUntil = s.EarliestCertUntil.Unix()
	}
	return out
}

func appendWarning(w []string, s string) []string {
	if len(w) >= maxWarnings {
		return w
	}
	return append(w, s)
}
