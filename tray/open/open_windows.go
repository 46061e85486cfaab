package open

import "os/exec"

// rundll32's FileProtocolHandler opens a URL in the default browser without a
// shell (no quoting issues); explorer opens folders.
func urlCommand(u string) (string, []string) {
	return "rundll32", []string{"url.dll,FileProtocolHandler", u}
}
func folderCommand(dir string) (string, []string) { return "explorer", []string{dir} }

// explorer exits with status 1 even when it opened the folder.
func ignoreExit(err error) bool {
	ee, ok := err.(*exec.ExitError)
	return ok && ee.ExitCode() == 1
}
