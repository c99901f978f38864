package zoomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"numberrelease/shared/number"
	"numberrelease/shared/zoom"
)

// assigneeTypes are the assignee types Zoom knows.
func assigneeTypes() []string {
	return []string{"user", "callQueue", "autoReceptionist", "commonArea",
		"emergencyNumberPool", "companyLocation", "meetingService", "sharedLineGroup"}
}

// adminList is the body of GET /zoom-sim/admin/numbers.
type adminList struct {
	Numbers []AdminNumber `json:"numbers"`
}

// adminPut is the body of POST /zoom-sim/admin/numbers.
type adminPut struct {
	AccountID   string         `json:"account_id"`
	Number      string         `json:"number"`
	Assignee    *zoom.Assignee `json:"assignee"`
	CarrierCode int            `json:"carrier_code"`
}

// handleAdminList is GET /zoom-sim/admin/numbers.
func (s *Sim) handleAdminList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", adminList{Numbers: s.Numbers()})
}

// handleAdminPut is POST /zoom-sim/admin/numbers: add (201) or replace
// (200) a number; carrier_code (optional) makes it a peering number that
// carrier added through the Provider Exchange.
func (s *Sim) handleAdminPut(w http.ResponseWriter, r *http.Request) {
	var in adminPut
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	var bad []fieldProblem
	if strings.TrimSpace(in.AccountID) == "" {
		bad = append(bad, fieldProblem{Field: "account_id", Reason: "required"})
	}
	n, err := number.Parse(in.Number)
	if err != nil {
		bad = append(bad, fieldProblem{Field: "number", Reason: fmt.Sprintf("%q: %v", in.Number, err)})
	}
	bad = append(bad, checkAssignee(in.Assignee)...)
	if in.CarrierCode < 0 {
		bad = append(bad, fieldProblem{Field: "carrier_code", Reason: "must be a positive integer (or absent: not a peering number)"})
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid fields", bad...)
		return
	}
	s.mu.Lock()
	out, existed := s.putLocked(strings.TrimSpace(in.AccountID), n, in.CarrierCode, in.Assignee)
	s.mu.Unlock()
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	writeJSON(w, status, "application/json", out)
}

// handleAdminPatch is PATCH /zoom-sim/admin/numbers/{number} with
// {"assignee":null|{...}}: changes the assignment silently (no
// notification).
func (s *Sim) handleAdminPatch(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("number")
	n, err := number.Parse(raw)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid number in path",
			fieldProblem{Field: "number", Reason: fmt.Sprintf("%q: %v", raw, err)})
		return
	}
	var in map[string]json.RawMessage
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	rawAssignee, ok := in["assignee"]
	if !ok {
		writeProblem(w, http.StatusBadRequest, "invalid fields",
			fieldProblem{Field: "assignee", Reason: "required (null to unassign)"})
		return
	}
	var a *zoom.Assignee
	if !bytes.Equal(bytes.TrimSpace(rawAssignee), []byte("null")) {
		a = &zoom.Assignee{}
		if err := json.Unmarshal(rawAssignee, a); err != nil {
			writeProblem(w, http.StatusBadRequest, "invalid fields",
				fieldProblem{Field: "assignee", Reason: "must be null or an object"})
			return
		}
		if bad := checkAssignee(a); len(bad) > 0 {
			writeProblem(w, http.StatusBadRequest, "invalid fields", bad...)
			return
		}
	}
	s.mu.Lock()
	e, found := s.numbers[n]
	var out AdminNumber
	if found {
		e.assignee = cloneAssignee(a)
		out = e.admin()
	}
	s.mu.Unlock()
	if !found {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("number %s is not in the simulator", n))
		return
	}
	writeJSON(w, http.StatusOK, "application/json", out)
}

// checkAssignee validates an optional assignee.
func checkAssignee(a *zoom.Assignee) []fieldProblem {
	if a == nil {
		return nil
	}
	var bad []fieldProblem
	if strings.TrimSpace(a.ID) == "" {
		bad = append(bad, fieldProblem{Field: "assignee.id", Reason: "required"})
	}
	if !slices.Contains(assigneeTypes(), a.Type) {
		bad = append(bad, fieldProblem{Field: "assignee.type",
			Reason: fmt.Sprintf("%q: must be one of %s", a.Type, strings.Join(assigneeTypes(), ", "))})
	}
	return bad
}
