package zoomsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"numberrelease/shared/zoom"
)

// apiAssigned is one entry of a number's assigned_list in Zoom's Number
// Management API. assigned_to_type is the admin API's assignee type with
// its first letter in upper case (user → User, callQueue → CallQueue).
type apiAssigned struct {
	ID              string `json:"assigned_to_id"`
	Name            string `json:"assigned_to_name"`
	Type            string `json:"assigned_to_type"`
	ExtensionNumber string `json:"extension_number,omitempty"`
}

// apiCarrier is the Provider Exchange carrier of a peering number.
type apiCarrier struct {
	Code int `json:"code"`
}

// apiNumber is a phone number as GET /number_management/numbers lists it
// (the fields the simulator knows).
type apiNumber struct {
	ID               string        `json:"id"`
	Number           string        `json:"number"`
	AllocatedProduct string        `json:"allocated_product"`
	NumberType       string        `json:"number_type"`
	Status           string        `json:"status"`
	Carrier          *apiCarrier   `json:"carrier,omitempty"`
	AssignedList     []apiAssigned `json:"assigned_list,omitempty"`
}

// listResponse is a page of GET /number_management/numbers.
type listResponse struct {
	NextPageToken string      `json:"next_page_token"`
	PageSize      int         `json:"page_size"`
	Numbers       []apiNumber `json:"numbers"`
}

func (e *entry) api() apiNumber {
	n := apiNumber{ID: e.id, Number: e.number, AllocatedProduct: "ZOOM_PHONE", NumberType: "Toll", Status: numberStatus}
	if e.carrier > 0 {
		n.Carrier = &apiCarrier{Code: e.carrier}
	}
	if a := e.assignee; a != nil {
		typ := a.Type
		if typ != "" {
			typ = strings.ToUpper(typ[:1]) + typ[1:]
		}
		n.AssignedList = []apiAssigned{{ID: a.ID, Name: a.Name, Type: typ, ExtensionNumber: a.ExtensionNumber}}
	}
	return n
}

// unsupportedFilters are filters of GET /number_management/numbers that
// Zoom has and the simulator does not: it refuses them rather than answer
// unfiltered.
var unsupportedFilters = []string{"allocated_product", "number_type", "number_status", "number_source", "site_id", "assigned_to_type", "division_id"}

// handleList is GET /zoom-sim/v2/number_management/numbers: the token
// account's numbers sorted by number, those whose digits start with
// keyword's (Zoom: "only prefix matching"), paged with an opaque
// next_page_token that expires after pageTokenTTL.
func (s *Sim) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, f := range unsupportedFilters {
		if q.Has(f) {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter,
				fmt.Sprintf("Invalid parameter: the Zoom simulator does not filter by %s.", f))
			return
		}
	}
	prefix, digits := strings.TrimPrefix(q.Get("keyword"), "+"), true
	for _, c := range prefix {
		digits = digits && c >= '0' && c <= '9' // anything else matches no number
	}
	size := defaultPageSize
	if raw := q.Get("page_size"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || v > maxPageSize {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, fmt.Sprintf("Invalid parameter: page_size must be 1 to %d.", maxPageSize))
			return
		}
		size = v
	}
	now := s.now()
	var after string
	if raw := q.Get("next_page_token"); raw != "" {
		var ok bool
		if after, ok = readPageToken(raw, now); !ok {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidPageToken, "The next page token is either invalid or has expired.")
			return
		}
	}

	account := accountOf(r.Context())
	s.mu.Lock()
	matched := []apiNumber{}
	for _, e := range s.numbers {
		if e.accountID == account && digits && strings.HasPrefix(strings.TrimPrefix(e.number, "+"), prefix) {
			matched = append(matched, e.api())
		}
	}
	s.mu.Unlock()
	sort.Slice(matched, func(i, j int) bool { return matched[i].Number < matched[j].Number })

	start := sort.Search(len(matched), func(i int) bool { return matched[i].Number > after })
	end := min(start+size, len(matched))
	resp := listResponse{PageSize: size, Numbers: matched[start:end]}
	if end < len(matched) {
		resp.NextPageToken = pageToken(matched[end-1].Number, now)
	}
	writeJSON(w, http.StatusOK, "application/json", resp)
}

// pageToken encodes where the next page starts and when the token was
// issued.
func pageToken(last string, now time.Time) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(now.Unix(), 10) + "|" + last))
}

// readPageToken decodes a pageToken that has not expired.
func readPageToken(raw string, now time.Time) (last string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return "", false
	}
	issued, last, found := strings.Cut(string(b), "|")
	sec, err := strconv.ParseInt(issued, 10, 64)
	if !found || err != nil || now.Sub(time.Unix(sec, 0)) > pageTokenTTL {
		return "", false
	}
	return last, true
}

// handleRemove is DELETE
// /zoom-sim/v2/number_management/numbers?numbers=id1&numbers=id2: all or
// nothing. No id or more than 10 → 400; any assigned → 400
// CodeNumberAssigned; any unknown → 400 CodePhoneNumberNotFound ("Phone
// number not found", as Zoom documents); else 204.
func (s *Sim) handleRemove(w http.ResponseWriter, r *http.Request) {
	var ids []string
	for _, v := range r.URL.Query()["numbers"] {
		if id := strings.TrimSpace(v); id != "" {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, "Invalid parameter: numbers is required.")
		return
	case len(ids) > maxRemoveIDs:
		writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter,
			fmt.Sprintf("Invalid parameter: at most %d phone numbers can be deleted at a time.", maxRemoveIDs))
		return
	}
	status, code, msg := s.remove(accountOf(r.Context()), ids)
	if status != http.StatusNoContent {
		writeZoomError(w, status, code, msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// remove deletes ids of account all or nothing and returns the answer's
// status, Zoom code and message.
func (s *Sim) remove(account string, ids []string) (status, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*entry
	var unknown, assigned []string
	for _, id := range ids {
		n, ok := s.byID[id]
		e := s.numbers[n]
		if !ok || e == nil || e.accountID != account {
			unknown = append(unknown, id)
			continue
		}
		if e.assignee != nil {
			assigned = append(assigned, e.number)
		}
		found = append(found, e)
	}
	switch {
	case len(assigned) == 1:
		return http.StatusBadRequest, zoom.CodeNumberAssigned,
			fmt.Sprintf("Phone number %s is assigned and cannot be deleted. Unassign it first.", assigned[0])
	case len(assigned) > 1:
		return http.StatusBadRequest, zoom.CodeNumberAssigned,
			fmt.Sprintf("Phone numbers %s are assigned and cannot be deleted. Unassign them first.", strings.Join(assigned, ", "))
	case len(unknown) > 0:
		return http.StatusBadRequest, zoom.CodePhoneNumberNotFound,
			fmt.Sprintf("Phone number not found: %s.", strings.Join(unknown, ", "))
	}
	for _, e := range found {
		delete(s.numbers, e.number)
		delete(s.byID, e.id)
	}
	return http.StatusNoContent, 0, ""
}

// decodeJSON reads a bounded JSON body into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}
