package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/entitle/entitle/pkg/testenv"
)

// loadAxe reads axe-core, the accessibility checker (npm, pinned in
// package-lock.json; .ci/run installs it with npm ci).
func loadAxe(t *testing.T) string {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(t), "server", "browsertest", "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(path)
	testenv.Require(t, err == nil, "axe-core (npm ci --prefix server/browsertest)")
	return string(b)
}

// axeRun runs axe-core on the page and returns its serious and critical
// violations, one line each.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`

// accessible injects axe-core into the page (scripts are switched on for
// the check when the tab runs none) and fails on any serious or critical
// violation.
func (tb *tab) accessible(axe string) {
	tb.t.Helper()
	if found := tb.violations(axe); len(found) > 0 {
		tb.t.Errorf("accessibility (axe-core) on %s:\n%s", tb.location(), strings.Join(found, "\n"))
	}
}

func (tb *tab) violations(axe string) []string {
	tb.t.Helper()
	if !tb.js {
		tb.do(scripts(false))
		defer tb.do(scripts(true))
	}
	run(tb, chromedp.Evaluate[bool](axe+";true"))
	return run(tb, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
}
