package zoomsim

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"numberrelease/shared/zoom"
)

// methods dispatches on the request method and answers 405 (with Allow)
// for any other.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	sort.Strings(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeZoomError(w, http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, "Method not allowed.")
}

// ownerPaths maps an unbind path's owner collection to the assignee type it
// must match.
func ownerPaths() map[string]string {
	return map[string]string{
		"users":              "user",
		"common_areas":       "commonArea",
		"call_queues":        "callQueue",
		"auto_receptionists": "autoReceptionist",
		"shared_line_groups": "sharedLineGroup",
	}
}

// Handler serves the simulator's routes under /zoom-sim/. Unknown routes get
// a 404 and wrong methods a 405, both as Zoom-style JSON.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/zoom-sim/oauth/token", methods{http.MethodPost: s.handleToken})
	mux.Handle("/zoom-sim/oauth/authorize", methods{http.MethodGet: s.handleAuthorize})
	mux.Handle("/zoom-sim/oauth/revoke", methods{http.MethodPost: s.handleRevoke})
	mux.Handle("/zoom-sim/v2/users/me", methods{http.MethodGet: s.authed(s.limited(zoom.Light, s.handleUsersMe))})

	// Each API route counts against its Zoom rate-limit label (Zoom's API
	// reference): listing numbers and the peering removal are Light,
	// deleting numbers Medium, the unbinds Light.
	mux.Handle("/zoom-sim/v2/number_management/numbers", methods{
		http.MethodGet:    s.authed(s.limited(zoom.Light, s.handleList)),
		http.MethodDelete: s.authed(s.limited(zoom.Medium, s.handleRemove)),
	})
	mux.Handle("/zoom-sim/v2/number_management/peering_numbers", methods{
		http.MethodDelete: s.authed(s.limited(zoom.Light, s.handlePeeringRemove)),
	})
	mux.Handle("/zoom-sim/v2/number_management/carrier/peering_numbers", methods{
		http.MethodGet: s.authed(s.limited(zoom.Light, s.handleCarrierView)),
	})
	for coll, typ := range ownerPaths() {
		mux.Handle("/zoom-sim/v2/phone/"+coll+"/{ownerId}/phone_numbers/{phoneNumberId}",
			methods{http.MethodDelete: s.consoleOrAuthed(s.limited(zoom.Light, s.unbindHandler(typ)))})
	}

	mux.Handle("/zoom-sim/admin/numbers", methods{
		http.MethodGet:  s.handleAdminList,
		http.MethodPost: s.handleAdminPut,
	})
	mux.Handle("/zoom-sim/admin/numbers/{number}", methods{http.MethodPatch: s.handleAdminPatch})
	mux.Handle("/zoom-sim/admin/carriers", methods{
		http.MethodGet:  s.handleAdminCarrierList,
		http.MethodPost: s.handleAdminCarrierPut,
	})
	mux.Handle("/zoom-sim/admin/oauth/approve", methods{http.MethodPost: s.handleAdminApprove})
	mux.Handle("/zoom-sim/admin/oauth/deauthorize", methods{http.MethodPost: s.handleAdminDeauthorize})
	mux.Handle("/zoom-sim/admin/oauth/grants", methods{http.MethodGet: s.handleAdminGrants})
	mux.Handle("/zoom-sim/admin/oauth/expire", methods{http.MethodPost: s.handleAdminExpire})
	mux.Handle("/zoom-sim/admin/stats", methods{http.MethodGet: s.handleStats})
	mux.Handle("/zoom-sim/admin/faults", methods{
		http.MethodGet:    s.handleFaultGet,
		http.MethodPost:   s.handleFaultSet,
		http.MethodDelete: s.handleFaultClear,
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeZoomError(w, http.StatusNotFound, http.StatusNotFound, "Not found: no such route in the Zoom simulator.")
	})
	return s.withFaults(mux)
}

// zoomError is Zoom's error body.
type zoomError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func writeZoomError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, zoomErrorContentType, zoomError{Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("zoomsim: encode response", "error", err)
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// fieldProblem names one invalid admin request field.
type fieldProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// problem is an RFC 9457-style error body for the admin endpoints.
type problem struct {
	Type          string         `json:"type"`
	Title         string         `json:"title"`
	Status        int            `json:"status"`
	Detail        string         `json:"detail,omitempty"`
	InvalidFields []fieldProblem `json:"invalid_fields,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, detail string, fields ...fieldProblem) {
	writeJSON(w, status, problemContentType, problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, InvalidFields: fields,
	})
}
