package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/internal/ratelimit"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/version"
	"github.com/entitle/entitle/server/httpapi"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/orders"
	"github.com/entitle/entitle/server/passwordreset"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/web"
)

type serveOpts struct {
	listen                                            string
	trustedProxies                                    []string
	addrFile                                          string
	shutdownTimeout                                   time.Duration
	limitActivations, limitLoginIP, limitLoginAccount string
	dnsResolver                                       string
	rateLimits                                        string
	mail                                              mailOpts
	seller                                            orders.Seller
}

func (a *app) serveCmd() *cobra.Command {
	var o serveOpts
	cmd := &cobra.Command{
		Use:   "serve",
		Short: a.loc.T("srv_serve_short", nil),
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8780", a.loc.T("srv_flag_listen", nil))
	f.StringSliceVar(&o.trustedProxies, "trusted-proxies", nil, a.loc.T("srv_flag_trusted_proxies", nil))
	f.StringVar(&o.addrFile, "addr-file", "", a.loc.T("srv_flag_addr_file", nil))
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 15*time.Second, a.loc.T("srv_flag_shutdown_timeout", nil))
	f.StringVar(&o.limitActivations, "limit-activations", "", a.loc.T("srv_flag_limit_activations", nil))
	f.StringVar(&o.limitLoginIP, "limit-login-ip", "", a.loc.T("srv_flag_limit_login_ip", nil))
	f.StringVar(&o.limitLoginAccount, "limit-login-account", "", a.loc.T("srv_flag_limit_login_account", nil))
	mailFlags(a.loc, f, &o.mail)
	f.StringVar(&o.dnsResolver, "dns-resolver", "", a.loc.T("srv_flag_dns_resolver", nil))
	f.StringVar(&o.seller.Name, "seller-name", "Entitle", a.loc.T("srv_flag_seller_name", nil))
	f.StringArrayVar(&o.seller.Address, "seller-address", nil, a.loc.T("srv_flag_seller_address", nil))
	f.StringVar(&o.seller.Email, "seller-email", "", a.loc.T("srv_flag_seller_email", nil))
	f.StringVar(&o.seller.TaxID, "seller-tax-id", "", a.loc.T("srv_flag_seller_tax_id", nil))
	f.StringVar(&o.rateLimits, "rate-limits", "", a.loc.T("srv_flag_rate_limits", nil))
	return cmd
}

// resolverAt is a resolver that asks only the DNS server at addr (host:port),
// over UDP with a TCP fallback for truncated answers, as the system resolver
// would; "" is the system resolver.
func resolverAt(loc *i18n.Localizer, addr string) (*net.Resolver, error) {
	if addr == "" {
		return net.DefaultResolver, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, errors.New(loc.T("srv_err_dns_resolver", i18n.Args{"value": addr}))
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		return d.DialContext(ctx, network, addr)
	}}, nil
}

// parseLimit reads a "PER_MINUTE/BURST" or "off" rate limit; "" keeps the
// service default.
func parseLimit(loc *i18n.Localizer, flag, s string) (ratelimit.Limit, error) {
	switch s {
	case "":
		return ratelimit.Limit{}, nil
	case "off":
		return ratelimit.Limit{Off: true}, nil
	}
	rate, burst, ok := strings.Cut(s, "/")
	r, err1 := strconv.ParseFloat(rate, 64)
	b, err2 := strconv.Atoi(burst)
	if !ok || err1 != nil || err2 != nil || r <= 0 || b <= 0 || r > 1e9 || b > 1e9 {
		return ratelimit.Limit{}, errors.New(loc.T("srv_err_limit", i18n.Args{"flag": flag, "value": s}))
	}
	return ratelimit.Limit{PerMinute: r, Burst: b}, nil
}

func (o serveOpts) limits(loc *i18n.Localizer) (act, ip, acct ratelimit.Limit, err error) {
	if act, err = parseLimit(loc, "limit-activations", o.limitActivations); err != nil {
		return
	}
	if ip, err = parseLimit(loc, "limit-login-ip", o.limitLoginIP); err != nil {
		return
	}
	acct, err = parseLimit(loc, "limit-login-account", o.limitLoginAccount)
	return
}

func (a *app) serve(ctx context.Context, o serveOpts) error {
	logger, err := a.logger(slog.LevelDebug)
	if err != nil {
		return err
	}
	proxies, err := httpmw.ParseTrustedProxies(o.trustedProxies)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return errors.New(a.loc.T("srv_err_listen", i18n.Args{"addr": o.listen, "error": err}))
	}
	defer ln.Close()
	addr := ln.Addr().String()
	public := a.publicURL
	if public == "" {
		public = "http://" + addr
	}

	act, ip, acct, err := o.limits(a.loc)
	if err != nil {
		return err
	}
	resolver, err := resolverAt(a.loc, o.dnsResolver)
	if err != nil {
		return err
	}
	db, svc, err := a.open(ctx, logger, a.issuer(), func(c *domains.Config) {
		c.ActivationsPerLicense, c.LoginFailuresPerIP, c.LoginFailuresPerAccount = act, ip, acct
		c.Resolver = resolver
		c.PublicURL = public
		c.Seller = o.seller
		c.RateLimits = o.rateLimits
	})
	if err != nil {
		return err
	}
	defer db.Close()
	defer svc.Devices.Close() // drains the check-in batcher before the database closes
	stopMail, err := startMail(ctx, o.mail, db, logger)
	if err != nil {
		return err
	}
	defer stopMail()
	resets, err := passwordreset.New(db, svc.Accounts, passwordreset.Config{PublicURL: public, Logger: logger})
	if err != nil {
		return err
	}
	pages, err := web.New(web.Domains{Accounts: svc.Accounts, Licenses: svc.Licenses, Devices: svc.Devices, DeviceAuth: svc.DeviceAuth, Passwords: resets, Nudge: svc.Push,
		Journal: svc.Journal, Organizations: svc.Organizations, Workspaces: svc.Workspaces,
		OrgDevices: svc.Devices, Commands: svc.Commands, Usage: svc.Usage,
		Orders: svc.Orders, Plans: svc.Plans, Subscriptions: svc.Subscriptions}, web.Config{PublicURL: public, Logger: logger})
	if err != nil {
		return err
	}
	doms := httpapi.DomainsOf(svc)
	doms.Passwords = resets
	api, err := httpapi.New(doms, httpapi.Config{
		PublicURL: public, TrustedProxies: proxies, Logger: logger, Pages: pages,
		Ping: func(ctx context.Context) error { return ping(ctx, db) }, Version: version.Version,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	// The domains' background work (command expiry, the push hub's
	// database listener) lives as long as the server; it stops first on
	// shutdown, which also ends the push streams Shutdown would wait for.
	bgCtx, bgCancel := context.WithCancel(ctx)
	defer bgCancel()
	bgDone := make(chan struct{})
	go func() { defer close(bgDone); svc.Background(bgCtx, logger) }()
	defer func() { bgCancel(); <-bgDone }()
	stopSweeps := startSweeps(ctx, svc, logger)
	defer stopSweeps()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if o.addrFile != "" {
		if err := writeAddrFile(o.addrFile, addr); err != nil {
			err = errors.New(a.loc.T("srv_err_addr_file", i18n.Args{"error": err}))
			_ = srv.Close()
			<-served
			return err
		}
	}
	logger.Info("entitle-server listening", "addr", addr, "public_url", public, "version", version.Version, "shared_rate_limits", svc.SharedRateLimits())

	select {
	case err := <-served:
		return errors.New(a.loc.T("srv_err_serve", i18n.Args{"error": err}))
	case <-ctx.Done():
	}
	logger.Info("shutting down", "deadline", o.shutdownTimeout)
	bgCancel()
	<-bgDone
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		logger.Error("serve", "error", serr)
	}
	if err != nil {
		return errors.New(a.loc.T("srv_err_shutdown", i18n.Args{"error": err}))
	}
	logger.Info("stopped")
	return nil
}

// ping is the health check's database probe.
func ping(ctx context.Context, db *store.DB) error {
	var one int
	return db.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// writeAddrFile writes atomically so a reader never sees a partial address.
func writeAddrFile(path, addr string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addr-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(addr + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return nil
}
