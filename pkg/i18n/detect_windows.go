//go:build windows

package i18n

import "golang.org/x/sys/windows"

// systemLanguages returns the user's preferred UI languages, strongest
// first, as Windows names them (BCP 47 style, "fr-FR").
func systemLanguages() []string {
	langs, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME)
	if err != nil {
		return nil
	}
	return langs
}
