package localapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
)

// hostilePage is what a malicious site serves: every way a page can reach the
// agent (AGENT is replaced by the agent's origin, REBIND by the same port under
// a name that resolves to 127.0.0.1, as after DNS rebinding). Results go to
// window.results, then to document.title = "done".
const hostilePage = `<!doctype html><html><body>
<iframe name="sink" id="sink"></iframe>
<form id="csrf" method="post" enctype="text/plain" target="sink" action="AGENT/v1/activation">
<input name='{"method":"browser","x":"' value='"}'></form>
<script>
const A = "AGENT";
window.results = {};
function readFrame() {
  try { return "read:" + document.getElementById("sink").contentDocument.body.innerText; }
  catch (e) { return "unreadable"; }
}
async function attempt(name, f) {
  try { window.results[name] = await f(); } catch (e) { window.results[name] = "error"; }
}
(async () => {
  await attempt("fetch", async () => { const r = await fetch(A + "/v1/entitlement"); return "read:" + r.status + await r.text(); });
  await attempt("fetch_credentials", async () => { const r = await fetch(A + "/v1/status", {credentials: "include"}); return "read:" + r.status + await r.text(); });
  await attempt("fetch_no_cors", async () => { const r = await fetch(A + "/v1/entitlement", {mode: "no-cors"}); return r.type + ":" + r.status; });
  await attempt("post_no_cors", async () => { const r = await fetch(A + "/v1/activation", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"method":"browser"}'}); return r.type + ":" + r.status; });
  await attempt("post_json", async () => { const r = await fetch(A + "/v1/activation", {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"method":"browser"}'}); return "read:" + r.status; });
  await attempt("rebind_fetch", async () => { const r = await fetch("REBIND/v1/entitlement"); return "read:" + r.status + await r.text(); });
  // Without a Referer and without Origin (a no-cors GET has none), only
  // Sec-Fetch-Site marks these two as a browser's.
  await attempt("fetch_no_referrer", async () => { const r = await fetch(A + "/v1/entitlement", {mode: "no-cors", referrerPolicy: "no-referrer"}); return r.type + ":" + r.status; });
  await attempt("img_no_referrer", () => new Promise((ok) => { const i = new Image(); i.referrerPolicy = "no-referrer"; i.onload = () => ok("loaded"); i.onerror = () => ok("error"); i.src = A + "/v1/health"; }));
  await attempt("img", () => new Promise((ok) => { const i = new Image(); i.onload = () => ok("loaded"); i.onerror = () => ok("error"); i.src = A + "/v1/entitlement"; }));
  await attempt("form_post", () => new Promise((ok) => {
    const f = document.getElementById("sink");
    f.onload = () => ok(readFrame());
    document.getElementById("csrf").submit();
  }));
  await attempt("iframe_navigation", () => new Promise((ok) => {
    const f = document.getElementById("sink");
    f.onload = () => ok(readFrame());
    f.src = A + "/v1/entitlement";
  }));
  document.title = "done";
})();
</script></body></html>`

// wireRequest is one request Chromium put on the wire, as DevTools saw it.
type wireRequest struct {
	url     string
	headers network.Headers
	status  int64
}

// TestBrowserPagesRefused loads a hostile page from another loopback port in
// headless Chromium: its fetches, form post, image and navigations to the agent
// are all refused (403 on the wire, as DevTools reports), none reaches the
// engine, and the page reads nothing. A top-level navigation the page starts
// is refused too.
func TestBrowserPagesRefused(t *testing.T) {
	chrome := testenv.LookPath(t, "chromium")
	eng := newScripted()
	agent := start(t, Options{Engine: eng})
	_, port, _ := net.SplitHostPort(agent.addr)
	agentOrigin := "http://" + agent.addr
	rebindOrigin := "http://rebind.test:" + port

	page := strings.NewReplacer("AGENT", agentOrigin, "REBIND", rebindOrigin).Replace(hostilePage)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(site.Close)

	out := &testenv.Buffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// DNS rebinding, simulated: a name the attacker controls now points to loopback.
		chromedp.Flag("host-resolver-rules", "MAP rebind.test 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	)
	root, cancelRoot := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelRoot()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	var mu sync.Mutex
	reqs := map[network.RequestID]*wireRequest{}
	get := func(id network.RequestID) *wireRequest {
		if reqs[id] == nil {
			reqs[id] = &wireRequest{}
		}
		return reqs[id]
	}
	// The first Do starts the browser; Listen needs its tab.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v\n%s", err, out.String())
	}
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			get(e.RequestID).url = e.Request.URL
		case *network.EventRequestWillBeSentExtraInfo:
			get(e.RequestID).headers = e.Headers
		case *network.EventResponseReceivedExtraInfo:
			get(e.RequestID).status = e.StatusCode
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	step, cancelStep := context.WithTimeout(ctx, 45*time.Second)
	defer cancelStep()
	err = chromedp.Do(step,
		chromedp.Navigate(site.URL+"/"),
		chromedp.Poll[chromedp.Void](`document.title === "done"`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("hostile page: %v\n%s", err, out.String())
	}
	results, err := chromedp.Run(step, chromedp.Evaluate[map[string]string](`window.results`))
	if err != nil {
		t.Fatalf("results: %v", err)
	}
	// Then the page sends the whole tab to the agent (top-level navigation).
	if err := chromedp.Do(step, chromedp.Evaluate[chromedp.Void](`setTimeout(() => { location.href = "`+agentOrigin+agentapi.PathEntitlement+`"; }, 10); null`)); err != nil {
		t.Fatalf("navigation: %v", err)
	}
	var body string
	testenv.WaitFor(t, 15*time.Second, "the top-level navigation to the agent", func() bool {
		// Evaluations fail while the page changes; try again.
		v, err := chromedp.Run(step, chromedp.Evaluate[string](`location.href.startsWith("`+agentOrigin+`") && document.readyState === "complete" ? document.body.innerText : ""`))
		body = v
		return err == nil && v != ""
	})

	for name, got := range results {
		t.Logf("page %s: %s", name, got)
	}
	for _, name := range []string{"fetch", "fetch_credentials", "fetch_no_cors", "post_no_cors", "post_json", "rebind_fetch", "fetch_no_referrer", "img_no_referrer", "img", "form_post", "iframe_navigation"} {
		got, ok := results[name]
		if !ok {
			t.Errorf("page did not try %s", name)
			continue
		}
		if strings.HasPrefix(got, "read:") || got == "loaded" || (strings.HasPrefix(got, "basic") || strings.HasPrefix(got, "cors")) {
			t.Errorf("page %s read the answer: %q", name, got)
		}
	}
	if !strings.Contains(body, `"forbidden"`) {
		t.Errorf("top-level navigation shows %q, want the agent's 403", body)
	}

	mu.Lock()
	defer mu.Unlock()
	seen, bare := 0, 0
	for _, r := range reqs {
		if !strings.HasPrefix(r.url, agentOrigin) && !strings.HasPrefix(r.url, rebindOrigin) {
			continue
		}
		seen++
		t.Logf("chromium sent %s %v -> %d", r.url, r.headers, r.status)
		// Requests Chromium blocked itself (a CORS preflight it never sent)
		// have no status; every one that went out must be a 403.
		if r.headers != nil && r.headers["Referer"] == nil && r.headers["Origin"] == nil {
			bare++
		}
		if r.status != 0 && r.status != http.StatusForbidden {
			t.Errorf("%s answered %d, want 403", r.url, r.status)
		}
		// The premise of the rule: to the loopback origin (a potentially
		// trustworthy URL) Chromium sends Sec-Fetch-Site on every request. To
		// a rebinding name (not trustworthy) it sends no Sec-Fetch-*; the Host
		// check refuses those.
		if r.headers != nil && strings.HasPrefix(r.url, agentOrigin) && r.headers["Sec-Fetch-Site"] == nil {
			t.Errorf("%s was sent without Sec-Fetch-Site: the rule's premise is wrong (%v)", r.url, r.headers)
		}
	}
	if seen < 10 {
		t.Errorf("DevTools saw %d requests to the agent, want at least 10", seen)
	}
	if bare < 2 {
		t.Errorf("%d requests went out with neither Origin nor Referer, want at least 2 (the no-referrer ones)", bare)
	}
	if n := eng.calls.Load(); n != 0 {
		t.Errorf("the engine answered %d browser requests", n)
	}
	eng.mu.Lock()
	last := eng.lastReq
	eng.mu.Unlock()
	if last.Method != "" {
		t.Errorf("a browser request reached Activate: %+v", last)
	}
	// Control: the same agent answers a native client, so the refusals above
	// are the browser rule, not a dead agent.
	if resp, b := do(t, "GET", agent.url(agentapi.PathEntitlement), "", nil); resp.StatusCode != 200 || eng.calls.Load() != 1 {
		t.Fatalf("native request after the browser: %d %s (engine calls %d)", resp.StatusCode, b, eng.calls.Load())
	}
}
