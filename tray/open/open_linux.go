package open

// On Linux (and other free desktops) xdg-open handles both URLs and folders.
func urlCommand(u string) (string, []string)      { return "xdg-open", []string{u} }
func folderCommand(dir string) (string, []string) { return "xdg-open", []string{dir} }
func ignoreExit(error) bool                       { return false }
