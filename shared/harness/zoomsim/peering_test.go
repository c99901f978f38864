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

const peeringPath = "/zoom-sim/v2/number_management/peering_numbers"

func TestPeeringRemove(t *testing.T) {
	user := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	q := func(carrier string, numbers ...string) string {
		v := url.Values{"phone_numbers": numbers}
		if carrier != "" {
			v.Set("carrier_code", carrier)
		}
		return v.Encode()
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = fmt.Sprintf("+9723975%04d", i)
	}
	type failure struct {
		PhoneNumber   string `json:"phone_number"`
		FailureReason string `json:"failure_reason"`
	}
	tests := []struct {
		name        string
		query       string
		status      int
		code        int       // Zoom code of a 400
		unprocessed []failure // of a 200
		gone, kept  []string
	}{
		{"the carrier's unassigned numbers are removed", q("8801", "+97239754571", "+97239754572"), 200, 0, []failure{},
			[]string{"+97239754571", "+97239754572"}, []string{"+97239754569", "+97239754573", "+97239754574"}},
		{"comma-separated and without plus", "carrier_code=8801&phone_numbers=97239754571,97239754572", 200, 0, []failure{},
			[]string{"+97239754571", "+97239754572"}, nil},
		{"partial: the rest is listed with its reason", q("8801", "+97239754571", "+97239754569", "+97239754573", "+97239754574", "+97239754570", "12"), 200, 0,
			[]failure{
				{"+97239754569", "Phone number is assigned; unassign it before removing it"},
				{"+97239754573", "Phone number was not added by this carrier"},
				{"+97239754574", "Phone number was not added by this carrier"},
				{"+97239754570", "Phone number does not exist"},
				{"12", "Invalid number"},
			},
			[]string{"+97239754571"}, []string{"+97239754569", "+97239754573", "+97239754574"}},
		{"another account's number does not exist here", q("8801", "+97239754575"), 200, 0,
			[]failure{{"+97239754575", "Phone number does not exist"}}, nil, []string{"+97239754575"}},
		{"no carrier code", q("", "+97239754571"), 400, zoom.CodeCarrierNotFound, nil, nil, []string{"+97239754571"}},
		{"bad carrier code", q("x", "+97239754571"), 400, zoom.CodeCarrierNotFound, nil, nil, []string{"+97239754571"}},
		{"unknown carrier", q("1234", "+97239754571"), 400, zoom.CodeCarrierNotFound, nil, nil, []string{"+97239754571"}},
		{"no numbers", q("8801"), 400, zoom.CodePeeringEmpty, nil, nil, nil},
		{"more than 200", q("8801", many...), 400, zoom.CodePeeringTooMany, nil, nil, []string{"+97239754571"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.PutPeering("acct-a", "+97239754571", 8801, nil)
			e.sim.PutPeering("acct-a", "+97239754572", 8801, nil)
			e.sim.PutPeering("acct-a", "+97239754569", 8801, user)
			e.sim.PutPeering("acct-a", "+97239754573", 7700, nil) // another carrier's
			e.sim.Put("acct-a", "+97239754574", nil)              // not a peering number
			e.sim.PutPeering("acct-b", "+97239754575", 8801, nil)
			r := e.do(t, http.MethodDelete, peeringPath+"?"+tt.query, e.token(t, "acct-a"), "")
			if r.status != tt.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.status)
			}
			if tt.code != 0 {
				if code, _ := r.zoomErr(t); code != tt.code {
					t.Fatalf("code = %d (%s); want %d", code, r.body, tt.code)
				}
			} else {
				var got struct {
					Unprocessed []failure `json:"unprocessed_numbers"`
				}
				if err := json.Unmarshal(r.body, &got); err != nil || !strings.Contains(string(r.body), `"unprocessed_numbers":[`) {
					t.Fatalf("body %s: %v", r.body, err)
				}
				if !reflect.DeepEqual(got.Unprocessed, tt.unprocessed) {
					t.Fatalf("unprocessed = %+v; want %+v", got.Unprocessed, tt.unprocessed)
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
