// Command benchbaseline is the yardstick of scripts/bench-agent.sh: a bare
// net/http server answering every request with one constant JSON body of a
// given size, so the agent's entitlement endpoint can be compared with the
// fastest thing that could answer the same bytes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		slog.Error("benchbaseline", "err", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address")
	size := flag.Int("size", 700, "body size in bytes (16 to 1 MiB)")
	addrFile := flag.String("addr-file", "", "file receiving the bound address")
	var extra headerFlags
	flag.Var(&extra, "header", `extra response header "Name: value" (repeatable), to answer with the same headers as the agent`)
	flag.Parse()
	if *size < 16 || *size > 1<<20 {
		return fmt.Errorf("size %d out of range", *size)
	}
	// {"pad":"xxx...x"}\n has exactly size bytes.
	body := []byte(`{"pad":"` + strings.Repeat("x", *size-11) + "\"}\n")
	length := strconv.Itoa(len(body))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
			return fmt.Errorf("addr file: %w", err)
		}
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for _, h := range extra {
			w.Header()[h[0]] = h[1:]
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(body)
	})}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// headerFlags collects --header values as {canonical name, value}.
type headerFlags [][]string

func (h *headerFlags) String() string { return fmt.Sprint(*h) }

func (h *headerFlags) Set(v string) error {
	name, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("header %q: want \"Name: value\"", v)
	}
	*h = append(*h, []string{http.CanonicalHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(val)})
	return nil
}
