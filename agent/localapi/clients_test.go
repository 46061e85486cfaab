package localapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/testenv"
)

// Each client program takes BASE_URL and TOKEN, sends
//
//	GET  /v1/entitlement
//	GET  /v1/status   with X-Entitle-Token
//	POST /v1/check    with X-Entitle-Token, Content-Type: application/json, body {}
//
// with its library's defaults, and prints the three statuses separated by spaces.
const (
	nodeFetchClient = `const [base, tok] = process.argv.slice(1);
(async () => {
  const a = await fetch(base + "/v1/entitlement");
  const b = await fetch(base + "/v1/status", {headers: {"X-Entitle-Token": tok}});
  const c = await fetch(base + "/v1/check", {method: "POST", headers: {"X-Entitle-Token": tok, "Content-Type": "application/json"}, body: "{}"});
  await Promise.all([a.text(), b.text(), c.text()]);
  console.log(a.status, b.status, c.status);
})().catch((e) => { console.error(e); process.exit(1); });`

	nodeHTTPClient = `const http = require("node:http");
const [base, tok] = process.argv.slice(1);
function req(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const r = http.request(base + path, {method, headers}, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode)); });
    r.on("error", reject);
    r.end(body);
  });
}
(async () => {
  const a = await req("GET", "/v1/entitlement", {});
  const b = await req("GET", "/v1/status", {"X-Entitle-Token": tok});
  const c = await req("POST", "/v1/check", {"X-Entitle-Token": tok, "Content-Type": "application/json"}, "{}");
  console.log(a, b, c);
})().catch((e) => { console.error(e); process.exit(1); });`

	pythonClient = `import sys, urllib.request, urllib.error
base, tok = sys.argv[1], sys.argv[2]
def call(req):
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
a = call(urllib.request.Request(base + "/v1/entitlement"))
b = call(urllib.request.Request(base + "/v1/status", headers={"X-Entitle-Token": tok}))
c = call(urllib.request.Request(base + "/v1/check", data=b"{}", method="POST", headers={"X-Entitle-Token": tok, "Content-Type": "application/json"}))
print(a, b, c)`

	// The JDK's client asks for an h2c upgrade by default (HTTP_2 is its
	// default version), one more header a native client adds.
	javaClient = `import java.net.URI;
import java.net.http.*;

public class Client {
    public static void main(String[] args) throws Exception {
        String base = args[0], tok = args[1];
        HttpClient c = HttpClient.newHttpClient();
        HttpResponse.BodyHandler<String> h = HttpResponse.BodyHandlers.ofString();
        int a = c.send(HttpRequest.newBuilder(URI.create(base + "/v1/entitlement")).build(), h).statusCode();
        int b = c.send(HttpRequest.newBuilder(URI.create(base + "/v1/status")).header("X-Entitle-Token", tok).build(), h).statusCode();
        int d = c.send(HttpRequest.newBuilder(URI.create(base + "/v1/check")).header("X-Entitle-Token", tok)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(), h).statusCode();
        System.out.println(a + " " + b + " " + d);
    }
}
`
)

// capture records the headers of every request it gets and answers 200.
type capture struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []http.Header
}

func newCapture(t *testing.T) *capture {
	c := &capture{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		c.got = append(c.got, h)
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *capture) take() []http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.got
	c.got = nil
	return g
}

// nativeClient is one real HTTP client: a command line, or Go in process.
type nativeClient struct {
	name string
	// run sends the three requests to base and returns their statuses.
	run func(t *testing.T, base string) string
	// sends names a header this client adds that the old browser check
	// refused, so the capture proves the case is covered (empty: none).
	sends string
}

func commandClient(t *testing.T, tool string, args ...string) func(t *testing.T, base string) string {
	bin := testenv.LookPath(t, tool)
	return func(t *testing.T, base string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(slices.Clone(args), base, testToken)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Env = append(os.Environ(), "NO_PROXY=*", "no_proxy=*", "HTTP_PROXY=", "http_proxy=")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tool, err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
}

func curlClient(t *testing.T) func(t *testing.T, base string) string {
	bin := testenv.LookPath(t, "curl")
	return func(t *testing.T, base string) string {
		t.Helper()
		status := func(args ...string) string {
			cmd := exec.Command(bin, append([]string{"-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("curl %v: %v", args, err)
			}
			return string(out)
		}
		return strings.Join([]string{
			status(base + agentapi.PathEntitlement),
			status("-H", agentapi.TokenHeader+": "+testToken, base+agentapi.PathStatus),
			status("-H", agentapi.TokenHeader+": "+testToken, "-H", "Content-Type: application/json", "-d", "{}", base+agentapi.PathCheck),
		}, " ")
	}
}

func goClient(t *testing.T, base string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	status := func(method, path, body string, hdr ...string) string {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, base+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return fmt.Sprint(resp.StatusCode)
	}
	return strings.Join([]string{
		status("GET", agentapi.PathEntitlement, ""),
		status("GET", agentapi.PathStatus, "", agentapi.TokenHeader, testToken),
		status("POST", agentapi.PathCheck, "{}", agentapi.TokenHeader, testToken, "Content-Type", "application/json"),
	}, " ")
}

// python3 finds a python3 (Debian's first: it has python3-jwt and
// python3-cryptography, which the lease test needs too).
func python3(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	testenv.Require(t, false, "python3")
	return ""
}

// TestNativeClients runs real HTTP clients of the languages signing apps are
// written in against the real local API, with their libraries' default
// headers: each is first pointed at a capture server (so the test shows what
// it really sends), then at the agent, where every request must pass.
func TestNativeClients(t *testing.T) {
	dir := t.TempDir()
	javaFile := filepath.Join(dir, "Client.java")
	if err := os.WriteFile(javaFile, []byte(javaClient), 0o600); err != nil {
		t.Fatal(err)
	}
	clients := []nativeClient{
		{name: "node fetch", run: commandClient(t, "node", "-e", nodeFetchClient), sends: "Sec-Fetch-Mode"},
		{name: "node http", run: commandClient(t, "node", "-e", nodeHTTPClient)},
		{name: "python urllib", run: commandClient(t, python3(t), "-c", pythonClient)},
		{name: "java HttpClient", run: commandClient(t, "java", javaFile)},
		{name: "curl", run: curlClient(t)},
		{name: "go net/http", run: goClient},
	}
	agent := start(t, Options{Engine: newScripted()})
	capt := newCapture(t)
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			if got := c.run(t, capt.srv.URL); got != "200 200 200" {
				t.Fatalf("against the capture server: %q", got)
			}
			seen := capt.take()
			for _, h := range seen {
				t.Logf("%s sends %v", c.name, h)
				for _, k := range browserHeaders {
					if h.Get(k) != "" {
						t.Errorf("%s sends %s: the browser rule would refuse it", c.name, k)
					}
				}
			}
			if len(seen) != 3 {
				t.Fatalf("capture saw %d requests, want 3", len(seen))
			}
			if c.sends != "" && seen[0].Get(c.sends) == "" {
				t.Fatalf("%s no longer sends %s; the case this test covers is gone", c.name, c.sends)
			}
			if got := c.run(t, "http://"+agent.addr); got != "200 200 200" {
				t.Fatalf("against the agent: statuses %q, want 200 200 200", got)
			}
		})
	}
}
