package bad

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type loc struct{}

func (loc) T(id string, _ map[string]any) string { return id }

func f(w io.Writer, l loc, fs *pflag.FlagSet) error {
	fmt.Fprintln(w, "Deactivated.")                     // want
	fmt.Fprintf(w, "%s: %d\n", "x", 2)                  // fine: no word
	fmt.Fprintln(w, l.T("cli_deactivated", nil))        // fine: catalog
	fmt.Fprintln(w, "Last error: "+l.T("x", nil))       // want
	_ = &cobra.Command{Use: "x", Short: "Do something"} // want
	fs.Bool("yes", false, "do not ask")                 // want
	fmt.Fprintln(w, "only for developers")              // i18n:ignore test
	return errors.New("no terminal")                    // want
}

type item struct{ ID, Label string }

type logger interface{ Info(msg string, args ...any) }

func g(log logger, status string) (item, string) {
	log.Info("action ignored", "why", "for developers") // fine: a log message
	it := item{ID: "quit", Label: "Quit"}               // want: a text field
	_ = "status-line"                                   // fine: an id
	return it, "Entitle — " + status + " since today"   // want: prose
}
