// Command local runs the whole Number Release system on this machine
// (`make run`): the AWS emulator with real Step Functions executions, the
// API on 127.0.0.1:8080 (env PORT; env HOST to listen elsewhere), the local
// token issuer, the Zoom simulator and the seed's demo data. Ctrl-C stops
// everything it started.
//
// It listens on the loopback interface only unless told otherwise:
// /local/token mints a token for any tenant or provider and /zoom-sim/admin
// changes the simulated Zoom account, so neither may be reachable from the
// network by default. HOST=0.0.0.0 (or another address) is an explicit
// opt-in, printed with a warning.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"numberrelease/shared/config"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/devstack"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := devstack.Defaults()
	cfg.Log = log
	addr, exposed, err := listenAddr(cfg.Addr, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.Addr = addr
	if exposed {
		fmt.Fprintf(os.Stderr, "WARNING: listening on %s, which is reachable from other machines: "+
			"anyone who can reach it can mint tokens for any tenant (/local/token) and change the "+
			"simulated Zoom account (/zoom-sim/admin). Use HOST only on a network you trust.\n", addr)
	}
	if s := os.Getenv("ZOOM_WEBHOOK_SECRET_TOKEN"); s != "" {
		cfg.WebhookSecret = s
	}
	if v := os.Getenv("RECHECK_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "RECHECK_SECONDS=%q is not a positive whole number\n", v)
			os.Exit(2)
		}
		cfg.Recheck = time.Duration(n) * time.Second
	}
	// Locally the carrier's own Zoom account defaults to the simulator's
	// carrier account, so RELEASE_MODE=carrier needs only CARRIER_CODE.
	rel, err := config.ReadRelease(func(k string) string {
		if v := os.Getenv(k); v != "" || k != "ZOOM_CARRIER_ACCOUNT_ID" {
			return v
		}
		return devstack.DefaultCarrierAccount
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.ReleaseMode, cfg.CarrierCode, cfg.CarrierAccountID, cfg.ZoomLimits, cfg.ZoomShare = rel.Mode, rel.CarrierCode, rel.CarrierAccountID, rel.Limits, rel.Share
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := devstack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf(`
Number Release is running at %[1]s

  customer app    %[1]s/            (Wait for Release; sign in as alice@acme.example or gina@globex.example)
  portal          %[1]s/portal      (the carrier's management portal; sign in as pat@pxc.example)
  sign-in         the pages sign in through a Cognito user pool on the emulator (demo password %[10]s;
                  operator: olive@ops.example)
  zoom app        %[1]s/zoom-sim/   (the simulated Zoom account: Assigned tab, Unbind)
  health          %[1]s/healthz
  API document    %[1]s/openapi.yaml
  customer token  curl -s -XPOST %[1]s/local/token -H 'Content-Type: application/json' -d '{"kind":"customer","tenant_id":"acme","sub":"alice"}'
  provider token  curl -s -XPOST %[1]s/local/token -H 'Content-Type: application/json' -d '{"kind":"provider","provider_id":"pxc"}'
  wait list       curl -s -H "Authorization: Bearer $TOKEN" '%[1]s/v1/numbers?status=PENDING_APPROVAL'
  zoom numbers    curl -s %[1]s/zoom-sim/admin/numbers

Demo: acme's numbers +97239754571 (unassigned) and +97239754569 (assigned to a user)
await approval. Zoom re-check every %[2]s; release mode %[3]s; Zoom limits %[4]s, of which the service uses %[9]d%%;
release-tasks' Zoom work capped at %[5]d invocations at once, all invocations at the account quota of %[8]d
(cdk.json, stage %[6]s);
reconciler every %[7]s.
Ctrl-C stops everything.
`, st.URL, cfg.Recheck, modeText(cfg), cfg.ZoomLimits, st.ReleaseTasksConcurrency, cfg.Stage, cfg.ReconcileEvery, st.AccountConcurrency, cfg.ZoomShare, devstack.DemoPassword)
	<-ctx.Done()
	fmt.Println("stopping...")
	if err := st.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "stop: %v\n", err)
		os.Exit(1)
	}
}

// listenAddr is where to listen: def's host (loopback) and port, with
// PORT replacing the port and HOST the host. exposed says whether the
// address is reachable from other machines (any host but a loopback one).
func listenAddr(def string, getenv func(string) string) (addr string, exposed bool, err error) {
	host, port, err := net.SplitHostPort(def)
	if err != nil {
		return "", false, fmt.Errorf("default address %q: %w", def, err)
	}
	if p := getenv("PORT"); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return "", false, fmt.Errorf("PORT=%q is not a port number (0-65535)", p)
		}
		port = p
	}
	if h := getenv("HOST"); h != "" {
		host = strings.Trim(h, "[]")
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && ip == nil {
		return "", false, fmt.Errorf("HOST=%q is not an IP address or localhost", host)
	}
	return net.JoinHostPort(host, port), !loopback, nil
}

func modeText(cfg devstack.Config) string {
	if cfg.ReleaseMode == domain.ModeCarrier {
		return fmt.Sprintf("carrier (the carrier's view and Provider Exchange, carrier code %d, the carrier's Zoom account %s)",
			cfg.CarrierCode, cfg.CarrierAccountID)
	}
	return "customer (the customer's Zoom account)"
}
