//go:build !windows

package i18n

// systemLanguages is empty outside Windows: Linux and macOS programs read
// the POSIX locale variables (POSIXLocale), which a macOS login sets from the
// system's language too.
func systemLanguages() []string { return nil }
