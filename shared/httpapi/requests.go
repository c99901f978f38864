package httpapi

import (
	"net/http"
	"time"

	"numberrelease/shared/auth"
	"numberrelease/shared/jsonhttp"
)

// requestSummaryView is a release request in the provider's listing.
type requestSummaryView struct {
	RequestID  string         `json:"request_id"`
	CustomerID string         `json:"customer_id"`
	CreatedAt  time.Time      `json:"created_at"`
	Reason     string         `json:"reason,omitempty"`
	Counts     map[string]int `json:"counts"`
}

type requestPageView struct {
	Items      []requestSummaryView `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

// requestNumberView is one number of a request.
type requestNumberView struct {
	Number  string `json:"number"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

type requestDetailView struct {
	RequestID  string              `json:"request_id"`
	CustomerID string              `json:"customer_id"`
	CreatedAt  time.Time           `json:"created_at"`
	Reason     string              `json:"reason,omitempty"`
	Numbers    []requestNumberView `json:"numbers"`
}

func (a *API) listRequests(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q, err := queryParams(r, "customer_id", "cursor", "limit")
	if err != nil {
		a.problem(w, r, err)
		return
	}
	page, err := a.svc.ListRequests(r.Context(), p, r.URL.Query().Get("customer_id"), q)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := requestPageView{Items: make([]requestSummaryView, len(page.Items))}
	for i, s := range page.Items {
		counts := make(map[string]int, len(s.Counts))
		for st, n := range s.Counts {
			counts[string(st)] = n
		}
		out.Items[i] = requestSummaryView{RequestID: s.ID, CustomerID: s.CustomerID, CreatedAt: s.CreatedAt, Reason: s.Reason, Counts: counts}
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

func (a *API) getRequest(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := a.svc.GetRequest(r.Context(), p, r.PathValue("request_id"))
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := requestDetailView{RequestID: d.ID, CustomerID: d.CustomerID, CreatedAt: d.CreatedAt, Reason: d.Reason,
		Numbers: make([]requestNumberView, len(d.Numbers))}
	for i, n := range d.Numbers {
		out.Numbers[i] = requestNumberView{Number: n.Number, Status: string(n.Status), Message: n.Message}
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

func (a *API) cancelRequest(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	out, err := a.svc.CancelRequest(r.Context(), p, r.PathValue("request_id"))
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, out)
}
