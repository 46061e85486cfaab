// Command entitle is the Entitle licensing agent and its command line.
package main

import (
	"os"

	"github.com/entitle/entitle/agent/cli"
)

func main() { os.Exit(cli.Execute()) }
