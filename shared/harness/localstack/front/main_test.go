package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"numberrelease/shared/harness/emulator"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/store"
	"numberrelease/shared/table"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// recorder answers every request with "<name> <host> <raw path>".
func recorder(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, name+" "+r.Host+" "+r.URL.EscapedPath())
	}))
}

func TestFrontRoutesLocalOnlyPathsToMakeRun(t *testing.T) {
	edge, local := recorder("localstack"), recorder("local")
	defer edge.Close()
	defer local.Close()
	h, err := newFront("https://abc123.execute-api.us-east-1.amazonaws.com/local/", edge.URL, local.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(h)
	defer front.Close()
	port := edge.URL[strings.LastIndex(edge.URL, ":")+1:]
	apiHost := "abc123.execute-api.localhost.localstack.cloud:" + port
	tests := []struct{ path, want string }{
		{"/local/token", "local " + strings.TrimPrefix(local.URL, "http://") + " /local/token"},
		{"/zoom-sim/admin/numbers", "local " + strings.TrimPrefix(local.URL, "http://") + " /zoom-sim/admin/numbers"},
		{"/v1/numbers?status=PENDING_APPROVAL", "localstack " + apiHost + " /local/v1/numbers"},
		// An escaped '+' stays escaped on its way to API Gateway.
		{"/v1/numbers/%2B97239754569", "localstack " + apiHost + " /local/v1/numbers/%2B97239754569"},
		{"/zoom/webhook", "localstack " + apiHost + " /local/zoom/webhook"},
		{"/localx", "localstack " + apiHost + " /local/localx"},
	}
	for _, tt := range tests {
		resp, err := http.Get(front.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("%s went to %q, want %q", tt.path, body, tt.want)
		}
	}
}

func TestFrontRefusesBadURLs(t *testing.T) {
	for _, api := range []string{"", "https://example.com/local/", "https://abc.execute-api.x.amazonaws.com/", "https://abc.execute-api.x/a/b/"} {
		if _, err := newFront(api, "http://localhost:4566", "http://localhost:8080"); err == nil {
			t.Errorf("api url %q accepted", api)
		}
	}
}

// The seed writes make run's demo situation, and may run again.
func TestSeedWritesTheDemoData(t *testing.T) {
	ctx := context.Background()
	const name = "seeded"
	srv := emulatortest.Server(t)
	db := dynamodb.NewFromConfig(srv.AWSConfig())
	if _, err := db.CreateTable(ctx, table.TableSchema().CreateTableInput(name)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint())
	t.Setenv("AWS_REGION", emulator.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", emulator.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", emulator.SecretAccessKey)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 {
		if err := seed(ctx, log, name); err != nil {
			t.Fatal(err)
		}
	}
	st := store.New(db, name)
	if c, err := st.GetCustomer(ctx, "acme"); err != nil || c.ZoomAccountID != "zoom-acme" {
		t.Errorf("acme = %+v, %v", c, err)
	}
	for _, n := range []string{"+97239754571", "+97239754569"} {
		got, err := st.GetNumber(ctx, "acme", n)
		if err != nil || string(got.Status) != "PENDING_APPROVAL" || got.ProviderID != "pxc" {
			t.Errorf("%s = %+v, %v; want PENDING_APPROVAL for pxc", n, got, err)
		}
	}
}
