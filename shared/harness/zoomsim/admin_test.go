package zoomsim_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestAdminNumbers(t *testing.T) {
	e := newEnv(t)
	steps := []struct {
		name, method, path, body string
		want                     int
		wantInBody               []string
	}{
		{"add unassigned", http.MethodPost, "/zoom-sim/admin/numbers",
			`{"account_id":"acct-a","number":"97239754571"}`, http.StatusCreated, []string{`"number":"+97239754571"`}},
		{"add assigned", http.MethodPost, "/zoom-sim/admin/numbers",
			`{"account_id":"acct-a","number":"+97239754569","assignee":{"id":"u1","name":"Dana","type":"user"}}`, http.StatusCreated, []string{`"type":"user"`}},
		{"add in other account", http.MethodPost, "/zoom-sim/admin/numbers",
			`{"account_id":"acct-0","number":"+97239754572"}`, http.StatusCreated, nil},
		{"add a carrier's peering number", http.MethodPost, "/zoom-sim/admin/numbers",
			`{"account_id":"acct-p","number":"+97239754573","carrier_code":8801}`, http.StatusCreated, []string{`"carrier_code":8801`}},
		{"negative carrier code", http.MethodPost, "/zoom-sim/admin/numbers",
			`{"account_id":"acct-p","number":"+97239754574","carrier_code":-1}`, http.StatusBadRequest, []string{`"carrier_code"`}},
		{"replace", http.MethodPost, "/zoom-sim/admin/numbers",
			`{"account_id":"acct-a","number":"+97239754571","assignee":{"id":"cq1","name":"Support","type":"callQueue"}}`, http.StatusOK, []string{`"callQueue"`}},
		{"bad fields named", http.MethodPost, "/zoom-sim/admin/numbers",
			`{"number":"12","assignee":{"name":"x","type":"robot"}}`, http.StatusBadRequest,
			[]string{`"account_id"`, `"number"`, `"assignee.id"`, `"assignee.type"`}},
		{"bad JSON", http.MethodPost, "/zoom-sim/admin/numbers", `{`, http.StatusBadRequest, nil},
		{"patch unassigns silently", http.MethodPatch, "/zoom-sim/admin/numbers/%2B97239754569",
			`{"assignee":null}`, http.StatusOK, nil},
		{"patch assigns silently", http.MethodPatch, "/zoom-sim/admin/numbers/97239754571",
			`{"assignee":{"id":"ar1","name":"IVR","type":"autoReceptionist"}}`, http.StatusOK, []string{`"autoReceptionist"`}},
		{"patch unknown number", http.MethodPatch, "/zoom-sim/admin/numbers/%2B97239754570",
			`{"assignee":null}`, http.StatusNotFound, nil},
		{"patch without assignee", http.MethodPatch, "/zoom-sim/admin/numbers/%2B97239754571",
			`{}`, http.StatusBadRequest, []string{`"assignee"`}},
		{"patch bad type", http.MethodPatch, "/zoom-sim/admin/numbers/%2B97239754571",
			`{"assignee":{"id":"x","type":"robot"}}`, http.StatusBadRequest, []string{`"assignee.type"`}},
		{"wrong method", http.MethodPut, "/zoom-sim/admin/numbers", `{}`, http.StatusMethodNotAllowed, nil},
		{"unknown route", http.MethodGet, "/zoom-sim/admin/nope", "", http.StatusNotFound, []string{`"code":404`}},
		{"unknown API route", http.MethodGet, "/zoom-sim/v2/phone/things", "", http.StatusNotFound, []string{`"code":404`}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := e.do(t, st.method, st.path, "", st.body)
			if r.status != st.want {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, st.want)
			}
			if ct := r.header.Get("Content-Type"); !strings.Contains(ct, "json") {
				t.Fatalf("Content-Type = %q", ct)
			}
			for _, s := range st.wantInBody {
				if !strings.Contains(string(r.body), s) {
					t.Errorf("body %s lacks %s", r.body, s)
				}
			}
		})
	}

	t.Run("list is sorted and shaped", func(t *testing.T) {
		r := e.do(t, http.MethodGet, "/zoom-sim/admin/numbers", "", "")
		var got struct {
			Numbers []map[string]any `json:"numbers"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK {
			t.Fatalf("%d %s: %v", r.status, r.body, err)
		}
		want := []map[string]any{
			{"account_id": "acct-0", "id": "pn_97239754572", "number": "+97239754572"},
			{"account_id": "acct-a", "id": "pn_97239754569", "number": "+97239754569"},
			{"account_id": "acct-a", "id": "pn_97239754571", "number": "+97239754571",
				"assignee": map[string]any{"id": "ar1", "name": "IVR", "type": "autoReceptionist"}},
			{"account_id": "acct-p", "id": "pn_97239754573", "number": "+97239754573", "carrier_code": float64(8801)},
		}
		if !reflect.DeepEqual(got.Numbers, want) {
			t.Fatalf("numbers = %s", r.body)
		}
	})
	t.Run("patches sent no notification", func(t *testing.T) {
		if n := len(e.hook.deliveries()); n != 0 {
			t.Fatalf("%d notifications; want 0", n)
		}
	})
	t.Run("API sees the silent change", func(t *testing.T) {
		l := e.list(t, e.token(t, "acct-a"), "keyword=97239754571")
		if len(l.Numbers) != 1 || len(l.Numbers[0].AssignedList) != 1 ||
			l.Numbers[0].AssignedList[0].ID != "ar1" || l.Numbers[0].AssignedList[0].Type != "AutoReceptionist" {
			t.Fatalf("API view = %+v", l.Numbers)
		}
	})
}
