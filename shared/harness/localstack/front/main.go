// Command front lets the end-to-end suite (e2e/, one variable: E2E_BASE_URL)
// drive the stack deployed on LocalStack (`make e2e-local`).
//
// The suite gets its tokens from /local/token and drives Zoom through
// /zoom-sim/..., which only `make run` serves (they are never deployed). So
// front listens on one address and sends /local/... and /zoom-sim/... to
// `make run`, and everything else to the deployed REST API on LocalStack.
// The deployed functions trust `make run`'s token issuer and call its Zoom
// simulator (make deploy-local sets the stack parameters so).
//
// With -seed-table it first writes the demo data `make run` starts with
// (customers, provider links, pxc's request for acme's two numbers) into the
// deployed table, so the suite finds the same situation. AWS endpoint and
// credentials come from the environment (AWS_ENDPOINT_URL=http://localhost:4566).
//
// Not exercised by CI (no Docker engine there); README "LocalStack route".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"numberrelease/shared/harness/demo"
	"numberrelease/shared/store"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to serve the suite on")
	apiURL := flag.String("api-url", "", "the stack's ApiUrl output (https://<api id>.execute-api.../<stage>/)")
	localstack := flag.String("localstack", "http://localhost:4566", "LocalStack's edge URL")
	local := flag.String("local", "http://localhost:8080", "`make run`'s URL (token issuer, Zoom simulator)")
	seedTable := flag.String("seed-table", "", "write the demo data into this DynamoDB table first (the TableName output)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log, *listen, *apiURL, *localstack, *local, *seedTable); err != nil {
		fmt.Fprintln(os.Stderr, "front:", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, listen, apiURL, localstack, local, seedTable string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := newFront(apiURL, localstack, local)
	if err != nil {
		return err
	}
	if seedTable != "" {
		if err := seed(ctx, log, seedTable); err != nil {
			return fmt.Errorf("seed %s: %w", seedTable, err)
		}
		log.Info("seeded the demo data", "table", seedTable)
	}
	srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("serving", "url", "http://"+listen, "api", apiURL, "local", local)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// localOnly are the path prefixes `make run` serves and the stack does not.
var localOnly = []string{"/local/", "/zoom-sim/"}

// newFront routes local-only paths to local and the rest to the deployed
// API, addressed on LocalStack's edge by its execute-api host name (sent as
// the Host header, so no DNS name has to resolve).
func newFront(apiURL, localstack, local string) (http.Handler, error) {
	api, err := url.Parse(apiURL)
	if err != nil || api.Host == "" {
		return nil, fmt.Errorf("-api-url %q: want the stack's ApiUrl output", apiURL)
	}
	apiID, _, ok := strings.Cut(api.Hostname(), ".execute-api.")
	stage := strings.Trim(api.Path, "/")
	if !ok || apiID == "" || stage == "" || strings.Contains(stage, "/") {
		return nil, fmt.Errorf("-api-url %q: want https://<api id>.execute-api.<...>/<stage>/", apiURL)
	}
	edge, err := url.Parse(localstack)
	if err != nil || edge.Host == "" {
		return nil, fmt.Errorf("-localstack %q: not a URL", localstack)
	}
	runner, err := url.Parse(local)
	if err != nil || runner.Host == "" {
		return nil, fmt.Errorf("-local %q: not a URL", local)
	}
	apiHost := apiID + ".execute-api.localhost.localstack.cloud:" + edge.Port()
	toAPI := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: edge.Scheme, Host: edge.Host, Path: "/" + stage})
		r.Out.Host = apiHost
	}}
	toLocal := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(runner) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range localOnly {
			if strings.HasPrefix(r.URL.Path, p) {
				toLocal.ServeHTTP(w, r)
				return
			}
		}
		toAPI.ServeHTTP(w, r)
	}), nil
}

// seed writes the demo data `make run` starts with (package demo).
func seed(ctx context.Context, log *slog.Logger, tableName string) error {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	return demo.Seed(ctx, store.New(dynamodb.NewFromConfig(cfg), tableName), log)
}
