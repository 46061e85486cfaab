package icons

import (
	"embed"
	"fmt"
)

//go:embed data/*.png data/*.ico
var files embed.FS

// PNGName and ICOName are the file names under data/.
func PNGName(k Kind, size int) string { return fmt.Sprintf("%s-%d.png", k, size) }
func ICOName(k Kind) string           { return string(k) + ".ico" }

// PNG returns the committed PNG of kind at size (one of Sizes).
func PNG(k Kind, size int) ([]byte, error) {
	b, err := files.ReadFile("data/" + PNGName(k, size))
	if err != nil {
		return nil, fmt.Errorf("icons: %s at %d px: %w", k, size, err)
	}
	return b, nil
}

// ICO returns the committed multi-size ICO of kind.
func ICO(k Kind) ([]byte, error) {
	b, err := files.ReadFile("data/" + ICOName(k))
	if err != nil {
		return nil, fmt.Errorf("icons: %s ico: %w", k, err)
	}
	return b, nil
}
