package zoomsim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/zoom"
)

func TestAccountScoping(t *testing.T) {
	e := newEnv(t)
	e.sim.Put("acct-a", "+97239754571", nil)
	e.sim.Put("acct-b", "+97239754569", nil)
	tokA := e.token(t, "acct-a")

	l := e.list(t, tokA, "")
	if len(l.Numbers) != 1 || l.Numbers[0].Number != "+97239754571" {
		t.Fatalf("account A lists %+v; want only its own number", l.Numbers)
	}
	if l := e.list(t, tokA, "keyword=97239754569"); len(l.Numbers) != 0 {
		t.Fatalf("account A finds B's number: %+v", l.Numbers)
	}
	if r := e.do(t, http.MethodDelete, numbersPath+"?numbers=pn_97239754569", tokA, ""); r.status != http.StatusBadRequest {
		t.Fatalf("DELETE B's number with A's token: %d", r.status)
	}
	if _, ok := find(e.sim, "+97239754569"); !ok {
		t.Fatal("B's number was removed through A's token")
	}
}

func TestListByKeyword(t *testing.T) {
	e := newEnv(t)
	e.sim.Put("acct-a", "+97239754569", &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"})
	e.sim.Put("acct-a", "97239754571", nil) // Put normalises
	// German numbers vary in length: one can start with another.
	e.sim.Put("acct-a", "+493012345678", nil)
	e.sim.Put("acct-a", "+4930123456789", &zoom.Assignee{ID: "cq1", Name: "Support", Type: "callQueue"})
	e.sim.PutPeering("acct-a", "+97239754580", 8801, nil)
	tok := e.token(t, "acct-a")
	tests := []struct {
		name, query string
		want        []string // numbers listed, in order
	}{
		{"the number's digits", "keyword=97239754569", []string{"+97239754569"}},
		{"with plus, encoded", "keyword=%2B97239754569", []string{"+97239754569"}},
		{"prefix matching lists longer numbers too", "keyword=493012345678", []string{"+493012345678", "+4930123456789"}},
		{"a shorter prefix", "keyword=9723975457", []string{"+97239754571"}},
		{"no keyword lists all", "", []string{"+493012345678", "+4930123456789", "+97239754569", "+97239754571", "+97239754580"}},
		{"unknown number", "keyword=97239754570", nil},
		{"digits inside the number do not match", "keyword=39754569", nil},
		{"not digits", "keyword=abc", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, n := range e.list(t, tok, tt.query).Numbers {
				got = append(got, n.Number)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("listed %v; want %v", got, tt.want)
			}
		})
	}
	t.Run("shape of a number", func(t *testing.T) {
		byNumber := map[string]listed{}
		for _, n := range e.list(t, tok, "").Numbers {
			byNumber[n.Number] = n
		}
		for num, want := range map[string]struct {
			assigned, typ, ext string
			carrier            int
		}{
			"+97239754569":   {"u1", "User", "1001", 0},
			"+4930123456789": {"cq1", "CallQueue", "", 0},
			"+493012345678":  {"", "", "", 0},
			"+97239754571":   {"", "", "", 0},
			"+97239754580":   {"", "", "", 8801},
		} {
			n := byNumber[num]
			if n.ID != "pn_"+num[1:] || n.Status != "Normal" || n.AllocatedProduct != "ZOOM_PHONE" {
				t.Errorf("%s: %+v", num, n)
			}
			if (n.Carrier != nil) != (want.carrier != 0) || (n.Carrier != nil && n.Carrier.Code != want.carrier) {
				t.Errorf("%s: carrier %+v; want code %d", num, n.Carrier, want.carrier)
			}
			if want.assigned == "" {
				if len(n.AssignedList) != 0 {
					t.Errorf("%s: assigned_list %+v; want none", num, n.AssignedList)
				}
				continue
			}
			if len(n.AssignedList) != 1 || n.AssignedList[0].ID != want.assigned || n.AssignedList[0].Type != want.typ ||
				n.AssignedList[0].ExtensionNumber != want.ext {
				t.Errorf("%s: assigned_list %+v; want %s %s %q", num, n.AssignedList, want.assigned, want.typ, want.ext)
			}
		}
		r := e.do(t, http.MethodGet, numbersPath+"?keyword=97239754571&page_size=1", tok, "")
		if strings.Contains(string(r.body), "assigned_list") {
			t.Errorf("an unassigned number has an assigned_list: %s", r.body)
		}
	})
}

func TestPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 450 {
		e.sim.Put("acct-a", fmt.Sprintf("+9723975%04d", i), nil)
	}
	e.sim.Put("acct-b", "+97239760000", nil)
	tok := e.token(t, "acct-a")

	seen := map[string]bool{}
	var sizes []int
	q := url.Values{"page_size": {"200"}}
	last := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		l := e.list(t, tok, q.Encode())
		if l.PageSize != 200 {
			t.Fatalf("page_size=%d", l.PageSize)
		}
		sizes = append(sizes, len(l.Numbers))
		for _, pn := range l.Numbers {
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
	if fmt.Sprint(sizes) != "[200 200 50]" || len(seen) != 450 {
		t.Fatalf("page sizes %v, %d distinct; want [200 200 50], 450", sizes, len(seen))
	}

	first := e.list(t, tok, "page_size=10")
	tests := []struct {
		name, query string
		advance     time.Duration
		status      int
		code        int
		count       int
	}{
		{"default page size 30", "", 0, http.StatusOK, 0, 30},
		{"a token within 15 minutes", "page_size=10&next_page_token=" + first.NextPageToken, 15 * time.Minute, http.StatusOK, 0, 10},
		{"an expired token", "page_size=10&next_page_token=" + first.NextPageToken, time.Second, http.StatusBadRequest, zoom.CodeInvalidPageToken, 0},
		{"garbage token", "next_page_token=%21%21", 0, http.StatusBadRequest, zoom.CodeInvalidPageToken, 0},
		{"page_size over 200", "page_size=201", 0, http.StatusBadRequest, zoom.CodeInvalidParameter, 0},
		{"page_size zero", "page_size=0", 0, http.StatusBadRequest, zoom.CodeInvalidParameter, 0},
		{"a filter the simulator lacks", "assigned_to_type=User", 0, http.StatusBadRequest, zoom.CodeInvalidParameter, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			r := e.do(t, http.MethodGet, numbersPath+"?"+tt.query, tok, "")
			if r.status != tt.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.status)
			}
			if tt.status == http.StatusOK {
				if l := e.list(t, tok, tt.query); len(l.Numbers) != tt.count {
					t.Fatalf("count = %d; want %d", len(l.Numbers), tt.count)
				}
			} else if code, _ := r.zoomErr(t); code != tt.code {
				t.Fatalf("code = %d; want %d", code, tt.code)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	user := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("numbers=pn_9723975%04d", i)
		}
		return strings.Join(s, "&")
	}
	all := []string{"+97239754569", "+97239754571", "+97239754572"}
	tests := []struct {
		name      string
		query     string
		status    int
		code      int
		gone      []string
		remaining []string
	}{
		{"unassigned is removed", "numbers=pn_97239754571", http.StatusNoContent, 0,
			[]string{"+97239754571"}, []string{"+97239754569", "+97239754572"}},
		{"two unassigned", "numbers=pn_97239754571&numbers=pn_97239754572", http.StatusNoContent, 0,
			[]string{"+97239754571", "+97239754572"}, []string{"+97239754569"}},
		{"assigned refuses the whole call", "numbers=pn_97239754571&numbers=pn_97239754569", http.StatusBadRequest, zoom.CodeNumberAssigned,
			nil, all},
		{"unknown id refuses the whole call (400 100002, as Zoom documents)", "numbers=pn_97239754571&numbers=pn_1", http.StatusBadRequest, zoom.CodePhoneNumberNotFound,
			nil, all},
		{"one value is one id", "numbers=pn_97239754571,pn_97239754572", http.StatusBadRequest, zoom.CodePhoneNumberNotFound,
			nil, all},
		{"more than 10 ids", ids(11), http.StatusBadRequest, zoom.CodeInvalidParameter, nil, all},
		{"no ids", "", http.StatusBadRequest, zoom.CodeInvalidParameter, nil, all},
		{"the Phone API's parameter is not this one's", "phone_numbers=pn_97239754571", http.StatusBadRequest, zoom.CodeInvalidParameter, nil, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.Put("acct-a", "+97239754569", user)
			e.sim.Put("acct-a", "+97239754571", nil)
			e.sim.Put("acct-a", "+97239754572", nil)
			r := e.do(t, http.MethodDelete, numbersPath+"?"+tt.query, e.token(t, "acct-a"), "")
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
				if tt.code == zoom.CodePhoneNumberNotFound && !strings.Contains(msg, "Phone number not found") {
					t.Fatalf("message %q is not Zoom's", msg)
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

// TestPhoneAPINumberRoutesAreGone: the deprecated Phone API number routes
// are not served; a client still calling them gets Zoom's 404.
func TestPhoneAPINumberRoutesAreGone(t *testing.T) {
	e := newEnv(t)
	e.sim.Put("acct-a", "+97239754571", nil)
	tok := e.token(t, "acct-a")
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/zoom-sim/v2/phone/numbers?phone_number=%2B97239754571"},
		{http.MethodGet, "/zoom-sim/v2/phone/numbers/pn_97239754571"},
		{http.MethodDelete, "/zoom-sim/v2/phone/numbers?phone_numbers=pn_97239754571"},
	} {
		if r := e.do(t, c.method, c.path, tok, ""); r.status != http.StatusNotFound {
			t.Errorf("%s %s: %d; want 404", c.method, c.path, r.status)
		}
	}
	if _, ok := find(e.sim, "+97239754571"); !ok {
		t.Fatal("the number was removed")
	}
}
