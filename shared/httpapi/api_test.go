package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/apigw"
	"numberrelease/shared/auth"
	"numberrelease/shared/customers"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/apicheck"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/harness/localauth"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/harness/workflowtest"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/release"
	"numberrelease/shared/store"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// apiStore is what the API's tests need of a store: the service's and the
// idempotency records' operations, and setting up tenants.
type apiStore interface {
	release.Store
	httpapi.IdempotencyStore
	customers.Store
	PutTenants(ctx context.Context, customers []domain.Customer, links []domain.Link) error
	Apply(ctx context.Context, c domain.Change) (domain.Number, error)
}

var (
	_ apiStore = (*store.Store)(nil)
	_ apiStore = (*storetest.Store)(nil)
)

// env is one API, called the way API Gateway calls the Lambda: proxy
// events in, proxy responses out, real JWTs, over an in-memory store
// (newEnv) or a fresh table on the emulator (newMotoEnv).
type env struct {
	t         *testing.T
	handler   func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)
	issuer    *localauth.Issuer
	store     apiStore
	workflow  *workflowtest.Recorder
	validator *apicheck.Validator
	tokens    map[string]string
	// logs is what the API logged.
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer that handlers may log to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// newEnv is the API over an in-memory store with DynamoDB's
// conditional-write rule (storetest).
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, storetest.New())
}

// newMotoEnv is the API over a fresh table on the emulator, for races that
// DynamoDB's conditional writes settle.
func newMotoEnv(t *testing.T) *env {
	t.Helper()
	client, table := emulatortest.NewTable(t)
	return newEnvOn(t, store.New(client, table))
}

func newEnvOn(t *testing.T, st apiStore, opts ...httpapi.Option) *env {
	t.Helper()
	ctx := context.Background()
	err := st.PutTenants(ctx,
		[]domain.Customer{{ID: "acme", Name: "Acme"}, {ID: "globex", Name: "Globex"}, {ID: "initech", Name: "Initech"}},
		[]domain.Link{{ProviderID: "pxc", CustomerID: "acme"}, {ProviderID: "pxc", CustomerID: "globex"}, {ProviderID: "other", CustomerID: "initech"}})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := localauth.New("http://issuer.test/local", "number-release")
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(issuer.Handler())
	t.Cleanup(jwks.Close)
	verifier, err := auth.NewVerifier(auth.Config{JWKSURL: jwks.URL + issuer.JWKSPath(), Issuer: issuer.Issuer(), Audience: issuer.Audience()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(verifier.Close)
	validator, err := apicheck.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	rec := &workflowtest.Recorder{}
	api := httpapi.New(release.New(st, rec, log), verifier, st, log, append([]httpapi.Option{httpapi.WithCustomers(customers.New(st, log))}, opts...)...)
	e := &env{t: t, handler: apigw.Handler(api, jsonhttp.WithRequestID), issuer: issuer, store: st, workflow: rec, validator: validator,
		tokens: map[string]string{}, logs: logs}
	for name, p := range map[string]auth.Principal{
		"olive":   {Role: auth.RoleOperator, Subject: "olive"},
		"pat":     {Role: auth.RoleProvider, ProviderID: "pxc", Subject: "pat"},
		"pxc":     {Role: auth.RoleProvider, ProviderID: "pxc", Subject: "provider:pxc"},
		"other":   {Role: auth.RoleProvider, ProviderID: "other", Subject: "provider:other"},
		"acme":    {Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "alice"},
		"globex":  {Role: auth.RoleCustomerAdmin, TenantID: "globex", Subject: "bob"},
		"initech": {Role: auth.RoleCustomerAdmin, TenantID: "initech", Subject: "carol"},
	} {
		tok, err := issuer.Issue(p, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = "Bearer " + tok
	}
	return e
}

// call sends one request through the Lambda handler and checks the answer
// against the OpenAPI document.
func (e *env) call(method, target, who string, body any, headers ...string) response {
	e.t.Helper()
	out, err := e.send(method, target, who, body, headers...)
	if err != nil && out.status == 0 {
		e.t.Fatal(err)
	}
	if err != nil {
		e.t.Error(err)
	}
	return out
}

// send is call for any goroutine: it reports failures as errors (a handler
// error is fatal for the answer; an OpenAPI mismatch comes with the answer).
func (e *env) send(method, target, who string, body any, headers ...string) (response, error) {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			return response{}, err
		}
	}
	u, err := url.Parse(target)
	if err != nil {
		return response{}, err
	}
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: method, Path: u.EscapedPath(), Body: string(raw),
		MultiValueQueryStringParameters: u.Query(),
		MultiValueHeaders:               map[string][]string{},
		RequestContext:                  events.APIGatewayProxyRequestContext{RequestID: "req-" + e.t.Name()},
	}
	if raw != nil && !slices.Contains(headers, "Content-Type") {
		ev.MultiValueHeaders["Content-Type"] = []string{"application/json"}
	}
	if who != "" {
		tok, ok := e.tokens[who]
		if !ok {
			tok = who // a raw Authorization header value
		}
		ev.MultiValueHeaders["Authorization"] = []string{tok}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		ev.MultiValueHeaders[headers[i]] = append(ev.MultiValueHeaders[headers[i]], headers[i+1])
	}
	resp, err := e.handler(context.Background(), ev)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: handler error %w", method, target, err)
	}
	out := response{status: resp.StatusCode, header: http.Header(resp.MultiValueHeaders), body: []byte(resp.Body)}
	if got := out.header.Get("X-Content-Type-Options"); got != "nosniff" {
		e.t.Errorf("%s %s → %d: X-Content-Type-Options %q; want nosniff", method, target, out.status, got)
	}
	req, _ := http.NewRequest(method, "http://localhost"+target, bytes.NewReader(raw))
	if err := e.validator.ValidateResponse(req, out.status, out.header, out.body); err != nil {
		return out, fmt.Errorf("%s %s → %d does not match the OpenAPI document: %v\n%s", method, target, out.status, err, out.body)
	}
	return out, nil
}

func (e *env) want(r response, status int, code string) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d; want %d: %s", r.status, status, r.body)
	}
	if code != "" {
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			e.t.Fatalf("Content-Type %q; want application/problem+json", ct)
		}
		if got := r.json(e.t)["code"]; got != code {
			e.t.Fatalf("problem code %v; want %s: %s", got, code, r.body)
		}
	}
}

// snapshot is every number of a customer with its status and version, to
// prove a refused request wrote nothing.
func (e *env) snapshot(customer string) string {
	e.t.Helper()
	var parts []string
	for _, st := range append([]domain.Status{domain.None}, domain.Released) {
		p, err := e.store.ListNumbers(context.Background(), domain.ListQuery{CustomerID: customer, Status: st, Limit: 100})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, n := range p.Items {
			parts = append(parts, fmt.Sprintf("%s=%s@v%d", n.Number, n.Status, n.Version))
		}
	}
	return strings.Join(parts, ",")
}

// tenants is every customer (with its Zoom account, contact emails and
// providers) and the customer of every Zoom account named, to prove a
// refused request wrote nothing.
func (e *env) tenants() string {
	e.t.Helper()
	ctx := context.Background()
	var parts []string
	accounts := map[string]bool{"zoom-nova": true, "zoom-evil": true}
	for cursor := ""; ; {
		page, err := e.store.ListCustomers(ctx, cursor, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, c := range page.Items {
			full, err := e.store.GetCustomer(ctx, c.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			parts = append(parts, fmt.Sprintf("%s %q zoom=%s emails=%v providers=%v", c.ID, full.Name, full.ZoomAccountID, full.ContactEmails, full.Providers))
			accounts[c.ZoomAccountID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for _, a := range slices.Sorted(maps.Keys(accounts)) {
		if c, err := e.store.CustomerByZoomAccount(ctx, a); err == nil {
			parts = append(parts, a+"→"+c.ID)
		}
	}
	return strings.Join(parts, "; ")
}

func (e *env) request(numbers ...string) response {
	e.t.Helper()
	r := e.call("POST", "/provider/v1/release-requests", "pxc", map[string]any{"customer_id": "acme", "numbers": numbers})
	e.want(r, http.StatusCreated, "")
	return r
}

func TestSeedFlowThroughHandlers(t *testing.T) {
	e := newEnv(t)
	// 1. The provider initiates the release of the seed's numbers (no +).
	r := e.request("97239754571", "97239754569")
	got := r.json(t)
	id := got["request_id"]
	if id == "" || fmt.Sprint(got["numbers"]) != fmt.Sprintf("[map[number:+97239754571 request_id:%[1]s status:PENDING_APPROVAL] map[number:+97239754569 request_id:%[1]s status:PENDING_APPROVAL]]", id) {
		t.Fatalf("create response = %s", r.body)
	}
	// Asking again for numbers still open records nothing new, and names
	// the request they belong to, not a new one.
	r = e.request("97239754571", "97239754569")
	if again := r.json(t); again["request_id"] != id || fmt.Sprint(again["numbers"]) != fmt.Sprint(got["numbers"]) {
		t.Fatalf("asking again = %s; want request %s", r.body, id)
	}
	// 2. The customer's Wait for Release tab lists both.
	r = e.call("GET", "/v1/numbers?status=PENDING_APPROVAL", "acme", nil)
	e.want(r, http.StatusOK, "")
	if items := r.json(t)["items"].([]any); len(items) != 2 {
		t.Fatalf("wait for release lists %d numbers: %s", len(items), r.body)
	}
	// Another customer sees none of them.
	r = e.call("GET", "/v1/numbers", "globex", nil)
	e.want(r, http.StatusOK, "")
	if items := r.json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("globex sees acme's numbers: %s", r.body)
	}
	// 3. The customer ticks both and clicks Release numbers.
	r = e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754571", "+97239754569"}})
	e.want(r, http.StatusAccepted, "")
	if fmt.Sprint(r.json(t)["results"]) != "[map[number:+97239754571 status:RELEASING] map[number:+97239754569 status:RELEASING]]" {
		t.Fatalf("approve response = %s", r.body)
	}
	// The approvals are recorded; their executions are started from the
	// table's stream (shared/starter), not by the API call.
	if starts := e.workflow.Started(); len(starts) != 0 {
		t.Fatalf("the approval call started workflows itself: %+v", starts)
	}
	// Approving again is harmless: it only makes sure attempt 1 runs (a
	// start is idempotent by name).
	r = e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"97239754571"}})
	e.want(r, http.StatusAccepted, "")
	if starts := e.workflow.Started(); len(starts) != 1 || starts[0].Attempt != 1 || starts[0].Number != "+97239754571" {
		t.Fatalf("re-approval started %+v; want attempt 1 of +97239754571 (idempotent)", starts)
	}
	// Detail with history; the number may arrive URL-encoded.
	r = e.call("GET", "/v1/numbers/%2B97239754571", "acme", nil)
	e.want(r, http.StatusOK, "")
	d := r.json(t)
	hist := d["history"].([]any)
	if d["status"] != "RELEASING" || len(hist) != 2 {
		t.Fatalf("detail = %s", r.body)
	}
	last := hist[1].(map[string]any)
	if last["from"] != "PENDING_APPROVAL" || last["to"] != "RELEASING" || last["actor"] != "customer:acme/alice" {
		t.Fatalf("last history entry = %v", last)
	}
	// The management portal shows both numbers for the provider.
	r = e.call("GET", "/provider/v1/customers/acme/numbers", "pxc", nil)
	e.want(r, http.StatusOK, "")
	if items := r.json(t)["items"].([]any); len(items) != 2 {
		t.Fatalf("portal lists %d: %s", len(items), r.body)
	}
}

func TestRejectAndCancel(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571", "+97239754569", "+14155552671")

	r := e.call("POST", "/v1/numbers/reject", "acme", map[string]any{"numbers": []string{"+97239754571", "+14155550000"}})
	e.want(r, http.StatusOK, "")
	want := "[map[number:+97239754571 status:REJECTED] map[error:map[code:not_found detail:+14155550000 has no release request] number:+14155550000]]"
	if got := fmt.Sprint(r.json(t)["results"]); got != want {
		t.Fatalf("reject results = %s", got)
	}
	// Approving a rejected number is refused for that number only.
	r = e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754571", "+97239754569"}})
	e.want(r, http.StatusAccepted, "")
	results := r.json(t)["results"].([]any)
	if e0 := results[0].(map[string]any)["error"].(map[string]any); e0["code"] != "invalid_status" {
		t.Fatalf("approve of rejected = %v", results[0])
	}
	if results[1].(map[string]any)["status"] != "RELEASING" {
		t.Fatalf("other number not approved: %v", results[1])
	}

	// The provider cancels a pending request; cancelling twice is harmless.
	for range 2 {
		r = e.call("DELETE", "/provider/v1/customers/acme/numbers/%2B14155552671/release-request", "pxc", nil)
		e.want(r, http.StatusOK, "")
		if r.json(t)["status"] != "CANCELLED" {
			t.Fatalf("cancel = %s", r.body)
		}
	}
	// A release in progress cannot be cancelled.
	r = e.call("DELETE", "/provider/v1/customers/acme/numbers/97239754569/release-request", "pxc", nil)
	e.want(r, http.StatusConflict, "conflict")
	// The provider may ask again after a rejection or a cancellation.
	cancelledAt := time.Now()
	r = e.request("+97239754571", "+14155552671")
	id := r.json(t)["request_id"]
	if fmt.Sprint(r.json(t)["numbers"]) != fmt.Sprintf("[map[number:+97239754571 request_id:%[1]s status:PENDING_APPROVAL] map[number:+14155552671 request_id:%[1]s status:PENDING_APPROVAL]]", id) {
		t.Fatalf("re-request = %s", r.body)
	}
	// The new request has its own date (it was lost once: 0001-01-01).
	r = e.call("GET", "/v1/numbers/+14155552671", "acme", nil)
	if at, err := time.Parse(time.RFC3339Nano, r.json(t)["requested_at"].(string)); err != nil || at.Before(cancelledAt.Add(-time.Second)) {
		t.Fatalf("requested_at of the re-request = %v (%v); want after %s", r.json(t)["requested_at"], err, cancelledAt)
	}
	var tos []string
	for _, h := range r.json(t)["history"].([]any) {
		tos = append(tos, h.(map[string]any)["to"].(string))
	}
	if fmt.Sprint(tos) != "[PENDING_APPROVAL CANCELLED PENDING_APPROVAL]" {
		t.Fatalf("history = %v", tos)
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"customer_id": "acme", "numbers": []string{"+97239754571"}}
	first := e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "k-1")
	e.want(first, http.StatusCreated, "")
	// Same key, same body (other white space): the same answer, replayed.
	again := e.call("POST", "/provider/v1/release-requests", "pxc", `{ "customer_id": "acme",  "numbers": ["+97239754571"] }`, "Idempotency-Key", "k-1")
	e.want(again, http.StatusCreated, "")
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	// Same key, other body: 422, nothing written.
	before := e.snapshot("acme")
	r := e.call("POST", "/provider/v1/release-requests", "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+97239754569"}}, "Idempotency-Key", "k-1")
	e.want(r, http.StatusUnprocessableEntity, "idempotency_mismatch")
	if after := e.snapshot("acme"); after != before {
		t.Fatalf("422 wrote: %s → %s", before, after)
	}
	// Keys are per provider: another provider's same key is its own.
	r = e.call("POST", "/provider/v1/release-requests", "other", map[string]any{"customer_id": "initech", "numbers": []string{"+97239754569"}}, "Idempotency-Key", "k-1")
	e.want(r, http.StatusCreated, "")
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571", "+97239754569")
	tooMany := make([]string, 501)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("+1415555%04d", i)
	}
	huge := `{"customer_id":"acme","numbers":["+97239754571"],"reason":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	expired, err := e.issuer.IssueClaims(jwt.MapClaims{"iss": e.issuer.Issuer(), "aud": e.issuer.Audience(), "sub": "alice", "role": "customer_admin", "tenant_id": "acme", "exp": time.Now().Add(-time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	other, err := localauth.New(e.issuer.Issuer(), e.issuer.Audience())
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.Issue(auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const create = "/provider/v1/release-requests"
	tests := []struct {
		name         string
		method, path string
		who          string
		body         any
		headers      []string
		status       int
		code         string
		mentions     string
	}{
		{"invalid number named", "POST", create, "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671", "12ab"}}, nil, 400, "invalid_numbers", "12ab"},
		{"duplicate number named", "POST", create, "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671", "14155552671"}}, nil, 400, "invalid_numbers", "duplicate"},
		{"empty numbers", "POST", create, "pxc", map[string]any{"customer_id": "acme", "numbers": []string{}}, nil, 400, "invalid_numbers", "at least one"},
		{"501 numbers", "POST", create, "pxc", map[string]any{"customer_id": "acme", "numbers": tooMany}, nil, 413, "payload_too_large", "at most 500"},
		{"501 numbers to approve", "POST", "/v1/numbers/release", "acme", map[string]any{"numbers": tooMany}, nil, 413, "payload_too_large", "at most 500"},
		{"501 numbers to reject", "POST", "/v1/numbers/reject", "acme", map[string]any{"numbers": tooMany}, nil, 413, "payload_too_large", "at most 500"},
		{"approve without numbers", "POST", "/v1/numbers/release", "acme", `{}`, nil, 400, "invalid_request", `\"numbers\" is required`},
		{"body is an array", "POST", create, "pxc", `[{"customer_id":"acme","numbers":["+14155552671"]}]`, nil, 400, "invalid_request", "the request body must be a JSON object, not an array"},
		{"approve body is a string", "POST", "/v1/numbers/release", "acme", `"+97239754571"`, nil, 400, "invalid_request", "the request body must be a JSON object, not a string"},
		{"numbers of the wrong type", "POST", "/v1/numbers/reject", "acme", `{"numbers":[97239754571]}`, nil, 400, "invalid_request", `every item of \"numbers\" must be a string, not a number`},
		{"duplicate field named", "POST", create, "pxc", `{"customer_id":"initech","customer_id":"acme","numbers":["+14155552671"]}`, nil, 400, "invalid_request", `\"customer_id\" appears more than once`},
		{"duplicate numbers field named", "POST", "/v1/numbers/release", "acme", `{"numbers":["+97239754571"],"numbers":[]}`, nil, 400, "invalid_request", `\"numbers\" appears more than once`},
		{"null reason", "POST", create, "pxc", `{"customer_id":"acme","numbers":["+14155552671"],"reason":null}`, nil, 400, "invalid_request", `\"reason\" must not be null`},
		{"field name in another case", "POST", create, "pxc", `{"Customer_ID":"acme","numbers":["+14155552671"]}`, nil, 400, "invalid_request", `unknown field \"Customer_ID\"`},
		{"body over 1 MiB", "POST", create, "pxc", huge, nil, 413, "payload_too_large", "bytes"},
		{"malformed JSON", "POST", create, "pxc", `{"customer_id": "acme", "numbers": [`, nil, 400, "invalid_request", "malformed"},
		{"unknown field named", "POST", create, "pxc", `{"customer_id":"acme","number":["+14155552671"]}`, nil, 400, "invalid_request", "unknown field"},
		{"wrong type named", "POST", create, "pxc", `{"customer_id":"acme","numbers":"+14155552671"}`, nil, 400, "invalid_request", "numbers"},
		{"missing customer", "POST", create, "pxc", map[string]any{"numbers": []string{"+14155552671"}}, nil, 400, "invalid_request", "customer_id"},
		{"unknown customer", "POST", create, "pxc", map[string]any{"customer_id": "nobody", "numbers": []string{"+14155552671"}}, nil, 404, "not_found", "nobody"},
		{"customer of another provider looks unknown", "POST", create, "pxc", map[string]any{"customer_id": "initech", "numbers": []string{"+14155552671"}}, nil, 404, "not_found", "initech"},
		{"wrong media type", "POST", create, "pxc", `<customer>acme</customer>`, []string{"Content-Type", "text/xml"}, 415, "unsupported_media_type", "application/json"},
		{"form body (curl -d without a Content-Type)", "POST", create, "pxc", `customer_id=acme`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "application/json"},
		{"JSON labelled as a form", "POST", "/v1/numbers/release", "acme", `{"numbers":["+97239754571"]}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "application/json"},
		{"no Content-Type", "POST", "/v1/numbers/reject", "acme", `{"numbers":["+97239754571"]}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", "no Content-Type"},
		{"JSON in another charset", "POST", create, "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671"}}, []string{"Content-Type", "application/json; charset=utf-16"}, 415, "unsupported_media_type", "utf-16"},
		{"two Authorization headers, the first valid", "POST", create, "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671"}}, []string{"Authorization", "Bearer not.a.jwt"}, 401, "unauthenticated", "one Authorization header, not 2"},
		{"two valid Authorization headers of two tenants", "GET", "/v1/numbers", "acme", nil, []string{"Authorization", e.tokens["globex"]}, 401, "unauthenticated", "one Authorization header, not 2"},
		{"customer token on provider API", "POST", create, "acme", map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671"}}, nil, 403, "forbidden", "provider"},
		{"provider token on customer API", "POST", "/v1/numbers/release", "pxc", map[string]any{"numbers": []string{"+97239754571"}}, nil, 403, "forbidden", "customer_admin"},
		{"no token", "GET", "/v1/numbers", "", nil, nil, 401, "unauthenticated", "bearer"},
		{"expired token", "GET", "/v1/numbers", "Bearer " + expired, nil, nil, 401, "unauthenticated", "expired"},
		{"forged token", "POST", create, "Bearer " + forged, map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671"}}, nil, 401, "unauthenticated", "key"},
		{"other tenant's number is not found", "GET", "/v1/numbers/%2B97239754571", "globex", nil, nil, 404, "not_found", ""},
		{"cancel of other tenant's number", "DELETE", "/provider/v1/customers/initech/numbers/97239754571/release-request", "pxc", nil, nil, 404, "not_found", ""},
		{"bad status filter", "GET", "/v1/numbers?status=GONE", "acme", nil, nil, 400, "invalid_request", "GONE"},
		{"empty status filter", "GET", "/v1/numbers?status=", "acme", nil, nil, 400, "invalid_request", "status is empty"},
		{"empty status filter (provider)", "GET", "/provider/v1/customers/acme/numbers?status=", "pxc", nil, nil, 400, "invalid_request", "status is empty"},
		{"unknown status among several", "GET", "/v1/numbers?status=PENDING_APPROVAL,GONE,FAILED", "acme", nil, nil, 400, "invalid_request", `status \"GONE\" is not one of`},
		{"empty status among several", "GET", "/v1/numbers?status=FAILED,", "acme", nil, nil, 400, "invalid_request", "empty element"},
		{"lower-case status", "GET", "/v1/numbers?status=failed", "acme", nil, nil, 400, "invalid_request", "failed"},
		{"unknown status among several (provider)", "GET", "/provider/v1/customers/acme/numbers?status=FAILED,GONE", "pxc", nil, nil, 400, "invalid_request", `status \"GONE\" is not one of`},
		{"q with a letter (provider)", "GET", "/provider/v1/customers/acme/numbers?q=97a", "pxc", nil, nil, 400, "invalid_request", `q \"97a\"`},
		{"empty q (provider)", "GET", "/provider/v1/customers/acme/numbers?q=", "pxc", nil, nil, 400, "invalid_request", "q is empty"},
		{"q given twice (provider)", "GET", "/provider/v1/customers/acme/numbers?q=1&q=9", "pxc", nil, nil, 400, "invalid_request", "q is given 2 times"},
		{"q with a letter", "GET", "/v1/numbers?q=97a", "acme", nil, nil, 400, "invalid_request", `q \"97a\"`},
		{"q only a plus", "GET", "/v1/numbers?q=%2B", "acme", nil, nil, 400, "invalid_request", "q"},
		{"q too long", "GET", "/v1/numbers?q=1234567890123456", "acme", nil, nil, 400, "invalid_request", "1 to 15 digits"},
		{"q with spaces", "GET", "/v1/numbers?q=972+3", "acme", nil, nil, 400, "invalid_request", "q"},
		{"empty q", "GET", "/v1/numbers?q=", "acme", nil, nil, 400, "invalid_request", "q is empty"},
		{"status given twice", "GET", "/v1/numbers?status=RELEASED&status=PENDING_APPROVAL", "acme", nil, nil, 400, "invalid_request", "status is given 2 times"},
		{"empty cursor", "GET", "/v1/numbers?cursor=", "acme", nil, nil, 400, "invalid_request", "cursor is empty"},
		{"bad limit", "GET", "/v1/numbers?limit=0", "acme", nil, nil, 400, "invalid_request", "limit"},
		{"signed limit", "GET", "/v1/numbers?limit=%2B5", "acme", nil, nil, 400, "invalid_request", "limit"},
		{"bad cursor", "GET", "/v1/numbers?cursor=abc", "acme", nil, nil, 400, "invalid_request", "cursor"},
		{"approve invalid number", "POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754571", "nope"}}, nil, 400, "invalid_numbers", "nope"},
		{"path number invalid", "GET", "/v1/numbers/12", "acme", nil, nil, 400, "invalid_numbers", "12"},
		{"unknown path", "GET", "/v1/nothing/here", "acme", nil, nil, 404, "not_found", ""},
		{"wrong method", "PUT", "/v1/numbers/release", "acme", nil, nil, 405, "method_not_allowed", "POST"},
		{"idempotency key too long", "POST", create, "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671"}}, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "invalid_request", "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			before := e.snapshot("acme") + "|" + e.snapshot("initech")
			starts := len(e.workflow.Started())
			r := e.call(tt.method, tt.path, tt.who, tt.body, tt.headers...)
			e.want(r, tt.status, tt.code)
			if tt.mentions != "" && !strings.Contains(string(r.body), tt.mentions) {
				t.Errorf("problem does not mention %q: %s", tt.mentions, r.body)
			}
			if after := e.snapshot("acme") + "|" + e.snapshot("initech"); after != before {
				t.Errorf("refused request changed data:\n%s\n%s", before, after)
			}
			if len(e.workflow.Started()) != starts {
				t.Errorf("refused request started a workflow")
			}
		})
	}
}

// TestApproveWhenStepFunctionsIsDown: the approval only writes, so it is
// recorded (RELEASING, for the starter to start) even when Step Functions
// is down; approving it again while Step Functions is still down says the
// workflow could not be checked, and leaves the number as it is.
func TestApproveWhenStepFunctionsIsDown(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571")
	e.workflow.StartErr = errors.New("states unavailable")
	r := e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754571"}})
	e.want(r, http.StatusAccepted, "")
	if res := r.json(t)["results"].([]any)[0].(map[string]any); res["status"] != "RELEASING" {
		t.Fatalf("result = %v", res)
	}
	r = e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754571"}})
	e.want(r, http.StatusAccepted, "")
	if res := r.json(t)["results"].([]any)[0].(map[string]any); res["error"].(map[string]any)["code"] != "unavailable" {
		t.Fatalf("result = %v", res)
	}
	n, err := e.store.GetNumber(context.Background(), "acme", "+97239754571")
	if err != nil || n.Status != domain.Releasing || n.Attempt != 1 {
		t.Fatalf("number = %+v, %v; want RELEASING, attempt 1", n, err)
	}
}

func TestWaitingNumberIsRecheckedOnApproval(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754569")
	ctx := context.Background()
	cur, _ := e.store.GetNumber(ctx, "acme", "+97239754569")
	for _, st := range []domain.Status{domain.Releasing, domain.WaitingForUnassign} {
		next := cur
		next.Status = st
		if st == domain.WaitingForUnassign {
			next.TaskToken = "token-1"
			next.Assignee = &domain.Assignee{ID: "u1", Name: "Dana", Type: "user"}
			next.Message = "assigned in Zoom to Dana (user) — unassign it in Zoom first"
		}
		var err error
		if cur, err = e.store.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "workflow", Why: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.call("GET", "/v1/numbers?status=WAITING_FOR_UNASSIGN", "acme", nil)
	item := r.json(t)["items"].([]any)[0].(map[string]any)
	if item["zoom_assignee"].(map[string]any)["name"] != "Dana" || item["message"] == "" {
		t.Fatalf("waiting item = %v", item)
	}
	r = e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754569"}})
	e.want(r, http.StatusAccepted, "")
	// The result says whom the number is still assigned to, and why it waits.
	want := "[map[message:assigned in Zoom to Dana (user) — unassign it in Zoom first number:+97239754569 status:WAITING_FOR_UNASSIGN zoom_assignee:map[id:u1 name:Dana type:user]]]"
	if fmt.Sprint(r.json(t)["results"]) != want || fmt.Sprint(e.workflow.Rechecks) != "[token-1]" {
		t.Fatalf("results %s, rechecks %v", r.body, e.workflow.Rechecks)
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	nums := make([]string, 120)
	for i := range nums {
		nums[i] = fmt.Sprintf("+1415555%04d", i)
	}
	e.request(nums...)
	seen := map[string]bool{}
	target := "/v1/numbers?status=PENDING_APPROVAL&limit=50"
	for pages := 1; ; pages++ {
		r := e.call("GET", target, "acme", nil)
		e.want(r, http.StatusOK, "")
		body := r.json(t)
		for _, it := range body["items"].([]any) {
			seen[it.(map[string]any)["number"].(string)] = true
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		target = "/v1/numbers?status=PENDING_APPROVAL&limit=50&cursor=" + url.QueryEscape(next)
	}
	if len(seen) != 120 {
		t.Fatalf("paged through %d numbers; want 120", len(seen))
	}
}

// TestMethodsAndPaths: a documented path answers only its documented
// methods; any other method, OPTIONS and HEAD included, gets 405 naming
// exactly the documented ones in Allow, and a literal path is never read as
// a {number}.
func TestMethodsAndPaths(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/numbers/release", 405, "POST"},
		{"GET", "/v1/numbers/reject", 405, "POST"},
		{"DELETE", "/v1/numbers/release", 405, "POST"},
		{"OPTIONS", "/v1/numbers/release", 405, "POST"},
		{"OPTIONS", "/v1/numbers", 405, "GET"},
		{"HEAD", "/v1/numbers", 405, "GET"},
		{"POST", "/v1/numbers/%2B97239754571", 405, "GET"},
		{"TRACE", "/provider/v1/release-requests", 405, "GET, POST"},
		{"POST", "/provider/v1/release-requests/r-1", 405, "DELETE, GET"},
		{"PATCH", "/provider/v1/customers/acme/numbers", 405, "GET"},
		{"GET", "/provider/v1/customers/acme/numbers/%2B97239754571/release-request", 405, "DELETE"},
		{"GET", "/v1/numbers/", 404, ""},
		{"GET", "/v1/numbers/%2B97239754571/history", 404, ""},
		{"GET", "/provider/v1/customers//numbers", 404, ""},
		{"GET", "/", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			e.t = t
			r := e.call(tt.method, tt.path, "acme", nil)
			code := "not_found"
			if tt.status == 405 {
				code = "method_not_allowed"
			}
			e.want(r, tt.status, code)
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q; want %q", got, tt.allow)
			}
		})
	}
	// The documented method still reaches the operation.
	e.t = t
	r := e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754571"}})
	e.want(r, http.StatusAccepted, "")
}

// TestListSeveralStatuses: the customer's listing (GET /v1/numbers) and the
// provider's (the management portal's) take several statuses
// (comma-separated, in any order, duplicates ignored) and q, the beginning
// of the numbers, and page through them with the cursor.
func TestListSeveralStatuses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.request("+97239754571", "+97239754569", "+14155552671", "+14155552672", "+14155552673", "+12125550100", "+12125550101")
	move := func(n string, to ...domain.Status) {
		t.Helper()
		cur, err := e.store.GetNumber(ctx, "acme", n)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range to {
			next := cur
			next.Status = st
			if cur, err = e.store.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "test", Why: "test"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	move("+14155552671", domain.Releasing, domain.Failed)
	move("+14155552672", domain.Releasing, domain.WaitingForUnassign)
	move("+14155552673", domain.Releasing, domain.Released)
	move("+12125550101", domain.Rejected)

	tests := []struct {
		name  string
		query string
		want  string // numbers in order
	}{
		{"wait for release tab", "status=PENDING_APPROVAL,WAITING_FOR_UNASSIGN,FAILED",
			"+14155552671 +12125550100 +97239754569 +97239754571 +14155552672"},
		{"another order, a duplicate", "status=FAILED,WAITING_FOR_UNASSIGN,PENDING_APPROVAL,FAILED",
			"+14155552671 +12125550100 +97239754569 +97239754571 +14155552672"},
		{"one status, as before", "status=PENDING_APPROVAL", "+12125550100 +97239754569 +97239754571"},
		{"RELEASED among others", "status=RELEASED,REJECTED", "+12125550101 +14155552673"},
		{"released only when named", "", "+14155552671 +12125550100 +97239754569 +97239754571 +12125550101 +14155552672"},
		{"q with a plus", "status=PENDING_APPROVAL,FAILED&q=%2B1", "+14155552671 +12125550100"},
		{"q without a plus", "q=9723975456", "+97239754569"},
		{"q a whole number", "status=RELEASED&q=14155552673", "+14155552673"},
		{"q matching nothing", "status=PENDING_APPROVAL&q=44", ""},
	}
	listings := []struct{ name, path, who string }{
		{"customer", "/v1/numbers", "acme"},
		{"provider", "/provider/v1/customers/acme/numbers", "pxc"},
	}
	for _, l := range listings {
		for _, tt := range tests {
			for _, limit := range []int{1, 2, 100} {
				t.Run(fmt.Sprintf("%s: %s, pages of %d", l.name, tt.name, limit), func(t *testing.T) {
					e.t = t
					var got []string
					target := fmt.Sprintf("%s?limit=%d&%s", l.path, limit, tt.query)
					for pages := 0; ; pages++ {
						if pages > 10 {
							t.Fatal("paging does not end")
						}
						r := e.call("GET", target, l.who, nil)
						e.want(r, http.StatusOK, "")
						body := r.json(t)
						for _, it := range body["items"].([]any) {
							got = append(got, it.(map[string]any)["number"].(string))
						}
						next, _ := body["next_cursor"].(string)
						if next == "" {
							break
						}
						target = fmt.Sprintf("%s?limit=%d&%s&cursor=%s", l.path, limit, tt.query, url.QueryEscape(next))
					}
					if g := strings.Join(got, " "); g != tt.want {
						t.Fatalf("listed %q; want %q", g, tt.want)
					}
				})
			}
		}
	}
}
