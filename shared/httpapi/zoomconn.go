package httpapi

import (
	"context"
	"net/http"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/zoomauth"
)

// ZoomConnections are the Connect Zoom use cases (zoomauth.Connections).
type ZoomConnections interface {
	Status(ctx context.Context, p auth.Principal) (zoomauth.View, error)
	Authorize(ctx context.Context, p auth.Principal) (zoomauth.AuthorizeView, error)
	Complete(ctx context.Context, p auth.Principal, code, state string) (zoomauth.View, error)
	Disconnect(ctx context.Context, p auth.Principal) (zoomauth.View, error)
}

var _ ZoomConnections = (*zoomauth.Connections)(nil)

// WithZoomConnections serves the customer's Zoom connection
// (/v1/zoom/connection); without it those paths answer 404.
func WithZoomConnections(c ZoomConnections) Option {
	return func(a *API) { a.conns = c }
}

// completeBody is what the customer app sends back from Zoom's redirect.
type completeBody struct {
	Code  string `json:"code"`
	State string `json:"state"`
}

func (a *API) connections(w http.ResponseWriter, r *http.Request) bool {
	if a.conns == nil {
		a.problem(w, r, apperr.New(apperr.NotFound, "this deployment does not connect customers' Zoom accounts"))
		return false
	}
	return true
}

func (a *API) zoomStatus(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.connections(w, r) {
		return
	}
	v, err := a.conns.Status(r.Context(), p)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, v)
}

func (a *API) zoomAuthorize(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.connections(w, r) {
		return
	}
	v, err := a.conns.Authorize(r.Context(), p)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, v)
}

func (a *API) zoomComplete(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.connections(w, r) {
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in completeBody
	if err := decodeJSON(body, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	v, err := a.conns.Complete(r.Context(), p, in.Code, in.State)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, v)
}

func (a *API) zoomDisconnect(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.connections(w, r) {
		return
	}
	v, err := a.conns.Disconnect(r.Context(), p)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, v)
}
