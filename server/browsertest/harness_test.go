package browsertest

import (
	"context"
	"github.com/entitle/entitle/server/servertest"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
)

// Bounds of the waits. Each browser step is one click or one page load on
// loopback, so a step that takes longer than stepTimeout is a hang.
const (
	stepTimeout  = 20 * time.Second
	startTimeout = 60 * time.Second
	totalTimeout = 5 * time.Minute // the browser and everything in it
)

// The server-process harness is server/servertest, shared with server/e2e.
type server = servertest.Server

func cliJSON(t testing.TB, bin, dsn, stdin string, out any, args ...string) {
	t.Helper()
	servertest.CLIJSON(t, bin, dsn, stdin, out, args...)
}

func startServer(t testing.TB, bin string, args ...string) *server {
	t.Helper()
	return servertest.Start(t, bin, args...)
}

// apiClient is the HTTP client of the simulated agent.
var apiClient = &http.Client{Timeout: 15 * time.Second}

// call sends a request as the simulated agent (see servertest.Server.Call).
func call(t testing.TB, s *server, method, path, bearer string, body, out any) int {
	t.Helper()
	return s.Call(t, apiClient, method, path, bearer, body, out)
}

func fingerprint(name string) string { return servertest.Fingerprint("browsertest\x00" + name) }

func facts(hostname string) protocol.DeviceFacts {
	return protocol.DeviceFacts{Hostname: hostname, OS: "linux", Arch: "amd64", AgentVersion: "browsertest"}
}

// checkin reports in with a device credential, as the agent does, and
// returns the status and the error code of a refusal.
func checkin(t testing.TB, s *server, credential, hostname string) (int, string) {
	t.Helper()
	var pe protocol.Error
	st := call(t, s, "POST", protocol.PathCheckin, credential,
		protocol.CheckinRequest{Fingerprint: fingerprint(hostname), Device: facts(hostname)}, &pe)
	return st, pe.Code
}

// otherSite is a second web server on another loopback port, so another
// origin than the licensing server: the pages a malicious site would serve.
type otherSite struct {
	srv   *httptest.Server
	mu    sync.Mutex
	pages map[string]string
}

func newOtherSite(t testing.TB) *otherSite {
	o := &otherSite{pages: map[string]string{}}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		page, ok := o.pages[r.URL.Path]
		o.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// serve publishes an HTML page at path and returns its URL.
func (o *otherSite) serve(path, html string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pages[path] = html
	return o.srv.URL + path
}

// browser is one headless Chromium for the whole test.
type browser struct {
	ctx    context.Context // the first tab; its children open more
	output *testenv.Buffer // Chromium's stdout and stderr
}

// startBrowser starts headless Chromium with no background traffic (the
// machine may have no internet). Its tabs run no JavaScript unless opened
// with newTabJS.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	chrome := testenv.LookPath(t, "chromium")
	b := &browser{output: &testenv.Buffer{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
		chromedp.CombinedOutput(b.output),
	)
	// Everything the browser does ends by totalTimeout, whatever hangs.
	root, cancelRoot := context.WithTimeout(context.Background(), totalTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for Chromium to exit, before its user-data-dir goes
		cancelRoot()
	})
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }() // the first run starts the browser
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v\n%s", err, b.output.String())
		}
	case <-time.After(startTimeout):
		cancelCtx()
		t.Fatalf("chromium did not start within %s\n%s", startTimeout, b.output.String())
	}
	b.ctx = ctx
	return b
}

// tab is a browser tab in a fresh browser context: its own cookies, like
// another person's browser.
type tab struct {
	t   *testing.T
	ctx context.Context
	js  bool // the tab runs the pages' scripts
}

func (b *browser) newTab(t *testing.T) *tab { return b.open(t, false) }

// newTabJS is a tab that runs the pages' JavaScript.
func (b *browser) newTabJS(t *testing.T) *tab { return b.open(t, true) }

func (b *browser) open(t *testing.T, js bool) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab and ties its life to the context it gets,
	// so it gets ctx itself, not a step's timeout (totalTimeout bounds it).
	if _, err := chromedp.Run(ctx, scripts(!js)); err != nil {
		t.Fatalf("open a tab: %v\n%s", err, b.output.String())
	}
	return &tab{t: t, ctx: ctx, js: js}
}

// run runs one browser step with a bounded wait.
func run[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("browser: %v (page %s)", err, tb.location())
	}
	return v
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	run(tb, chromedp.Steps(steps...))
}

// location is the tab's URL, for failure messages.
func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown: " + err.Error()
	}
	return loc
}

// open navigates to url and returns the HTTP status of the page.
func (tb *tab) open(url string) int {
	tb.t.Helper()
	resp := run(tb, chromedp.NavigateResponse(url))
	return int(resp.Status)
}

// click clicks the element the way a person does (mouse events at its
// center), waits for the page it leads to and returns that page's final
// HTTP response (after redirects).
func (tb *tab) click(sel string) *network.Response {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible))
	if err != nil {
		tb.t.Fatalf("browser: click %s: %v (page %s)", sel, err, tb.location())
	}
	return resp
}

// typeInto types text into a field, key by key.
func (tb *tab) typeInto(sel, text string) {
	tb.t.Helper()
	tb.do(chromedp.SendKeys(chromedp.Search(sel), text, chromedp.NodeVisible))
}

// text is the rendered text of the first element matching sel.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return strings.TrimSpace(run(tb, chromedp.Text(chromedp.Search(sel), chromedp.NodeVisible)))
}

// html is the current page's markup, for failure messages.
func (tb *tab) html() string {
	tb.t.Helper()
	return run(tb, chromedp.OuterHTML(chromedp.CSS("html")))
}

// count is the number of elements matching sel (an XPath or CSS selector).
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return len(run(tb, chromedp.Nodes(chromedp.Search(sel), chromedp.AtLeast(0))))
}

// shotsDir is where the screenshots go: $ENTITLE_SHOTS_DIR, else a folder
// of the system's temporary directory (not the repository, so they are never
// committed by accident; docs/console.md shows copies of some).
func shotsDir() string {
	if d := os.Getenv("ENTITLE_SHOTS_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "entitle-shots")
}

// screenshot saves a full-page PNG of the tab as <name>.png in shotsDir.
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	png := run(tb, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(shotsDir(), 0o755); err != nil {
		tb.t.Fatal(err)
	}
	path := filepath.Join(shotsDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot: %s", path)
	return path
}

// mustContain fails unless the page text of sel holds every want.
func (tb *tab) mustContain(sel string, want ...string) {
	tb.t.Helper()
	got := tb.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			tb.t.Fatalf("%s: want %q in the text\n%s\n(page %s)", sel, w, got, tb.location())
		}
	}
}

func fatalStatus(t *testing.T, what string, got, want int, tb *tab) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, got, want, tb.html())
	}
}

// scripts switches the tab's script execution off (disabled) or on.
func scripts(disabled bool) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled})
		return chromedp.Void{}, err
	}
}
