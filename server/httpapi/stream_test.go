package httpapi_test

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// A computer released from the account page while it holds its push
// stream is told at once (the stream says check in now; the check-in then
// answers device_revoked).
func TestPageReleaseNudgesTheStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		tag := &tagging{base: e.Server.Client().Transport}
		re := &routeEnv{Env: e, tag: tag, api: &http.Client{Transport: tag}}
		email, key, _ := re.person(t)
		dev, _ := re.activate(t, key)

		events := stream(t, e, dev.Credential)
		waitEvent(t, events, protocol.StreamEventReady)

		c, csrf := re.signedIn(t, email)
		if st := post(t, c, re.URL("/account/devices/"+dev.DeviceID+"/release"), url.Values{"csrf": {csrf}}); st != http.StatusSeeOther {
			t.Fatalf("release from the page: %d", st)
		}
		waitEvent(t, events, protocol.StreamEventCheckin)
	})
}

// stream opens a computer's push stream and returns its event names.
func stream(t *testing.T, e *apitest.Env, credential string) <-chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", e.URL(protocol.PathDeviceStream), nil)
	req.Header.Set("Authorization", "Bearer "+credential)
	resp, err := e.Server.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %v %v", resp, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	events := make(chan string, 8)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- name
			}
		}
	}()
	return events
}

func waitEvent(t *testing.T, events <-chan string, want string) {
	t.Helper()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended before %s", want)
			}
			if ev == want {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event", want)
		}
	}
}
