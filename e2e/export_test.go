package e2e

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// exportCSV asks for GET /v1/numbers?<query> as CSV, checks the answer
// against the OpenAPI document, and returns its rows (header first) and
// its Content-Disposition.
func exportCSV(t *testing.T, c *client, query string) ([][]string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/v1/numbers?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := validator.ValidateResponse(req, resp.StatusCode, resp.Header, raw); err != nil {
		t.Errorf("export does not match the OpenAPI document: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, raw)
	}
	return rows, resp.Header.Get("Content-Disposition")
}

// listNumbers pages through GET /v1/numbers?<query> as JSON, two numbers
// a page, and returns the numbers in order.
func listNumbers(t *testing.T, c *client, query string) []string {
	t.Helper()
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		var page struct {
			Items []struct {
				Number string `json:"number"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		path := "/v1/numbers?limit=2&" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if st := c.do("GET", path, nil, &page); st != http.StatusOK {
			t.Fatalf("GET %s: %d", path, st)
		}
		for _, it := range page.Items {
			got = append(got, it.Number)
		}
		if page.NextCursor == nil {
			return got
		}
		cursor = *page.NextCursor
	}
}

// The customer rejects two of a provider's seven numbers with a reason:
// the Wait for Release listing of several statuses pages through the rest,
// the CSV export of the same filters holds exactly the JSON listing's
// numbers, and the provider sees the reason in its listing, the request's
// detail and the number's history.
func TestExportAndRejectionReason(t *testing.T) {
	acme, pxc := customer(t, "acme"), provider(t, "pxc")
	nums := make([]string, 7)
	for i := range nums {
		nums[i] = fmt.Sprintf("+121255507%02d", i+1)
	}
	var created struct {
		RequestID string `json:"request_id"`
	}
	if st := pxc.do("POST", "/provider/v1/release-requests", map[string]any{"customer_id": "acme", "numbers": nums}, &created); st != http.StatusCreated {
		t.Fatalf("request: %d", st)
	}
	const reason = "  still used by the support line, call us first "
	var rejected results
	if st := acme.do("POST", "/v1/numbers/reject", map[string]any{"numbers": nums[5:], "reason": reason}, &rejected); st != http.StatusOK {
		t.Fatalf("reject: %d", st)
	}
	for _, r := range rejected.Results {
		if r.Status != "REJECTED" {
			t.Fatalf("reject: %+v", r)
		}
	}
	const trimmed = "still used by the support line, call us first"

	// The Wait for Release tab, and with the rejected ones too.
	const mine = "q=121255507"
	if got := listNumbers(t, acme, "status=PENDING_APPROVAL,WAITING_FOR_UNASSIGN,FAILED&"+mine); !slices.Equal(got, nums[:5]) {
		t.Fatalf("wait for release lists %v; want %v", got, nums[:5])
	}
	for _, query := range []string{
		"status=PENDING_APPROVAL,WAITING_FOR_UNASSIGN,FAILED&" + mine,
		"status=REJECTED,PENDING_APPROVAL&" + mine,
		mine,
	} {
		want := listNumbers(t, acme, query)
		rows, disposition := exportCSV(t, acme, query)
		if got := strings.Join(rows[0], ","); got != "number,status,message,requested_by,requested_at,updated_at,request_id" {
			t.Fatalf("header row %q", got)
		}
		if !strings.HasPrefix(disposition, `attachment; filename="numbers-acme-`) {
			t.Errorf("Content-Disposition %q", disposition)
		}
		var got []string
		for _, row := range rows[1:] {
			got = append(got, row[0])
			if row[1] == "REJECTED" && row[2] != "rejected by the customer: "+trimmed {
				t.Errorf("%s: message %q in the export", row[0], row[2])
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: CSV numbers %v; JSON listing %v", query, got, want)
		}
	}

	// The provider sees the reason: its listing, the request, the history.
	var page struct {
		Items []struct {
			Number, Status, Message string
		} `json:"items"`
	}
	if st := pxc.do("GET", "/provider/v1/customers/acme/numbers?status=REJECTED&limit=100", nil, &page); st != http.StatusOK {
		t.Fatalf("provider listing: %d", st)
	}
	seen := 0
	for _, it := range page.Items {
		if slices.Contains(nums[5:], it.Number) {
			seen++
			if it.Message != "rejected by the customer: "+trimmed {
				t.Errorf("provider's listing: %s message %q", it.Number, it.Message)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("provider's REJECTED listing shows %d of the 2 rejected numbers", seen)
	}
	var detail requestDetail
	if st := pxc.do("GET", "/provider/v1/release-requests/"+created.RequestID, nil, &detail); st != http.StatusOK {
		t.Fatalf("request detail: %d", st)
	}
	for _, n := range detail.Numbers {
		want := ""
		if slices.Contains(nums[5:], n.Number) {
			want = "rejected by the customer: " + trimmed
		}
		if n.Message != want {
			t.Errorf("request detail: %s (%s) message %q; want %q", n.Number, n.Status, n.Message, want)
		}
	}
	d := acme.number(nums[5])
	last := d.History[len(d.History)-1]
	if last.To != "REJECTED" || last.Why != "release rejected by customer: "+trimmed || last.Actor != "customer:acme/admin-acme" {
		t.Fatalf("last history entry %+v", last)
	}
}
