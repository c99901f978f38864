package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/release"
)

// Service is the use cases the API exposes.
type Service interface {
	AuthorizeRequest(ctx context.Context, p auth.Principal, in release.RequestInput) error
	RequestRelease(ctx context.Context, p auth.Principal, in release.RequestInput) (release.RequestOutput, error)
	ProviderList(ctx context.Context, p auth.Principal, customerID string, q release.ListParams) (domain.Page, error)
	Cancel(ctx context.Context, p auth.Principal, customerID, number string) (release.Result, error)
	CustomerList(ctx context.Context, p auth.Principal, q release.ListParams) (domain.Page, error)
	Approve(ctx context.Context, p auth.Principal, numbers []string) ([]release.Result, error)
	Reject(ctx context.Context, p auth.Principal, numbers []string, reason string) ([]release.Result, error)
	Get(ctx context.Context, p auth.Principal, number string) (release.Detail, error)
	SupportGet(ctx context.Context, p auth.Principal, customerID, number string) (release.Detail, error)
	ListRequests(ctx context.Context, p auth.Principal, customerID string, q release.ListParams) (release.RequestSummaries, error)
	GetRequest(ctx context.Context, p auth.Principal, requestID string) (release.RequestDetail, error)
	CancelRequest(ctx context.Context, p auth.Principal, requestID string) (release.CancelRequestOutput, error)
}

var _ Service = (*release.Service)(nil)

// numberView is a number as the API shows it.
type numberView struct {
	Number       string        `json:"number"`
	Status       string        `json:"status"`
	CustomerID   string        `json:"customer_id"`
	ProviderID   string        `json:"provider_id"`
	RequestID    string        `json:"request_id"`
	RequestedAt  time.Time     `json:"requested_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	Message      string        `json:"message,omitempty"`
	Reason       string        `json:"reason,omitempty"`
	ZoomAssignee *assigneeView `json:"zoom_assignee,omitempty"`
}

// assigneeView is who holds a number in Zoom, as the API shows it.
type assigneeView struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	ExtensionNumber string `json:"extension_number,omitempty"`
}

type historyView struct {
	Version int       `json:"version"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	Why     string    `json:"why"`
}

type detailView struct {
	numberView
	History []historyView `json:"history"`
}

type pageView struct {
	Items      []numberView `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

type resultsView struct {
	Results []release.Result `json:"results"`
}

type numbersBody struct {
	Numbers []string `json:"numbers"`
}

func viewOf(n domain.Number) numberView {
	v := numberView{
		Number: n.Number, Status: string(n.Status), CustomerID: n.CustomerID, ProviderID: n.ProviderID,
		RequestID: n.RequestID, RequestedAt: n.RequestedAt, UpdatedAt: n.UpdatedAt,
		Message: n.Message, Reason: n.Reason,
	}
	if a := n.Assignee; a != nil {
		v.ZoomAssignee = &assigneeView{ID: a.ID, Name: a.Name, Type: a.Type, ExtensionNumber: a.ExtensionNumber}
	}
	return v
}

func pageOf(p domain.Page) pageView {
	out := pageView{Items: make([]numberView, len(p.Items))}
	for i, n := range p.Items {
		out.Items[i] = viewOf(n)
	}
	if p.NextCursor != "" {
		out.NextCursor = &p.NextCursor
	}
	return out
}

// listParams reads a number listing's query parameters (the customer's
// and the provider's take the same): status (one or several,
// comma-separated), q (the beginning of the numbers), cursor and limit.
// Each may be given once; a parameter given with an empty value is refused
// rather than read as absent (status= would otherwise list every status).
// The values themselves are checked by the service.
func listParams(r *http.Request) (release.ListParams, error) {
	return queryParams(r, "status", "q", "cursor", "limit")
}

// pageParams reads a listing's paging parameters (cursor, limit), as
// listParams does.
func pageParams(r *http.Request) (release.ListParams, error) {
	return queryParams(r, "cursor", "limit")
}

// queryParams reads the named listing parameters, each at most once and
// never empty.
func queryParams(r *http.Request, names ...string) (release.ListParams, error) {
	q := r.URL.Query()
	var p release.ListParams
	for _, name := range names {
		switch vs := q[name]; {
		case len(vs) > 1:
			return p, apperr.New(apperr.Invalid, "query parameter %s is given %d times; give it once", name, len(vs))
		case len(vs) == 1 && vs[0] == "":
			return p, apperr.New(apperr.Invalid, "query parameter %s is empty; give it a value or leave it out", name)
		}
	}
	if slices.Contains(names, "status") {
		p.Status = q.Get("status")
	}
	if slices.Contains(names, "q") {
		p.Query = q.Get("q")
	}
	p.Cursor = q.Get("cursor")
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || strings.TrimLeft(l, "0123456789") != "" {
			return p, apperr.New(apperr.Invalid, "limit %q is not a positive whole number", l)
		}
		p.Limit = n
	}
	return p, nil
}

func (a *API) providerList(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q, err := listParams(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	page, err := a.svc.ProviderList(r.Context(), p, r.PathValue("customer_id"), q)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, pageOf(page))
}

func (a *API) customerList(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q, err := listParams(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	if wantsCSV(r.Header.Get("Accept")) {
		a.exportCSV(w, r, p, q)
		return
	}
	w.Header().Set("Vary", "Accept")
	page, err := a.svc.CustomerList(r.Context(), p, q)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, pageOf(page))
}

func (a *API) cancel(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	res, err := a.svc.Cancel(r.Context(), p, r.PathValue("customer_id"), r.PathValue("number"))
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, res)
}

func (a *API) approve(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a.perNumber(w, r, p, a.svc.Approve, http.StatusAccepted)
}

func (a *API) reject(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	body, err := readBody(w, r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in rejectBody
	if err := decodeJSON(body, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	results, err := a.svc.Reject(r.Context(), p, in.Numbers, in.Reason)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, resultsView{Results: results})
}

// rejectBody is POST /v1/numbers/reject's body: the numbers and an
// optional reason.
type rejectBody struct {
	Numbers []string `json:"numbers"`
	Reason  string   `json:"reason,omitempty"`
}

func (a *API) perNumber(w http.ResponseWriter, r *http.Request, p auth.Principal,
	act func(context.Context, auth.Principal, []string) ([]release.Result, error), status int) {
	body, err := readBody(w, r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in numbersBody
	if err := decodeJSON(body, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	results, err := act(r.Context(), p, in.Numbers)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, status, resultsView{Results: results})
}

func (a *API) getNumber(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := a.svc.Get(r.Context(), p, r.PathValue("number"))
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, detailOf(d))
}

// detailOf is a number with its history as the API shows it.
func detailOf(d release.Detail) detailView {
	out := detailView{numberView: viewOf(d.Number), History: make([]historyView, len(d.History))}
	for i, h := range d.History {
		out.History[i] = historyView{Version: h.Version, At: h.At, Actor: h.Actor, From: string(h.From), To: string(h.To), Why: h.Why}
	}
	return out
}
