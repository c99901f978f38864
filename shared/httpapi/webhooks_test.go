package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/webhooks"
)

// fakeHooks records the calls the API makes and answers as a provider's
// registration would.
type fakeHooks struct {
	mu    sync.Mutex
	calls []string
	reg   map[string]webhooks.View
}

func (f *fakeHooks) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeHooks) Put(_ context.Context, providerID, url string, events []string) (webhooks.View, error) {
	f.record("put " + providerID + " " + url + " " + strings.Join(events, ","))
	if strings.HasPrefix(url, "http:") {
		return webhooks.View{}, apperr.New(apperr.Invalid, "url: must use https")
	}
	if err := webhooks.CheckEvents(events); err != nil {
		return webhooks.View{}, apperr.New(apperr.Invalid, "%v", err)
	}
	v := webhooks.View{URL: url, Events: events, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYq=", UpdatedAt: time.Now()}
	if len(events) == 0 {
		v.Events = webhooks.EventTypes
	}
	f.mu.Lock()
	f.reg[providerID] = v
	f.mu.Unlock()
	return v, nil
}

func (f *fakeHooks) Get(_ context.Context, providerID string) (webhooks.Status, error) {
	f.record("get " + providerID)
	f.mu.Lock()
	v, ok := f.reg[providerID]
	f.mu.Unlock()
	if !ok {
		return webhooks.Status{}, apperr.New(apperr.NotFound, "provider %s has no webhook", providerID)
	}
	return webhooks.Status{URL: v.URL, Events: v.Events, UpdatedAt: v.UpdatedAt, Deliveries: []webhooks.Delivery{{
		ID: "msg_1", Type: "number.released", Number: "+97239754569", CustomerID: "acme", Attempt: 2,
		StatusCode: 500, Error: "", DurationMS: 12, At: time.Now(),
	}}}, nil
}

func (f *fakeHooks) Delete(_ context.Context, providerID string) error {
	f.record("delete " + providerID)
	f.mu.Lock()
	delete(f.reg, providerID)
	f.mu.Unlock()
	return nil
}

func (f *fakeHooks) Test(_ context.Context, providerID string) (webhooks.TestResult, error) {
	f.record("test " + providerID)
	if _, err := f.Get(context.Background(), providerID); err != nil {
		return webhooks.TestResult{}, err
	}
	return webhooks.TestResult{ID: "msg_test_1", Type: webhooks.TypeTest, Succeeded: true, Result: webhooks.Result{StatusCode: 204, DurationMS: 3}}, nil
}

// The webhook routes: the provider's own registration only (the provider
// id comes from the token), bodies decoded strictly, answers as the OpenAPI
// document says (e.call validates each), the secret not cached.
func TestWebhookRoutes(t *testing.T) {
	hooks := &fakeHooks{reg: map[string]webhooks.View{}}
	e := newEnvOn(t, storetest.New(), httpapi.WithWebhooks(hooks))

	e.want(e.call("GET", "/provider/v1/webhook", "pxc", nil), http.StatusNotFound, "not_found")
	e.want(e.call("POST", "/provider/v1/webhook/test", "pxc", nil), http.StatusNotFound, "not_found")

	r := e.call("PUT", "/provider/v1/webhook", "pxc", map[string]any{"url": "https://hooks.example.com/nr", "events": []string{"number.released"}})
	e.want(r, http.StatusOK, "")
	if r.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.json(t)["secret"].(string), "whsec_") {
		t.Fatalf("PUT answer %s, Cache-Control %q", r.body, r.header.Get("Cache-Control"))
	}
	r = e.call("GET", "/provider/v1/webhook", "pat", nil) // another user of pxc
	e.want(r, http.StatusOK, "")
	if _, ok := r.json(t)["secret"]; ok {
		t.Fatalf("GET shows the secret: %s", r.body)
	}
	e.want(e.call("GET", "/provider/v1/webhook", "other", nil), http.StatusNotFound, "not_found")
	e.want(e.call("POST", "/provider/v1/webhook/test", "pxc", nil), http.StatusOK, "")

	for _, tc := range []struct {
		name string
		body any
		code int
		want string
	}{
		{"unknown field", `{"url":"https://a.example.com","secret":"mine"}`, http.StatusBadRequest, "invalid_request"},
		{"null events", `{"url":"https://a.example.com","events":null}`, http.StatusBadRequest, "invalid_request"},
		{"not https", map[string]any{"url": "http://a.example.com"}, http.StatusBadRequest, "invalid_request"},
		{"unknown event", map[string]any{"url": "https://a.example.com", "events": []string{"number.gone"}}, http.StatusBadRequest, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.want(e.call("PUT", "/provider/v1/webhook", "pxc", tc.body), tc.code, tc.want)
		})
	}
	e.want(e.call("PUT", "/provider/v1/webhook", "pxc", `{"url":"https://a.example.com"}`, "Content-Type", "text/plain"), http.StatusUnsupportedMediaType, "unsupported_media_type")
	e.want(e.call("PUT", "/provider/v1/webhook", "acme", map[string]any{"url": "https://a.example.com"}), http.StatusForbidden, "forbidden")
	e.want(e.call("GET", "/provider/v1/webhook", "olive", nil), http.StatusForbidden, "forbidden")
	e.want(e.call("PUT", "/provider/v1/webhook", "", map[string]any{"url": "https://a.example.com"}), http.StatusUnauthorized, "unauthenticated")
	e.want(e.call("POST", "/provider/v1/webhook", "pxc", nil), http.StatusMethodNotAllowed, "method_not_allowed")

	e.want(e.call("DELETE", "/provider/v1/webhook", "pxc", nil), http.StatusNoContent, "")
	e.want(e.call("GET", "/provider/v1/webhook", "pxc", nil), http.StatusNotFound, "not_found")
	for _, c := range hooks.calls {
		if strings.Contains(c, " other") && !strings.HasPrefix(c, "get other") {
			t.Errorf("call %q acts for another provider", c)
		}
	}
}

// Without WithWebhooks the routes answer 404.
func TestWebhookRoutesWithoutWebhooks(t *testing.T) {
	e := newEnv(t)
	e.want(e.call("GET", "/provider/v1/webhook", "pxc", nil), http.StatusNotFound, "not_found")
}
