package zoomsim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"numberrelease/shared/zoom"
)

func TestAccountScoping(t *testing.T) {
	e := newEnv(t)
	e.sim.Put("acct-a", "+97239754571", nil)
	e.sim.Put("acct-b", "+97239754569", nil)
	tokA := e.token(t, "acct-a")

	l := e.list(t, tokA, "type=all")
	if len(l.PhoneNumbers) != 1 || l.PhoneNumbers[0].Number != "+97239754571" {
		t.Fatalf("account A lists %+v; want only its own number", l.PhoneNumbers)
	}
	if l := e.list(t, tokA, "phone_number=%2B97239754569"); len(l.PhoneNumbers) != 0 {
		t.Fatalf("account A finds B's number: %+v", l.PhoneNumbers)
	}
	if r := e.do(t, http.MethodGet, "/zoom-sim/v2/phone/numbers/pn_97239754569", tokA, ""); r.status != http.StatusNotFound {
		t.Fatalf("GET B's number by id with A's token: %d", r.status)
	}
	if r := e.do(t, http.MethodDelete, "/zoom-sim/v2/phone/numbers?phone_numbers=pn_97239754569", tokA, ""); r.status != http.StatusBadRequest {
		t.Fatalf("DELETE B's number with A's token: %d", r.status)
	}
	if _, ok := find(e.sim, "+97239754569"); !ok {
		t.Fatal("B's number was removed through A's token")
	}
}

func TestFindByNumber(t *testing.T) {
	e := newEnv(t)
	e.sim.Put("acct-a", "+97239754569", &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"})
	e.sim.Put("acct-a", "97239754571", nil) // Put normalises
	tok := e.token(t, "acct-a")
	tests := []struct {
		name, query  string
		wantNumber   string
		wantAssignee bool
	}{
		{"with plus, encoded", "phone_number=%2B97239754569&type=all", "+97239754569", true},
		{"without plus", "phone_number=97239754569", "+97239754569", true},
		{"unassigned", "phone_number=%2B97239754571&type=all", "+97239754571", false},
		{"type assigned filters", "phone_number=%2B97239754571&type=assigned", "", false},
		{"type unassigned", "phone_number=%2B97239754571&type=unassigned", "+97239754571", false},
		{"unknown number", "phone_number=%2B97239754570", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := e.list(t, tok, tt.query)
			if tt.wantNumber == "" {
				if len(l.PhoneNumbers) != 0 {
					t.Fatalf("got %+v; want none", l.PhoneNumbers)
				}
				return
			}
			if len(l.PhoneNumbers) != 1 {
				t.Fatalf("got %d numbers; want 1", len(l.PhoneNumbers))
			}
			pn := l.PhoneNumbers[0]
			if pn.Number != tt.wantNumber || pn.ID != "pn_"+tt.wantNumber[1:] || pn.Status != "available" {
				t.Fatalf("number = %+v", pn)
			}
			if (pn.Assignee != nil) != tt.wantAssignee {
				t.Fatalf("assignee = %+v; want present=%v", pn.Assignee, tt.wantAssignee)
			}
			if tt.wantAssignee && *pn.Assignee != (zoom.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"}) {
				t.Fatalf("assignee = %+v", *pn.Assignee)
			}
		})
	}
	t.Run("unassigned has no assignee key", func(t *testing.T) {
		r := e.do(t, http.MethodGet, "/zoom-sim/v2/phone/numbers/pn_97239754571", tok, "")
		if r.status != http.StatusOK || strings.Contains(string(r.body), "assignee") {
			t.Fatalf("GET by id: %d %s", r.status, r.body)
		}
	})
	t.Run("get unknown id", func(t *testing.T) {
		r := e.do(t, http.MethodGet, "/zoom-sim/v2/phone/numbers/pn_1", tok, "")
		if code, _ := r.zoomErr(t); r.status != http.StatusNotFound || code != zoom.CodeNotFound {
			t.Fatalf("GET unknown: %d %s", r.status, r.body)
		}
	})
	t.Run("invalid phone_number", func(t *testing.T) {
		if r := e.do(t, http.MethodGet, "/zoom-sim/v2/phone/numbers?phone_number=abc", tok, ""); r.status != http.StatusBadRequest {
			t.Fatalf("status = %d", r.status)
		}
	})
}

func TestPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 250 {
		e.sim.Put("acct-a", fmt.Sprintf("+9723975%04d", i), nil)
	}
	e.sim.Put("acct-b", "+97239760000", nil)
	tok := e.token(t, "acct-a")

	seen := map[string]bool{}
	var sizes []int
	q := url.Values{"page_size": {"100"}, "type": {"all"}}
	last := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		l := e.list(t, tok, q.Encode())
		if l.TotalRecords != 250 || l.PageSize != 100 {
			t.Fatalf("total_records=%d page_size=%d", l.TotalRecords, l.PageSize)
		}
		sizes = append(sizes, len(l.PhoneNumbers))
		for _, pn := range l.PhoneNumbers {
			if seen[pn.Number] || pn.Number <= last {
				t.Fatalf("%s repeated or out of order", pn.Number)
			}
			seen[pn.Number], last = true, pn.Number
		}
		if l.NextPageToken == "" {
			break
		}
		q.Set("next_page_token", l.NextPageToken)
	}
	if fmt.Sprint(sizes) != "[100 100 50]" || len(seen) != 250 {
		t.Fatalf("page sizes %v, %d distinct; want [100 100 50], 250", sizes, len(seen))
	}

	tests := []struct {
		name, query string
		status      int
		count       int
	}{
		{"default page size 30", "", http.StatusOK, 30},
		{"page_size over 100", "page_size=101", http.StatusBadRequest, 0},
		{"page_size zero", "page_size=0", http.StatusBadRequest, 0},
		{"garbage token", "next_page_token=%21%21", http.StatusBadRequest, 0},
		{"bad type", "type=mine", http.StatusBadRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, "/zoom-sim/v2/phone/numbers?"+tt.query, tok, "")
			if r.status != tt.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.status)
			}
			if tt.status == http.StatusOK {
				if l := e.list(t, tok, tt.query); len(l.PhoneNumbers) != tt.count {
					t.Fatalf("count = %d; want %d", len(l.PhoneNumbers), tt.count)
				}
			} else if code, _ := r.zoomErr(t); code != zoom.CodeInvalidParameter {
				t.Fatalf("code = %d", code)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	user := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("pn_9723975%04d", i)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name      string
		query     string
		status    int
		code      int
		gone      []string
		remaining []string
	}{
		{"unassigned is removed", "phone_numbers=pn_97239754571", http.StatusNoContent, 0,
			[]string{"+97239754571"}, []string{"+97239754569", "+97239754572"}},
		{"two unassigned", "phone_numbers=pn_97239754571,pn_97239754572", http.StatusNoContent, 0,
			[]string{"+97239754571", "+97239754572"}, []string{"+97239754569"}},
		{"assigned refuses the whole call", "phone_numbers=pn_97239754571,pn_97239754569", http.StatusBadRequest, zoom.CodeNumberAssigned,
			nil, []string{"+97239754569", "+97239754571", "+97239754572"}},
		{"unknown id refuses the whole call (400, as Zoom)", "phone_numbers=pn_97239754571,pn_1", http.StatusBadRequest, zoom.CodeNotFound,
			nil, []string{"+97239754569", "+97239754571", "+97239754572"}},
		{"more than 20 ids", "phone_numbers=" + ids(21), http.StatusBadRequest, zoom.CodeInvalidParameter,
			nil, []string{"+97239754569", "+97239754571", "+97239754572"}},
		{"no ids", "", http.StatusBadRequest, zoom.CodeInvalidParameter,
			nil, []string{"+97239754569", "+97239754571", "+97239754572"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.Put("acct-a", "+97239754569", user)
			e.sim.Put("acct-a", "+97239754571", nil)
			e.sim.Put("acct-a", "+97239754572", nil)
			r := e.do(t, http.MethodDelete, "/zoom-sim/v2/phone/numbers?"+tt.query, e.token(t, "acct-a"), "")
			if r.status != tt.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.status)
			}
			if tt.code != 0 {
				code, msg := r.zoomErr(t)
				if code != tt.code {
					t.Fatalf("code = %d (%s); want %d", code, msg, tt.code)
				}
				if tt.code == zoom.CodeNumberAssigned && !strings.Contains(msg, "+97239754569 is assigned") {
					t.Fatalf("message %q does not name the assigned number", msg)
				}
				if tt.code == zoom.CodeNotFound && !strings.Contains(msg, "does not exist: pn_1") {
					t.Fatalf("message %q does not name the unknown id", msg)
				}
			}
			for _, n := range tt.gone {
				if _, ok := find(e.sim, n); ok {
					t.Errorf("%s still present", n)
				}
			}
			for _, n := range tt.remaining {
				if _, ok := find(e.sim, n); !ok {
					t.Errorf("%s was removed", n)
				}
			}
		})
	}
}
