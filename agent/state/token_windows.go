package state

import "errors"

// setTokenGroup: on Windows the token file inherits the ACL of the state
// folder (%ProgramData%\Entitle: SYSTEM and Administrators full control, the
// installer grants read to the allowed users group); a per-file group is not
// supported.
func setTokenGroup(path, group string) error {
	if group != "" {
		return errors.New("a token group is not supported on Windows; grant access on the state folder instead")
	}
	return nil
}
