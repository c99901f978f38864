package httpapi_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/httpapi"
)

// listJSON pages through a JSON listing and returns its numbers in order.
func (e *env) listJSON(query string) []string {
	e.t.Helper()
	var got []string
	target := "/v1/numbers?limit=2&" + query
	for pages := 0; ; pages++ {
		if pages > 100 {
			e.t.Fatal("paging does not end")
		}
		r := e.call("GET", target, "acme", nil)
		e.want(r, http.StatusOK, "")
		body := r.json(e.t)
		for _, it := range body["items"].([]any) {
			got = append(got, it.(map[string]any)["number"].(string))
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			return got
		}
		target = "/v1/numbers?limit=2&" + query + "&cursor=" + url.QueryEscape(next)
	}
}

// TestCSVExport: GET /v1/numbers with Accept: text/csv answers the whole
// listing (every page, the same filters) as RFC 4180 CSV with a header row
// and an attachment file name; free text that a spreadsheet would run is
// defused, the E.164 number is not.
func TestCSVExport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	nums := make([]string, 7)
	for i := range nums {
		nums[i] = fmt.Sprintf("+1415555%04d", 2670+i)
	}
	e.request(append(nums, "+97239754571")...)
	cur, err := e.store.GetNumber(ctx, "acme", nums[0])
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	next.Status, next.Message = domain.Releasing, "=HYPERLINK(\"http://evil.example\",\"click\")"
	if _, err := e.store.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "test", Why: "test"}); err != nil {
		t.Fatal(err)
	}
	cur, err = e.store.GetNumber(ctx, "acme", nums[1])
	if err != nil {
		t.Fatal(err)
	}
	next = cur
	next.Status, next.Message = domain.Releasing, "line one, \"quoted\"\nline two"
	if _, err := e.store.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "test", Why: "test"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		query  string
		accept string
		csv    bool
	}{
		{"whole listing", "", "text/csv", true},
		{"several statuses", "status=PENDING_APPROVAL,RELEASING", "text/csv", true},
		{"one status", "status=RELEASING", "text/csv; charset=utf-8", true},
		{"q", "q=1415", "text/csv", true},
		{"q matching nothing", "q=44", "text/csv", true},
		{"CSV preferred", "", "application/json;q=0.5, text/csv", true},
		{"JSON preferred", "", "text/csv;q=0.4, application/json", false},
		{"a tie answers JSON", "", "application/json, text/csv", false},
		{"any type answers JSON", "", "*/*", false},
		{"no Accept answers JSON", "", "", false},
		{"text/* answers CSV", "", "text/*", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			var headers []string
			if tt.accept != "" {
				headers = []string{"Accept", tt.accept}
			}
			target := "/v1/numbers"
			if tt.query != "" {
				target += "?" + tt.query
			}
			r := e.call("GET", target, "acme", nil, headers...)
			e.want(r, http.StatusOK, "")
			if got := r.header.Get("Vary"); got != "Accept" {
				t.Errorf("Vary %q; want Accept", got)
			}
			if !tt.csv {
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("Content-Type %q; want JSON", ct)
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8; header=present" {
				t.Fatalf("Content-Type %q", ct)
			}
			wantName := fmt.Sprintf(`attachment; filename="numbers-acme-%s.csv"`, time.Now().UTC().Format(time.DateOnly))
			if got := r.header.Get("Content-Disposition"); got != wantName {
				t.Errorf("Content-Disposition %q; want %q", got, wantName)
			}
			if !strings.Contains(string(r.body), "\r\n") {
				t.Errorf("lines are not ended by CRLF: %q", r.body)
			}
			rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
			if err != nil {
				t.Fatalf("not CSV: %v\n%s", err, r.body)
			}
			if got := strings.Join(rows[0], ","); got != "number,status,message,requested_by,requested_at,updated_at,request_id" {
				t.Fatalf("header %q", got)
			}
			var got []string
			for _, row := range rows[1:] {
				got = append(got, row[0])
				if row[3] != "pxc" {
					t.Errorf("requested_by %q; want pxc", row[3])
				}
				for _, at := range row[4:6] {
					if _, err := time.Parse(time.RFC3339Nano, at); err != nil || !strings.HasSuffix(at, "Z") {
						t.Errorf("time %q is not RFC 3339 in UTC", at)
					}
				}
				switch row[0] {
				case nums[0]:
					if !strings.HasPrefix(row[2], "'=HYPERLINK(") {
						t.Errorf("formula message not defused: %q", row[2])
					}
				case nums[1]:
					if row[2] != "line one, \"quoted\"\nline two" {
						t.Errorf("message %q did not survive quoting", row[2])
					}
				}
			}
			if want := e.listJSON(tt.query); !slices.Equal(got, want) {
				t.Fatalf("CSV numbers %v; JSON listing %v", got, want)
			}
		})
	}
}

// TestCSVExportRefusals: an export takes no cursor or limit, and refuses
// what the JSON listing refuses.
func TestCSVExportRefusals(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571")
	tests := []struct {
		name, target, mentions string
	}{
		{"cursor", "/v1/numbers?cursor=abc", "leave out cursor and limit"},
		{"limit", "/v1/numbers?limit=10", "leave out cursor and limit"},
		{"unknown status", "/v1/numbers?status=FAILED,GONE", "GONE"},
		{"bad q", "/v1/numbers?q=x", "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.call("GET", tt.target, "acme", nil, "Accept", "text/csv")
			e.want(r, http.StatusBadRequest, "invalid_request")
			if !strings.Contains(string(r.body), tt.mentions) {
				t.Errorf("problem does not mention %q: %s", tt.mentions, r.body)
			}
		})
	}
}

// TestCSVExportIsBounded: an export of more than MaxExportNumbers numbers
// is refused, saying how to narrow it; narrowed, it is answered whole.
func TestCSVExportIsBounded(t *testing.T) {
	e := newEnv(t)
	total := httpapi.MaxExportNumbers + 1
	for from := 0; from < total; from += 500 {
		batch := make([]string, 0, 500)
		for i := from; i < min(from+500, total); i++ {
			batch = append(batch, fmt.Sprintf("+1415%07d", 2000000+i))
		}
		e.request(batch...)
	}
	r := e.call("GET", "/v1/numbers", "acme", nil, "Accept", "text/csv")
	e.want(r, http.StatusBadRequest, "invalid_request")
	if !strings.Contains(string(r.body), fmt.Sprintf("more than %d numbers; narrow it with status or q", httpapi.MaxExportNumbers)) {
		t.Fatalf("refusal %s", r.body)
	}
	r = e.call("GET", "/v1/numbers?q=14152000", "acme", nil, "Accept", "text/csv")
	e.want(r, http.StatusOK, "")
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(rows) != 1000+1 {
		t.Fatalf("narrowed export: %d rows, %v; want a header and 1000", len(rows), err)
	}
}
