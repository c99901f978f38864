package apicheck

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"numberrelease/shared/apispec"
)

func newValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

func TestLoad(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name, got, want string
	}{
		{"openapi", doc.OpenAPI, "3.0.3"},
		{"info.title", doc.Info.Title, "Number Release API"},
		{"info.version", doc.Info.Version, "1.0.0"},
		{"servers[0]", doc.Servers[0].URL, "http://localhost:8080"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	if scheme == nil || scheme.Value == nil {
		t.Fatal("security scheme bearerAuth missing")
	}
	if s := scheme.Value; s.Type != "http" || s.Scheme != "bearer" || s.BearerFormat != "JWT" {
		t.Errorf("bearerAuth = %s/%s/%s, want http/bearer/JWT", s.Type, s.Scheme, s.BearerFormat)
	}
	if !bytes.HasPrefix(apispec.Document(), []byte("openapi: 3.0.3")) {
		t.Error("Document() does not start with the openapi version")
	}
}

func TestOperations(t *testing.T) {
	doc, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		method, path, operationID string
		secured                   bool
	}{
		{http.MethodPost, "/provider/v1/release-requests", "createReleaseRequest", true},
		{http.MethodGet, "/provider/v1/release-requests", "listReleaseRequests", true},
		{http.MethodGet, "/provider/v1/release-requests/{request_id}", "getReleaseRequest", true},
		{http.MethodDelete, "/provider/v1/release-requests/{request_id}", "cancelWholeReleaseRequest", true},
		{http.MethodGet, "/provider/v1/customers", "listProviderCustomers", true},
		{http.MethodGet, "/provider/v1/webhook", "getWebhook", true},
		{http.MethodPut, "/provider/v1/webhook", "putWebhook", true},
		{http.MethodDelete, "/provider/v1/webhook", "deleteWebhook", true},
		{http.MethodPost, "/provider/v1/webhook/test", "testWebhook", true},
		{http.MethodGet, "/provider/v1/customers/{customer_id}/numbers", "listProviderCustomerNumbers", true},
		{http.MethodDelete, "/provider/v1/customers/{customer_id}/numbers/{number}/release-request", "cancelReleaseRequest", true},
		{http.MethodGet, "/v1/numbers", "listNumbers", true},
		{http.MethodPost, "/v1/numbers/release", "approveRelease", true},
		{http.MethodPost, "/v1/numbers/reject", "rejectRelease", true},
		{http.MethodGet, "/v1/numbers/{number}", "getNumber", true},
		{http.MethodGet, "/v1/zoom/connection", "getZoomConnection", true},
		{http.MethodPost, "/v1/zoom/connection", "completeZoomConnection", true},
		{http.MethodDelete, "/v1/zoom/connection", "disconnectZoom", true},
		{http.MethodPost, "/v1/zoom/connection/authorize", "startZoomConnection", true},
		{http.MethodGet, "/admin/v1/customers", "listCustomers", true},
		{http.MethodPut, "/admin/v1/customers/{customer_id}", "putCustomer", true},
		{http.MethodGet, "/admin/v1/customers/{customer_id}/numbers/{number}", "getCustomerNumber", true},
		{http.MethodPut, "/admin/v1/providers/{provider_id}/customers/{customer_id}", "linkProvider", true},
		{http.MethodDelete, "/admin/v1/providers/{provider_id}/customers/{customer_id}", "unlinkProvider", true},
		{http.MethodPost, "/local/token", "issueLocalToken", false},
		{http.MethodGet, "/local/jwks.json", "localJWKS", false},
		{http.MethodPost, "/zoom/webhook", "zoomWebhook", false},
		{http.MethodGet, "/healthz", "health", false},
	}
	for _, tt := range tests {
		t.Run(tt.operationID, func(t *testing.T) {
			item := doc.Paths.Value(tt.path)
			if item == nil {
				t.Fatalf("path %s missing", tt.path)
			}
			op := item.GetOperation(tt.method)
			if op == nil {
				t.Fatalf("%s %s missing", tt.method, tt.path)
			}
			if op.OperationID != tt.operationID {
				t.Errorf("operationId = %q, want %q", op.OperationID, tt.operationID)
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			secured := false
			for _, req := range security {
				if _, ok := req["bearerAuth"]; ok {
					secured = true
				}
			}
			if secured != tt.secured {
				t.Errorf("bearerAuth applied = %v, want %v", secured, tt.secured)
			}
			// Every error answer is a problem document.
			for code, ref := range op.Responses.Map() {
				if code >= "400" && code != "default" {
					content := ref.Value.Content
					mt := content["application/problem+json"]
					if len(content) != 1 || mt == nil {
						t.Errorf("response %s: content types %v, want only application/problem+json", code, keys(content))
						continue
					}
					if mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Problem" {
						t.Errorf("response %s: schema is not Problem", code)
					}
				}
			}
		})
	}
	if got, want := countOperations(doc.Paths.Map()), len(tests); got != want {
		t.Errorf("document has %d operations, want %d", got, want)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func countOperations[P interface{ Operations() map[string]O }, O any](paths map[string]P) int {
	n := 0
	for _, item := range paths {
		n += len(item.Operations())
	}
	return n
}

const (
	jsonCT    = "application/json"
	problemCT = "application/problem+json"
)

const numberView = `{"number":"+97239754569","status":"WAITING_FOR_UNASSIGN","customer_id":"acme","provider_id":"pxc",
"request_id":"rr_1","requested_at":"2025-01-15T09:30:00Z","updated_at":"2025-01-15T09:41:07Z",
"message":"unassign it in Zoom first","reason":"end of contract",
"zoom_assignee":{"id":"u1","name":"Jane Doe","type":"user","extension_number":"1001"}}`

func page(item string) string { return `{"items":[` + item + `],"next_cursor":null}` }

func TestValidateResponse(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		name          string
		method        string
		target        string
		status        int
		contentType   string
		body          string
		wantErr       bool
		wantErrSubstr string
	}{
		{
			name: "create 201", method: "POST", target: "/provider/v1/release-requests", status: 201, contentType: jsonCT,
			body: `{"request_id":"rr_1","numbers":[{"number":"+97239754571","status":"PENDING_APPROVAL","request_id":"rr_1"},{"number":"+97239754569","status":"PENDING_APPROVAL","request_id":"rr_1"}]}`,
		},
		{
			name: "create 201 missing request_id", method: "POST", target: "/provider/v1/release-requests", status: 201, contentType: jsonCT,
			body:    `{"numbers":[{"number":"+97239754571","status":"PENDING_APPROVAL"}]}`,
			wantErr: true, wantErrSubstr: "createReleaseRequest",
		},
		{
			name: "create 201 number not E.164", method: "POST", target: "/provider/v1/release-requests", status: 201, contentType: jsonCT,
			body:    `{"request_id":"rr_1","numbers":[{"number":"97239754571","status":"PENDING_APPROVAL","request_id":"rr_1"}]}`,
			wantErr: true,
		},
		{
			name: "create 400 problem", method: "POST", target: "/provider/v1/release-requests", status: 400, contentType: problemCT,
			body: `{"type":"/problems/invalid_numbers","title":"Invalid phone numbers","status":400,"detail":"1 invalid","code":"invalid_numbers","instance":"/provider/v1/release-requests","invalid_numbers":[{"value":"12ab","reason":"not a phone number"}]}`,
		},
		{
			name: "create 400 problem with charset", method: "POST", target: "/provider/v1/release-requests", status: 400, contentType: problemCT + "; charset=utf-8",
			body: `{"type":"/problems/invalid_request","title":"Invalid request","status":400,"detail":"bad json","code":"invalid_request"}`,
		},
		{
			name: "create 400 as application/json", method: "POST", target: "/provider/v1/release-requests", status: 400, contentType: jsonCT,
			body:    `{"type":"/problems/invalid_request","title":"Invalid request","status":400,"detail":"bad json","code":"invalid_request"}`,
			wantErr: true,
		},
		{
			name: "create 400 unknown problem code", method: "POST", target: "/provider/v1/release-requests", status: 400, contentType: problemCT,
			body:    `{"type":"/problems/x","title":"X","status":400,"detail":"x","code":"whatever"}`,
			wantErr: true,
		},
		{
			name: "create 409 conflicts", method: "POST", target: "/provider/v1/release-requests", status: 409, contentType: problemCT,
			body: `{"type":"/problems/conflict","title":"Conflict","status":409,"detail":"1 conflict","code":"conflict","conflicts":[{"number":"+97239754571","status":"RELEASED","reason":"already released"}]}`,
		},
		{
			name: "create 422 idempotency mismatch", method: "POST", target: "/provider/v1/release-requests", status: 422, contentType: problemCT,
			body: `{"type":"/problems/idempotency_mismatch","title":"t","status":422,"detail":"d","code":"idempotency_mismatch"}`,
		},
		{
			name: "create 418 undocumented", method: "POST", target: "/provider/v1/release-requests", status: 418, contentType: problemCT,
			body:    `{"type":"/problems/internal","title":"teapot","status":418,"detail":"d","code":"internal"}`,
			wantErr: true, wantErrSubstr: "418",
		},
		{
			name: "provider list 200", method: "GET", target: "/provider/v1/customers/acme/numbers?status=PENDING_APPROVAL", status: 200, contentType: jsonCT,
			body: page(numberView),
		},
		{
			name: "customer list next_cursor null", method: "GET", target: "/v1/numbers", status: 200, contentType: jsonCT,
			body: `{"items":[],"next_cursor":null}`,
		},
		{
			name: "customer list next_cursor string", method: "GET", target: "/v1/numbers?cursor=abc&limit=10", status: 200, contentType: jsonCT,
			body: `{"items":[` + numberView + `],"next_cursor":"eyJrIjoxfQ"}`,
		},
		{
			name: "customer list next_cursor missing", method: "GET", target: "/v1/numbers", status: 200, contentType: jsonCT,
			body:    `{"items":[]}`,
			wantErr: true,
		},
		{
			name: "customer list status BOGUS", method: "GET", target: "/v1/numbers", status: 200, contentType: jsonCT,
			body:    page(strings.Replace(numberView, "WAITING_FOR_UNASSIGN", "BOGUS", 1)),
			wantErr: true, wantErrSubstr: "listNumbers",
		},
		{
			name: "customer list bad requested_at", method: "GET", target: "/v1/numbers", status: 200, contentType: jsonCT,
			body:    page(strings.Replace(numberView, "2025-01-15T09:30:00Z", "yesterday", 1)),
			wantErr: true,
		},
		{
			name: "customer list bad assignee type", method: "GET", target: "/v1/numbers", status: 200, contentType: jsonCT,
			body:    page(strings.Replace(numberView, `"type":"user"`, `"type":"robot"`, 1)),
			wantErr: true,
		},
		{
			name: "customer list missing provider_id", method: "GET", target: "/v1/numbers", status: 200, contentType: jsonCT,
			body:    page(strings.Replace(numberView, `"provider_id":"pxc",`, ``, 1)),
			wantErr: true,
		},
		{
			name: "customer list 404 undocumented", method: "GET", target: "/v1/numbers", status: 404, contentType: problemCT,
			body:    `{"type":"/problems/not_found","title":"Not found","status":404,"detail":"d","code":"not_found"}`,
			wantErr: true,
		},
		{
			name: "get number URL-encoded", method: "GET", target: "/v1/numbers/%2B97239754569", status: 200, contentType: jsonCT,
			body: strings.TrimSuffix(numberView, "}") + `,"history":[
{"version":1,"at":"2025-01-15T09:30:00Z","actor":"provider:pxc","to":"PENDING_APPROVAL","why":"release requested"},
{"version":2,"at":"2025-01-15T09:41:02Z","actor":"customer:acme/admin-1","from":"PENDING_APPROVAL","to":"RELEASING","why":"approved"}]}`,
		},
		{
			name: "get number without plus", method: "GET", target: "/v1/numbers/97239754569", status: 404, contentType: problemCT,
			body: `{"type":"/problems/not_found","title":"Not found","status":404,"detail":"d","code":"not_found"}`,
		},
		{
			name: "get number missing history", method: "GET", target: "/v1/numbers/%2B97239754569", status: 200, contentType: jsonCT,
			body:    numberView,
			wantErr: true, wantErrSubstr: "getNumber",
		},
		{
			name: "approve 202 mixed results", method: "POST", target: "/v1/numbers/release", status: 202, contentType: jsonCT,
			body: `{"results":[{"number":"+97239754571","status":"RELEASING"},{"number":"abc","error":{"code":"invalid_numbers","detail":"not a phone number"}}]}`,
		},
		{
			name: "approve 200 undocumented", method: "POST", target: "/v1/numbers/release", status: 200, contentType: jsonCT,
			body:    `{"results":[]}`,
			wantErr: true,
		},
		{
			name: "approve result without number", method: "POST", target: "/v1/numbers/release", status: 202, contentType: jsonCT,
			body:    `{"results":[{"status":"RELEASING"}]}`,
			wantErr: true,
		},
		{
			name: "reject 200", method: "POST", target: "/v1/numbers/reject", status: 200, contentType: jsonCT,
			body: `{"results":[{"number":"+97239754571","status":"REJECTED"}]}`,
		},
		{
			name: "reject 413", method: "POST", target: "/v1/numbers/reject", status: 413, contentType: problemCT,
			body: `{"type":"/problems/payload_too_large","title":"t","status":413,"detail":"d","code":"payload_too_large"}`,
		},
		{
			name: "cancel 200", method: "DELETE", target: "/provider/v1/customers/acme/numbers/%2B97239754569/release-request", status: 200, contentType: jsonCT,
			body: `{"number":"+97239754569","status":"CANCELLED"}`,
		},
		{
			name: "cancel 200 wrong status", method: "DELETE", target: "/provider/v1/customers/acme/numbers/%2B97239754569/release-request", status: 200, contentType: jsonCT,
			body:    `{"number":"+97239754569","status":"PENDING_APPROVAL"}`,
			wantErr: true,
		},
		{
			name: "cancel 409", method: "DELETE", target: "/provider/v1/customers/acme/numbers/97239754569/release-request", status: 409, contentType: problemCT,
			body: `{"type":"/problems/conflict","title":"Conflict","status":409,"detail":"d","code":"conflict"}`,
		},
		{
			name: "local token 200", method: "POST", target: "/local/token", status: 200, contentType: jsonCT,
			body: `{"access_token":"a.b.c","token_type":"Bearer","expires_in":3600}`,
		},
		{
			name: "local token wrong token_type", method: "POST", target: "/local/token", status: 200, contentType: jsonCT,
			body:    `{"access_token":"a.b.c","token_type":"bearer","expires_in":3600}`,
			wantErr: true,
		},
		{
			name: "local jwks 200", method: "GET", target: "/local/jwks.json", status: 200, contentType: jsonCT,
			body: `{"keys":[{"kty":"EC","crv":"P-256","kid":"local","x":"x","y":"y"}]}`,
		},
		{
			name: "webhook 200 url validation", method: "POST", target: "/zoom/webhook", status: 200, contentType: jsonCT,
			body: `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"0a1c7de9dea8749a2ab36c898bdd56bd18ea40c0f34dd6e901705710c19eae40"}`,
		},
		{
			name: "webhook 200 ignored", method: "POST", target: "/zoom/webhook", status: 200, contentType: jsonCT,
			body: `{"ignored":"payload.account_id is missing"}`,
		},
		{
			name: "webhook 200 other body", method: "POST", target: "/zoom/webhook", status: 200, contentType: jsonCT,
			body: `{"status":"ok"}`, wantErr: true,
		},
		{
			name: "cancel 200 number not in E.164 form", method: "DELETE", target: "/provider/v1/customers/acme/numbers/%2B97239754569/release-request", status: 200, contentType: jsonCT,
			body: `{"number":"+0097239754569","status":"CANCELLED"}`, wantErr: true,
		},
		{
			name: "cancel 200 number outside the numbering plan", method: "DELETE", target: "/provider/v1/customers/acme/numbers/%2B97239754569/release-request", status: 200, contentType: jsonCT,
			body: `{"number":"+10000000000","status":"CANCELLED"}`, wantErr: true,
		},
		{
			name: "put customer 200", method: "PUT", target: "/admin/v1/customers/nova", status: 200, contentType: jsonCT,
			body: `{"customer_id":"nova","name":"Nova","zoom_account_id":"zoom-nova","contact_emails":["it@nova.example"],"providers":[]}`,
		},
		{
			name: "put customer 200 without a Zoom account", method: "PUT", target: "/admin/v1/customers/nova", status: 200, contentType: jsonCT,
			body: `{"customer_id":"nova","name":"Nova","contact_emails":[],"providers":["pxc"]}`,
		},
		{
			name: "put customer 200 without providers", method: "PUT", target: "/admin/v1/customers/nova", status: 200, contentType: jsonCT,
			body: `{"customer_id":"nova","name":"Nova","contact_emails":[]}`, wantErr: true, wantErrSubstr: "putCustomer",
		},
		{
			name: "put customer 409", method: "PUT", target: "/admin/v1/customers/nova", status: 409, contentType: problemCT,
			body: `{"type":"/problems/conflict","title":"Conflict","status":409,"detail":"d","code":"conflict"}`,
		},
		{
			name: "list customers 200", method: "GET", target: "/admin/v1/customers?limit=2", status: 200, contentType: jsonCT,
			body: `{"items":[{"customer_id":"acme","name":"Acme","zoom_account_id":"zoom-acme","providers":["pxc"]}],"next_cursor":"eyJrIjoxfQ"}`,
		},
		{
			name: "list customers item without providers", method: "GET", target: "/admin/v1/customers", status: 200, contentType: jsonCT,
			body: page(`{"customer_id":"acme","name":"Acme"}`), wantErr: true,
		},
		{
			name: "link 204", method: "PUT", target: "/admin/v1/providers/pxc/customers/nova", status: 204,
		},
		{
			name: "link 404", method: "PUT", target: "/admin/v1/providers/pxc/customers/nova", status: 404, contentType: problemCT,
			body: `{"type":"/problems/not_found","title":"Not found","status":404,"detail":"d","code":"not_found"}`,
		},
		{
			name: "unlink 204", method: "DELETE", target: "/admin/v1/providers/pxc/customers/nova", status: 204,
		},
		{
			name: "unlink 404 undocumented", method: "DELETE", target: "/admin/v1/providers/pxc/customers/nova", status: 404, contentType: problemCT,
			body: `{"type":"/problems/not_found","title":"Not found","status":404,"detail":"d","code":"not_found"}`, wantErr: true,
		},
		{
			name: "support number 200", method: "GET", target: "/admin/v1/customers/acme/numbers/%2B97239754569", status: 200, contentType: jsonCT,
			body: strings.TrimSuffix(numberView, "}") + `,"history":[{"version":1,"at":"2025-01-15T09:30:00Z","actor":"provider:pxc/pat","to":"PENDING_APPROVAL","why":"release requested"}]}`,
		},
		{
			name: "provider customers 200", method: "GET", target: "/provider/v1/customers", status: 200, contentType: jsonCT,
			body: `{"items":[{"customer_id":"acme","name":"Acme Corp"}]}`,
		},
		{
			name: "provider customers with a cursor", method: "GET", target: "/provider/v1/customers", status: 200, contentType: jsonCT,
			body: `{"items":[{"customer_id":"acme"}]}`, wantErr: true,
		},
		{
			name: "release requests 200", method: "GET", target: "/provider/v1/release-requests?customer_id=acme", status: 200, contentType: jsonCT,
			body: `{"items":[{"request_id":"r-1","customer_id":"acme","created_at":"2026-11-30T09:12:44.12Z","counts":{"PENDING_APPROVAL":2,"RELEASING":1}}],"next_cursor":null}`,
		},
		{
			name: "release requests item without counts", method: "GET", target: "/provider/v1/release-requests", status: 200, contentType: jsonCT,
			body: `{"items":[{"request_id":"r-1","customer_id":"acme","created_at":"2026-11-30T09:12:44.12Z"}],"next_cursor":null}`, wantErr: true,
		},
		{
			name: "release request 200", method: "GET", target: "/provider/v1/release-requests/r-1", status: 200, contentType: jsonCT,
			body: `{"request_id":"r-1","customer_id":"acme","created_at":"2026-11-30T09:12:44.12Z","reason":"end of contract","numbers":[{"number":"+97239754569","status":"WAITING_FOR_UNASSIGN","message":"unassign it"}]}`,
		},
		{
			name: "release request number with a bad status", method: "GET", target: "/provider/v1/release-requests/r-1", status: 200, contentType: jsonCT,
			body: `{"request_id":"r-1","customer_id":"acme","created_at":"2026-11-30T09:12:44.12Z","numbers":[{"number":"+97239754569","status":"GONE"}]}`, wantErr: true,
		},
		{
			name: "cancel release request 200", method: "DELETE", target: "/provider/v1/release-requests/r-1", status: 200, contentType: jsonCT,
			body: `{"request_id":"r-1","results":[{"number":"+97239754569","status":"CANCELLED"},{"number":"+97239754571","error":{"code":"conflict","detail":"d"}}]}`,
		},
		{
			name: "cancel release request 404", method: "DELETE", target: "/provider/v1/release-requests/r-1", status: 404, contentType: problemCT,
			body: `{"type":"/problems/not_found","title":"Not found","status":404,"detail":"d","code":"not_found"}`,
		},
		{
			name: "unknown path 404 problem", method: "GET", target: "/nope", status: 404, contentType: problemCT,
			body: `{"type":"/problems/not_found","title":"Not found","status":404,"detail":"d","code":"not_found"}`,
		},
		{
			name: "unknown path 200", method: "GET", target: "/nope", status: 200, contentType: jsonCT,
			body:    `{}`,
			wantErr: true,
		},
		{
			name: "undocumented method 405 problem", method: "PUT", target: "/v1/numbers", status: 405, contentType: problemCT,
			body: `{"type":"/problems/method_not_allowed","title":"Method not allowed","status":405,"detail":"d","code":"method_not_allowed"}`,
		},
		{
			name: "undocumented method 405 bad problem", method: "PUT", target: "/v1/numbers", status: 405, contentType: problemCT,
			body:    `{"title":"Method not allowed"}`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, nil)
			header := http.Header{}
			header.Set("Content-Type", tt.contentType)
			err := v.ValidateResponse(req, tt.status, header, []byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatal("ValidateResponse: got nil, want an error")
				}
				if tt.wantErrSubstr != "" && !strings.Contains(err.Error(), tt.wantErrSubstr) {
					t.Errorf("error %q does not mention %q", err, tt.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateResponse: %v", err)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		method, target, want string
	}{
		{"GET", "/v1/numbers/%2B97239754571", "getNumber"},
		{"GET", "/v1/numbers/97239754571", "getNumber"},
		{"GET", "http://api.example.com/v1/numbers", "listNumbers"},
		{"POST", "/v1/numbers/release", "approveRelease"},
		{"POST", "/v1/numbers/reject", "rejectRelease"},
		{"DELETE", "/provider/v1/customers/acme/numbers/%2B97239754571/release-request", "cancelReleaseRequest"},
		{"GET", "/provider/v1/customers/acme/numbers", "listProviderCustomerNumbers"},
		{"GET", "/provider/v1/customers", "listProviderCustomers"},
		{"PUT", "/provider/v1/webhook", "putWebhook"},
		{"POST", "/provider/v1/webhook/test", "testWebhook"},
		{"GET", "/provider/v1/release-requests", "listReleaseRequests"},
		{"POST", "/provider/v1/release-requests", "createReleaseRequest"},
		{"GET", "/provider/v1/release-requests/r-1", "getReleaseRequest"},
		{"DELETE", "/provider/v1/release-requests/r-1", "cancelWholeReleaseRequest"},
		{"GET", "/admin/v1/customers", "listCustomers"},
		{"PUT", "/admin/v1/customers/acme", "putCustomer"},
		{"GET", "/admin/v1/customers/acme/numbers/%2B97239754571", "getCustomerNumber"},
		{"PUT", "/admin/v1/providers/pxc/customers/acme", "linkProvider"},
		{"DELETE", "/admin/v1/providers/pxc/customers/acme", "unlinkProvider"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			got, err := v.OperationID(httptest.NewRequest(tt.method, tt.target, nil))
			if err != nil {
				t.Fatalf("OperationID: %v", err)
			}
			if got != tt.want {
				t.Errorf("OperationID = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateRequest(t *testing.T) {
	v := newValidator(t)
	manyNumbers := make([]string, 501)
	for i := range manyNumbers {
		manyNumbers[i] = fmt.Sprintf(`"+9723975%04d"`, i)
	}
	tests := []struct {
		name, method, target, body string
		header                     map[string]string
		wantErr                    bool
	}{
		{
			name: "create", method: "POST", target: "/provider/v1/release-requests",
			body:   `{"customer_id":"acme","numbers":["97239754571","+97239754569"],"reason":"end of contract"}`,
			header: map[string]string{"Idempotency-Key": "k-1"},
		},
		{
			name: "create missing customer_id", method: "POST", target: "/provider/v1/release-requests",
			body: `{"numbers":["+97239754571"]}`, wantErr: true,
		},
		{
			name: "create no numbers", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":[]}`, wantErr: true,
		},
		{
			name: "create 501 numbers", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":[` + strings.Join(manyNumbers, ",") + `]}`, wantErr: true,
		},
		{
			name: "create reason too long", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":["+97239754571"],"reason":"` + strings.Repeat("x", 501) + `"}`, wantErr: true,
		},
		{
			name: "create idempotency key too long", method: "POST", target: "/provider/v1/release-requests",
			body:    `{"customer_id":"acme","numbers":["+97239754571"]}`,
			header:  map[string]string{"Idempotency-Key": strings.Repeat("k", 256)},
			wantErr: true,
		},
		{name: "list", method: "GET", target: "/v1/numbers?status=PENDING_APPROVAL&cursor=abc&limit=100"},
		{name: "list released", method: "GET", target: "/provider/v1/customers/acme/numbers?status=RELEASED"},
		{name: "list bad status", method: "GET", target: "/v1/numbers?status=BOGUS", wantErr: true},
		{name: "list limit 0", method: "GET", target: "/v1/numbers?limit=0", wantErr: true},
		{name: "list limit 101", method: "GET", target: "/v1/numbers?limit=101", wantErr: true},
		{name: "approve", method: "POST", target: "/v1/numbers/release", body: `{"numbers":["+97239754571"]}`},
		{name: "approve missing numbers", method: "POST", target: "/v1/numbers/release", body: `{}`, wantErr: true},
		{name: "local token", method: "POST", target: "/local/token", body: `{"kind":"customer","tenant_id":"acme","sub":"admin-1"}`},
		{name: "local token bad kind", method: "POST", target: "/local/token", body: `{"kind":"operator"}`, wantErr: true},
		{name: "get number encoded", method: "GET", target: "/v1/numbers/%2B97239754571"},
		{name: "get number with separators", method: "GET", target: "/v1/numbers/972%20(3)%20975-4571"},
		{name: "get number not a phone number", method: "GET", target: "/v1/numbers/12ab", wantErr: true},
		{name: "get number outside the numbering plan", method: "GET", target: "/v1/numbers/%2B10000000000", wantErr: true},
		{
			name: "create with separators and without plus", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":["972 3-975-4571","(+1) 415.555.2671"]}`,
		},
		{
			name: "create number not a phone number", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":["12ab"]}`, wantErr: true,
		},
		{
			name: "create number outside the numbering plan", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":["+10000000000"]}`, wantErr: true,
		},
		{
			name: "create the same number twice", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":["+97239754571","+97239754571"]}`, wantErr: true,
		},
		{
			name: "create with an unknown field", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":["+97239754571"],"priority":1}`, wantErr: true,
		},
		{
			name: "create for a blank customer", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":" \u00a0 ","numbers":["+97239754571"]}`, wantErr: true,
		},
		{
			name: "create with a reason of 500 Hebrew letters", method: "POST", target: "/provider/v1/release-requests",
			body: `{"customer_id":"acme","numbers":["+97239754571"],"reason":"` + strings.Repeat("ש", 500) + `"}`,
		},
		{
			name: "create idempotency key with a space", method: "POST", target: "/provider/v1/release-requests",
			body:   `{"customer_id":"acme","numbers":["+97239754571"]}`,
			header: map[string]string{"Idempotency-Key": "k 1"}, wantErr: true,
		},
		{
			name: "create idempotency key not ASCII", method: "POST", target: "/provider/v1/release-requests",
			body:   `{"customer_id":"acme","numbers":["+97239754571"]}`,
			header: map[string]string{"Idempotency-Key": "clé"}, wantErr: true,
		},
		{name: "approve with an unknown field", method: "POST", target: "/v1/numbers/release", body: `{"numbers":["+97239754571"],"reason":"x"}`, wantErr: true},
		{name: "reject with a reason", method: "POST", target: "/v1/numbers/reject", body: `{"numbers":["+97239754571"],"reason":"still in use"}`},
		{name: "reject with a reason of 500 Hebrew letters", method: "POST", target: "/v1/numbers/reject", body: `{"numbers":["+97239754571"],"reason":"` + strings.Repeat("ש", 500) + `"}`},
		{name: "reject with a reason of 501 letters", method: "POST", target: "/v1/numbers/reject", body: `{"numbers":["+97239754571"],"reason":"` + strings.Repeat("x", 501) + `"}`, wantErr: true},
		{name: "reject with a reason on two lines", method: "POST", target: "/v1/numbers/reject", body: `{"numbers":["+97239754571"],"reason":"one\ntwo"}`, wantErr: true},
		{name: "reject with a reason holding a line separator", method: "POST", target: "/v1/numbers/reject", body: `{"numbers":["+97239754571"],"reason":"one\u2028two"}`, wantErr: true},
		{name: "reject with an unknown field", method: "POST", target: "/v1/numbers/reject", body: `{"numbers":["+97239754571"],"why":"x"}`, wantErr: true},
		{name: "list several statuses", method: "GET", target: "/v1/numbers?status=PENDING_APPROVAL,WAITING_FOR_UNASSIGN,FAILED"},
		{name: "list an unknown status among several", method: "GET", target: "/v1/numbers?status=PENDING_APPROVAL,GONE", wantErr: true},
		{name: "list by q", method: "GET", target: "/v1/numbers?q=%2B9723"},
		{name: "list by q with a letter", method: "GET", target: "/v1/numbers?q=97a", wantErr: true},
		{name: "list by q of 16 digits", method: "GET", target: "/v1/numbers?q=1234567890123456", wantErr: true},
		{name: "list empty cursor", method: "GET", target: "/v1/numbers?cursor=", wantErr: true},
		{name: "local token provider", method: "POST", target: "/local/token", body: `{"kind":"provider","provider_id":"pxc","sub":null}`},
		{name: "local token customer, other members ignored", method: "POST", target: "/local/token", body: `{"kind":"customer","tenant_id":"acme","provider_id":"pxc","x":[1]}`},
		{name: "local token customer without tenant", method: "POST", target: "/local/token", body: `{"kind":"customer","provider_id":"pxc"}`, wantErr: true},
		{name: "local token customer with a blank tenant", method: "POST", target: "/local/token", body: `{"kind":"customer","tenant_id":"  "}`, wantErr: true},
		{name: "local token provider without provider_id", method: "POST", target: "/local/token", body: `{"kind":"provider","tenant_id":"acme"}`, wantErr: true},
		{name: "put customer", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"Nova Telecom","zoom_account_id":"zoom-nova","contact_emails":["it@nova.example","ops+zoom@nova.example"]}`},
		{name: "put customer name only", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"נובה"}`},
		{name: "put customer name of 200 Hebrew letters", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"` + strings.Repeat("ש", 200) + `"}`},
		{name: "put customer name of 201 letters", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"` + strings.Repeat("x", 201) + `"}`, wantErr: true},
		{name: "put customer without name", method: "PUT", target: "/admin/v1/customers/nova", body: `{"zoom_account_id":"zoom-nova"}`, wantErr: true},
		{name: "put customer blank name", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"  	"}`, wantErr: true},
		{name: "put customer name with a control character", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"Nova"}`, wantErr: true},
		{name: "put customer name with a line break", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"Nova
"}`, wantErr: true},
		{name: "put customer bad zoom account", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"Nova","zoom_account_id":"Zoom Nova"}`, wantErr: true},
		{name: "put customer unknown field", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"Nova","plan":"pro"}`, wantErr: true},
		{name: "put customer bad customer id", method: "PUT", target: "/admin/v1/customers/Nova", body: `{"name":"Nova"}`, wantErr: true},
		{name: "put customer 11 contact emails", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"Nova","contact_emails":["a@n.example","b@n.example","c@n.example","d@n.example","e@n.example","f@n.example","g@n.example","h@n.example","i@n.example","j@n.example","k@n.example"]}`, wantErr: true},
		{name: "put customer the same email twice", method: "PUT", target: "/admin/v1/customers/nova", body: `{"name":"Nova","contact_emails":["a@n.example","a@n.example"]}`, wantErr: true},
		{name: "link", method: "PUT", target: "/admin/v1/providers/pxc/customers/nova"},
		{name: "link bad provider", method: "PUT", target: "/admin/v1/providers/P%23X/customers/nova", wantErr: true},
		{name: "list customers", method: "GET", target: "/admin/v1/customers?cursor=abc&limit=100"},
		{name: "list customers limit 0", method: "GET", target: "/admin/v1/customers?limit=0", wantErr: true},
		{name: "local token tenant not a string", method: "POST", target: "/local/token", body: `{"kind":"customer","tenant_id":7}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.body != "" {
				req.Header.Set("Content-Type", jsonCT)
			}
			for k, val := range tt.header {
				req.Header.Set(k, val)
			}
			err := v.ValidateRequest(req, []byte(tt.body))
			if tt.wantErr && err == nil {
				t.Fatal("ValidateRequest: got nil, want an error")
			}
			if !tt.wantErr && err != nil {
				t.Fatalf("ValidateRequest: %v", err)
			}
		})
	}
}

// TestCSVExportResponse: GET /v1/numbers documents a text/csv answer beside
// its JSON one.
func TestCSVExportResponse(t *testing.T) {
	v := newValidator(t)
	req := httptest.NewRequest("GET", "/v1/numbers?status=PENDING_APPROVAL,FAILED", nil)
	req.Header.Set("Accept", "text/csv")
	header := http.Header{
		"Content-Type":        {"text/csv; charset=utf-8; header=present"},
		"Content-Disposition": {`attachment; filename="numbers-acme-2026-12-02.csv"`},
	}
	body := "number,status,message,requested_by,requested_at,updated_at,request_id\r\n+97239754569,PENDING_APPROVAL,,pxc,2026-12-02T09:30:00Z,2026-12-02T09:30:00Z,rr_1\r\n"
	if err := v.ValidateResponse(req, 200, header, []byte(body)); err != nil {
		t.Fatalf("CSV export: %v", err)
	}
	header.Set("Content-Type", "text/plain")
	if err := v.ValidateResponse(req, 200, header, []byte(body)); err == nil {
		t.Fatal("a text/plain answer passed; want it refused")
	}
}

func TestValidateResponseConcurrent(t *testing.T) {
	v := newValidator(t)
	header := http.Header{"Content-Type": {jsonCT}}
	body := []byte(page(numberView))
	errs := make(chan error, 16)
	for range cap(errs) {
		go func() {
			req := httptest.NewRequest(http.MethodGet, "/v1/numbers?status=WAITING_FOR_UNASSIGN", nil)
			errs <- v.ValidateResponse(req, http.StatusOK, header, body)
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
