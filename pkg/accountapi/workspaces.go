package accountapi

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Paths of the account's workspaces.
const (
	PathWorkspaces       = "/v1/account/workspaces"
	PathWorkspace        = PathWorkspaces + "/{id}"
	PathWorkspaceTokens  = PathWorkspace + "/enrollment-tokens"
	PathWorkspaceToken   = PathWorkspaceTokens + "/{token}"
	PathWorkspaceSuggest = PathWorkspaces + "/suggestion"
)

// MaxWorkspaceName bounds a workspace name, in characters.
const MaxWorkspaceName = 64

// workspacePunct is the punctuation a workspace name may hold besides
// letters, digits and spaces.
const workspacePunct = "()[]-_.,'’&+#/:@"

// ErrWorkspaceName is why a name is refused; its text is the rule.
var ErrWorkspaceName = errors.New("a workspace name has 1 to 64 characters: letters, digits, spaces and ( ) [ ] - _ . , ' & + # / : @")

// NormalizeWorkspaceName returns name as stored (NFC, trimmed, inner runs
// of spaces made one) and the key names are compared by (case-folded), or
// ErrWorkspaceName.
func NormalizeWorkspaceName(name string) (string, string, error) {
	if !utf8.ValidString(name) || len(name) > 4*MaxWorkspaceName {
		return "", "", ErrWorkspaceName
	}
	name = strings.Join(strings.Fields(norm.NFC.String(name)), " ")
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxWorkspaceName {
		return "", "", ErrWorkspaceName
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && !strings.ContainsRune(workspacePunct, r) {
			return "", "", ErrWorkspaceName
		}
	}
	return name, strings.ToLower(name), nil
}

// Management modes of a workspace.
const (
	ModeLocalRemote = "local_remote" // the person and the administrator (most users)
	ModeLocal       = "local"        // the person only: no remote commands
	ModeRemote      = "remote"       // the administrator only: the person cannot deactivate nor change activation or profiles
)

// ValidMode reports whether m is a workspace management mode.
func ValidMode(m string) bool { return m == ModeLocalRemote || m == ModeLocal || m == ModeRemote }

// WorkspaceRequest creates a workspace (POST) or changes one (PATCH: empty
// fields are left as they are).
type WorkspaceRequest struct {
	Name             string `json:"name,omitempty"`
	LicenseID        string `json:"license_id,omitempty"`      // the one license; PATCH: reassign
	ManagementMode   string `json:"management_mode,omitempty"` // default local_remote
	ReclaimAfterDays *int   `json:"reclaim_after_days,omitempty"`
}

// Validate checks the fields; create says whether name and license are required.
func (r WorkspaceRequest) Validate(create bool) error {
	if create && (r.Name == "" || r.LicenseID == "") {
		return invalid("name and license_id are required")
	}
	if r.Name != "" {
		if _, _, err := NormalizeWorkspaceName(r.Name); err != nil {
			return invalid(err.Error())
		}
	}
	if len(r.LicenseID) > 128 {
		return invalid("license_id is too long")
	}
	if r.ManagementMode != "" && !ValidMode(r.ManagementMode) {
		return invalid("management_mode must be local_remote, local or remote")
	}
	if d := r.ReclaimAfterDays; d != nil && (*d < 0 || *d > 3650) {
		return invalid("reclaim_after_days must be between 0 (never) and 3650")
	}
	return nil
}

// WorkspaceJSON is a workspace with the settings of its license.
type WorkspaceJSON struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	ManagementMode   string     `json:"management_mode"`
	ReclaimAfterDays int        `json:"reclaim_after_days"`
	LicenseID        string     `json:"license_id"`
	LicenseKey       string     `json:"license_key"`
	Plan             string     `json:"plan"`
	TermEnd          *time.Time `json:"term_end,omitempty"`
	AutoRenew        bool       `json:"auto_renew"`
	Seats            int        `json:"seats"`
	SeatsUsed        int        `json:"seats_used"`
	Created          time.Time  `json:"created"`
}

// SuggestionJSON is a free workspace name.
type SuggestionJSON struct {
	Name string `json:"name"`
}

// EnrollmentTokenRequest creates an enrollment token.
type EnrollmentTokenRequest struct {
	Label      string `json:"label,omitempty"`
	MaxUses    int    `json:"max_uses,omitempty"`    // 0: unlimited
	TTLSeconds int    `json:"ttl_seconds,omitempty"` // 0: no expiry
}

// Validate bounds the fields.
func (r EnrollmentTokenRequest) Validate() error {
	switch {
	case utf8.RuneCountInString(r.Label) > 100 || !utf8.ValidString(r.Label):
		return invalid("label is at most 100 characters")
	case r.MaxUses < 0 || r.MaxUses > 1000000:
		return invalid("max_uses must be between 0 (unlimited) and 1000000")
	case r.TTLSeconds < 0 || r.TTLSeconds > 366*24*3600:
		return invalid("ttl_seconds must be between 0 (no expiry) and one year")
	}
	return nil
}

// EnrollmentTokenJSON is an enrollment token; Token (the secret) is shown
// only in the answer that creates it.
type EnrollmentTokenJSON struct {
	ID        string     `json:"id"`
	Token     string     `json:"token,omitempty"`
	Label     string     `json:"label,omitempty"`
	MaxUses   int        `json:"max_uses,omitempty"`
	Uses      int        `json:"uses"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Created   time.Time  `json:"created"`
}
