package httpapi

import (
	"context"
	"net/http"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/webhooks"
)

// Webhooks are the provider's webhook use cases (webhooks.Service).
type Webhooks interface {
	Put(ctx context.Context, providerID, url string, events []string) (webhooks.View, error)
	Get(ctx context.Context, providerID string) (webhooks.Status, error)
	Delete(ctx context.Context, providerID string) error
	Test(ctx context.Context, providerID string) (webhooks.TestResult, error)
}

var _ Webhooks = (*webhooks.Service)(nil)

// WithWebhooks serves the provider's webhook (/provider/v1/webhook); without
// it those paths answer 404.
func WithWebhooks(w Webhooks) Option {
	return func(a *API) { a.hooks = w }
}

// putWebhookBody is PUT /provider/v1/webhook's body.
type putWebhookBody struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

func (a *API) webhooksServed(w http.ResponseWriter, r *http.Request) bool {
	if a.hooks == nil {
		a.problem(w, r, apperr.New(apperr.NotFound, "this deployment does not deliver webhooks"))
		return false
	}
	return true
}

func (a *API) putWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.webhooksServed(w, r) {
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in putWebhookBody
	if err := decodeJSON(body, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	v, err := a.hooks.Put(r.Context(), p.ProviderID, in.URL, in.Events)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	// The secret is shown this once.
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, v)
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.webhooksServed(w, r) {
		return
	}
	v, err := a.hooks.Get(r.Context(), p.ProviderID)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if v.Deliveries == nil {
		v.Deliveries = []webhooks.Delivery{}
	}
	jsonhttp.Write(w, http.StatusOK, v)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.webhooksServed(w, r) {
		return
	}
	if err := a.hooks.Delete(r.Context(), p.ProviderID); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.webhooksServed(w, r) {
		return
	}
	res, err := a.hooks.Test(r.Context(), p.ProviderID)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}
