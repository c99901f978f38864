// Command local runs the whole Number Release system on this machine
// (`make run`): the AWS emulator with real Step Functions executions, the
// API on :8080 (env PORT), the local token issuer, the Zoom simulator and the
// seed's demo data. Ctrl-C stops everything it started.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"numberrelease/shared/devstack"
	"numberrelease/shared/tasks"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := devstack.Defaults()
	cfg.Log = log
	if p := os.Getenv("PORT"); p != "" {
		cfg.Addr = ":" + p
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
	rel, err := tasks.ReadReleaseEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.ReleaseMode, cfg.CarrierCode, cfg.ZoomLimits = rel.Mode, rel.CarrierCode, rel.Limits
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := devstack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf(`
Number Release is running at %[1]s

  customer app    %[1]s/            (Wait for Release; sign in as acme / alice)
  portal          %[1]s/portal      (the carrier's management portal; pxc)
  zoom app        %[1]s/zoom-sim/   (the simulated Zoom account: Assigned tab, Unbind)
  health          %[1]s/healthz
  API document    %[1]s/openapi.yaml
  customer token  curl -s -XPOST %[1]s/local/token -d '{"kind":"customer","tenant_id":"acme","sub":"alice"}'
  provider token  curl -s -XPOST %[1]s/local/token -d '{"kind":"provider","provider_id":"pxc"}'
  wait list       curl -s -H "Authorization: Bearer $TOKEN" '%[1]s/v1/numbers?status=PENDING_APPROVAL'
  zoom numbers    curl -s %[1]s/zoom-sim/admin/numbers

Demo: acme's numbers +97239754571 (unassigned) and +97239754569 (assigned to a user)
await approval. Zoom re-check every %[2]s; release mode %[3]s; Zoom limits %[4]s.
Ctrl-C stops everything.
`, st.URL, cfg.Recheck, modeText(cfg), cfg.ZoomLimits)
	<-ctx.Done()
	fmt.Println("stopping...")
	if err := st.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "stop: %v\n", err)
		os.Exit(1)
	}
}

func modeText(cfg devstack.Config) string {
	if cfg.ReleaseMode == tasks.ModeCarrier {
		return fmt.Sprintf("carrier (Provider Exchange, carrier code %d)", cfg.CarrierCode)
	}
	return "customer (the customer's Zoom account)"
}
