package zoomsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"numberrelease/shared/number"
	"numberrelease/shared/zoom"
)

// apiAssignee is an assignee as Zoom's API shows it: extension_number is an
// integer when it is numeric (the zoom client accepts both forms).
type apiAssignee struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	ExtensionNumber any    `json:"extension_number,omitempty"`
	Type            string `json:"type"`
}

// apiNumber is a phone number as Zoom's API shows it.
type apiNumber struct {
	ID         string       `json:"id"`
	Number     string       `json:"number"`
	Status     string       `json:"status"`
	NumberType string       `json:"number_type"`
	Source     string       `json:"source"`
	Assignee   *apiAssignee `json:"assignee,omitempty"`
}

// listResponse is a page of GET /phone/numbers.
type listResponse struct {
	NextPageToken string      `json:"next_page_token"`
	PageSize      int         `json:"page_size"`
	TotalRecords  int         `json:"total_records"`
	PhoneNumbers  []apiNumber `json:"phone_numbers"`
}

func (e *entry) api() apiNumber {
	n := apiNumber{ID: e.id, Number: e.number, Status: numberStatus, NumberType: "toll", Source: "external"}
	if a := e.assignee; a != nil {
		n.Assignee = &apiAssignee{ID: a.ID, Name: a.Name, Type: a.Type}
		if a.ExtensionNumber != "" {
			if v, err := strconv.ParseInt(a.ExtensionNumber, 10, 64); err == nil {
				n.Assignee.ExtensionNumber = v
			} else {
				n.Assignee.ExtensionNumber = a.ExtensionNumber
			}
		}
	}
	return n
}

// handleList is GET /zoom-sim/v2/phone/numbers: the token account's numbers
// sorted by number, filtered by phone_number and type, paged with an opaque
// next_page_token (the last number of the previous page, encoded).
func (s *Sim) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	account := accountOf(r.Context())
	var only string
	if raw := q.Get("phone_number"); raw != "" {
		n, err := number.Parse(raw)
		if err != nil {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, "Invalid parameter: phone_number.")
			return
		}
		only = n
	}
	typ := q.Get("type")
	switch typ {
	case "":
		typ = "all"
	case "all", "assigned", "unassigned":
	default:
		writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, "Invalid parameter: type.")
		return
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
	var after string
	if raw := q.Get("next_page_token"); raw != "" {
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || !strings.HasPrefix(string(b), "after:") {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, "Invalid parameter: next_page_token.")
			return
		}
		after = strings.TrimPrefix(string(b), "after:")
	}

	s.mu.Lock()
	var match []apiNumber
	for _, e := range s.numbers {
		if e.accountID != account || (only != "" && e.number != only) ||
			(typ == "assigned" && e.assignee == nil) || (typ == "unassigned" && e.assignee != nil) {
			continue
		}
		match = append(match, e.api())
	}
	s.mu.Unlock()
	sort.Slice(match, func(i, j int) bool { return match[i].Number < match[j].Number })

	start := sort.Search(len(match), func(i int) bool { return match[i].Number > after })
	end := min(start+size, len(match))
	resp := listResponse{PageSize: size, TotalRecords: len(match), PhoneNumbers: match[start:end]}
	if resp.PhoneNumbers == nil {
		resp.PhoneNumbers = []apiNumber{}
	}
	if end < len(match) {
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte("after:" + match[end-1].Number))
	}
	writeJSON(w, http.StatusOK, "application/json", resp)
}

// handleGet is GET /zoom-sim/v2/phone/numbers/{phoneNumberId}.
func (s *Sim) handleGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("phoneNumberId")
	s.mu.Lock()
	e := s.lookupLocked(accountOf(r.Context()), id)
	var n apiNumber
	if e != nil {
		n = e.api()
	}
	s.mu.Unlock()
	if e == nil {
		writeZoomError(w, http.StatusNotFound, zoom.CodeNotFound, "Phone number does not exist.")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", n)
}

// handleRemove is DELETE /zoom-sim/v2/phone/numbers?phone_numbers=id1,id2:
// all or nothing. More than 20 ids → 400; any assigned → 400
// CodeNumberAssigned; any unknown → 400 CodeNotFound ("does not exist", as
// Zoom answers); else 204.
func (s *Sim) handleRemove(w http.ResponseWriter, r *http.Request) {
	var ids []string
	for _, v := range r.URL.Query()["phone_numbers"] {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	switch {
	case len(ids) == 0:
		writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, "Invalid parameter: phone_numbers is required.")
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
		return http.StatusBadRequest, zoom.CodeNotFound,
			fmt.Sprintf("Phone number does not exist: %s.", strings.Join(unknown, ", "))
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
