package zoomsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"numberrelease/shared/zoom"
)

const carrierViewPath = "/zoom-sim/v2/number_management/carrier/peering_numbers"

// carrierView is a decoded page of the carrier's view.
type carrierView struct {
	NextPageToken string `json:"next_page_token"`
	TotalRecords  int    `json:"total_records"`
	Numbers       []struct {
		PhoneNumber  string `json:"phone_number"`
		Assigned     bool   `json:"assigned"`
		SIPTrunkName string `json:"sip_trunk_name"`
		Status       bool   `json:"status"`
	} `json:"numbers"`
}

// seedCarriers gives carrier 8801 the account carrier-a and carrier 7700
// carrier-b, and pushes numbers of both into two customer accounts.
func seedCarriers(e *env) {
	user := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	e.sim.AddCarrier("carrier-a", 8801)
	e.sim.AddCarrier("carrier-b", 7700)
	e.sim.PutPeering("acct-a", "+97239754571", 8801, nil)
	e.sim.PutPeering("acct-a", "+97239754569", 8801, user)
	e.sim.PutPeering("acct-b", "+97239754575", 8801, nil)
	e.sim.PutPeering("acct-a", "+97239754573", 7700, nil) // another carrier's
	e.sim.Put("acct-a", "+97239754574", nil)              // the customer's own number
}

func TestCarrierView(t *testing.T) {
	type row struct {
		number   string
		assigned bool
	}
	tests := []struct {
		name    string
		account string
		query   string
		status  int
		code    int // Zoom code of a 400
		want    []row
		total   int
		more    bool // a next_page_token is given
	}{
		{"every number the carrier pushed, in any account", "carrier-a", "", 200, 0,
			[]row{{"+97239754569", true}, {"+97239754571", false}, {"+97239754575", false}}, 3, false},
		{"another carrier sees only its own", "carrier-b", "", 200, 0, []row{{"+97239754573", false}}, 1, false},
		{"filtered by number, given without plus", "carrier-a", "phone_number=97239754569", 200, 0, []row{{"+97239754569", true}}, 1, false},
		{"a number the carrier did not push is not listed", "carrier-a", "phone_number=%2B97239754573", 200, 0, []row{}, 0, false},
		{"a number not in Zoom is not listed", "carrier-a", "phone_number=%2B97239754570", 200, 0, []row{}, 0, false},
		{"first page", "carrier-a", "page_size=2", 200, 0, []row{{"+97239754569", true}, {"+97239754571", false}}, 3, true},
		{"a customer's account is no carrier", "acct-a", "", 400, zoom.CodeCarrierNotFound, nil, 0, false},
		{"page size over 300", "carrier-a", "page_size=301", 400, zoom.CodeInvalidParameter, nil, 0, false},
		{"bad page token", "carrier-a", "next_page_token=xyz", 400, zoom.CodeInvalidParameter, nil, 0, false},
		{"bad number", "carrier-a", "phone_number=hello", 400, zoom.CodeInvalidParameter, nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			seedCarriers(e)
			r := e.do(t, http.MethodGet, carrierViewPath+"?"+tt.query, e.token(t, tt.account), "")
			if r.status != tt.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.status)
			}
			if tt.code != 0 {
				if code, _ := r.zoomErr(t); code != tt.code {
					t.Fatalf("code = %d (%s); want %d", code, r.body, tt.code)
				}
				return
			}
			var v carrierView
			if err := json.Unmarshal(r.body, &v); err != nil || !strings.Contains(string(r.body), `"numbers":[`) {
				t.Fatalf("body %s: %v", r.body, err)
			}
			got := []row{}
			for _, n := range v.Numbers {
				got = append(got, row{n.PhoneNumber, n.Assigned})
				if n.SIPTrunkName == "" || !n.Status {
					t.Errorf("%s: sip_trunk_name %q, status %v; want a trunk and active", n.PhoneNumber, n.SIPTrunkName, n.Status)
				}
			}
			if !reflect.DeepEqual(got, tt.want) || v.TotalRecords != tt.total || (v.NextPageToken != "") != tt.more {
				t.Fatalf("numbers %v, total %d, next %q; want %v, %d, more %v", got, v.TotalRecords, v.NextPageToken, tt.want, tt.total, tt.more)
			}
		})
	}
}

// TestCarrierViewPages: following next_page_token lists every number once.
func TestCarrierViewPages(t *testing.T) {
	e := newEnv(t)
	e.sim.AddCarrier("carrier-a", 8801)
	for i := range 7 {
		e.sim.PutPeering(fmt.Sprintf("acct-%d", i%3), fmt.Sprintf("+9723975%04d", i), 8801, nil)
	}
	tok := e.token(t, "carrier-a")
	var got []string
	q := url.Values{"page_size": {"3"}}
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("more pages than numbers")
		}
		r := e.do(t, http.MethodGet, carrierViewPath+"?"+q.Encode(), tok, "")
		var v carrierView
		if r.status != http.StatusOK || json.Unmarshal(r.body, &v) != nil {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		for _, n := range v.Numbers {
			got = append(got, n.PhoneNumber)
		}
		if v.NextPageToken == "" {
			break
		}
		q.Set("next_page_token", v.NextPageToken)
	}
	want := []string{}
	for i := range 7 {
		want = append(want, fmt.Sprintf("+9723975%04d", i))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("listed %v; want %v", got, want)
	}
}

// TestPeeringRemoveWithTheCarriersToken: with a token of the carrier's own
// account, the carrier removes its numbers from any customer account and
// nothing else.
func TestPeeringRemoveWithTheCarriersToken(t *testing.T) {
	tests := []struct {
		name        string
		account     string
		query       url.Values
		status      int
		code        int
		unprocessed map[string]string // number → reason
		gone, kept  []string
	}{
		{"its numbers in two customer accounts", "carrier-a",
			url.Values{"carrier_code": {"8801"}, "phone_numbers": {"+97239754571", "+97239754575"}}, 200, 0, map[string]string{},
			[]string{"+97239754571", "+97239754575"}, []string{"+97239754569", "+97239754573", "+97239754574"}},
		{"carrier_code may be left out", "carrier-a",
			url.Values{"phone_numbers": {"+97239754575"}}, 200, 0, map[string]string{}, []string{"+97239754575"}, nil},
		{"assigned, another carrier's, the customer's own and unknown numbers stay", "carrier-a",
			url.Values{"carrier_code": {"8801"}, "phone_numbers": {"+97239754569", "+97239754573", "+97239754574", "+97239754570"}}, 200, 0,
			map[string]string{
				"+97239754569": "Phone number is assigned; unassign it before removing it",
				"+97239754573": "Phone number was not added by this carrier",
				"+97239754574": "Phone number was not added by this carrier",
				"+97239754570": "Phone number does not exist",
			}, nil, []string{"+97239754569", "+97239754573", "+97239754574"}},
		{"another carrier's code with this carrier's token", "carrier-a",
			url.Values{"carrier_code": {"7700"}, "phone_numbers": {"+97239754573"}}, 400, zoom.CodeCarrierNotFound, nil,
			nil, []string{"+97239754573"}},
		{"a customer's token still reaches only its own account", "acct-a",
			url.Values{"carrier_code": {"8801"}, "phone_numbers": {"+97239754575"}}, 200, 0,
			map[string]string{"+97239754575": "Phone number does not exist"}, nil, []string{"+97239754575"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			seedCarriers(e)
			r := e.do(t, http.MethodDelete, peeringPath+"?"+tt.query.Encode(), e.token(t, tt.account), "")
			if r.status != tt.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.status)
			}
			if tt.code != 0 {
				if code, _ := r.zoomErr(t); code != tt.code {
					t.Fatalf("code = %d (%s); want %d", code, r.body, tt.code)
				}
			} else {
				var body struct {
					Unprocessed []struct {
						PhoneNumber   string `json:"phone_number"`
						FailureReason string `json:"failure_reason"`
					} `json:"unprocessed_numbers"`
				}
				if err := json.Unmarshal(r.body, &body); err != nil {
					t.Fatalf("body %s: %v", r.body, err)
				}
				got := map[string]string{}
				for _, u := range body.Unprocessed {
					got[u.PhoneNumber] = u.FailureReason
				}
				if !reflect.DeepEqual(got, tt.unprocessed) {
					t.Fatalf("unprocessed = %v; want %v", got, tt.unprocessed)
				}
			}
			for _, n := range tt.gone {
				if _, ok := find(e.sim, n); ok {
					t.Errorf("%s still present", n)
				}
			}
			for _, n := range tt.kept {
				if _, ok := find(e.sim, n); !ok {
					t.Errorf("%s was removed", n)
				}
			}
		})
	}
}

func TestAdminCarriers(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		name, method, body string
		want               int
		wantInBody         []string
	}{
		{"add", http.MethodPost, `{"account_id":"carrier-a","carrier_code":8801}`, http.StatusCreated, []string{`"carrier_code":8801`}},
		{"replace the code", http.MethodPost, `{"account_id":"carrier-a","carrier_code":8802}`, http.StatusOK, []string{`"carrier_code":8802`}},
		{"bad fields named", http.MethodPost, `{"carrier_code":0}`, http.StatusBadRequest, []string{`"account_id"`, `"carrier_code"`}},
		{"bad JSON", http.MethodPost, `{`, http.StatusBadRequest, nil},
		{"list", http.MethodGet, "", http.StatusOK, []string{`{"carriers":[{"account_id":"carrier-a","carrier_code":8802}]}`}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := e.do(t, st.method, "/zoom-sim/admin/carriers", "", st.body)
			if r.status != st.want {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, st.want)
			}
			for _, s := range st.wantInBody {
				if !strings.Contains(string(r.body), s) {
					t.Fatalf("body %s lacks %s", r.body, s)
				}
			}
		})
	}
	// The account added over the admin route reads the carrier's view.
	e.sim.PutPeering("acct-a", "+97239754571", 8802, nil)
	r := e.do(t, http.MethodGet, carrierViewPath, e.token(t, "carrier-a"), "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"phone_number":"+97239754571"`) {
		t.Fatalf("carrier view: %d %s", r.status, r.body)
	}
}
