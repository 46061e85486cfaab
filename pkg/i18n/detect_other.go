//go:build !windows && !darwin

package i18n

// systemLanguages is empty on Linux and the BSDs: programs there read the
// POSIX locale variables (POSIXLocale), which every desktop session sets.
func systemLanguages() []string { return nil }
