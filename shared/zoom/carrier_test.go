package zoom_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"numberrelease/shared/zoom"
)

const carrierViewCall = "GET /zoom-sim/v2/number_management/carrier/peering_numbers"

// TestCarrierPeeringNumbers reads the carrier's view of the simulator with
// a token of the carrier's own account: the carrier 8801 pushed numbers to
// two customer accounts, the carrier 7700 one.
func TestCarrierPeeringNumbers(t *testing.T) {
	user := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	free := func(n string) zoom.PeeringNumber {
		return zoom.PeeringNumber{Number: n, Active: true, SIPTrunkName: "sim-carrier-8801-trunk"}
	}
	busy := func(n string) zoom.PeeringNumber { p := free(n); p.Assigned = true; return p }
	tests := []struct {
		name      string
		account   string
		numbers   []string
		want      map[string]zoom.PeeringNumber
		wantKind  zoom.Kind
		wantCalls int
	}{
		{"unassigned", "carrier-a", []string{"+97239754571"}, map[string]zoom.PeeringNumber{"+97239754571": free("+97239754571")}, "", 1},
		{"assigned, given without plus", "carrier-a", []string{"97239754569"}, map[string]zoom.PeeringNumber{"+97239754569": busy("+97239754569")}, "", 1},
		{"in another customer's account", "carrier-a", []string{"+97239754575"}, map[string]zoom.PeeringNumber{"+97239754575": free("+97239754575")}, "", 1},
		{"another carrier's number is not listed", "carrier-a", []string{"+97239754573"}, map[string]zoom.PeeringNumber{}, "", 1},
		{"not in Zoom is not listed", "carrier-a", []string{"+97239754570"}, map[string]zoom.PeeringNumber{}, "", 1},
		{"several: the view is walked once", "carrier-a", []string{"+97239754571", "+97239754569", "+97239754570", "+97239754571"},
			map[string]zoom.PeeringNumber{"+97239754571": free("+97239754571"), "+97239754569": busy("+97239754569")}, "", 1},
		{"none asked: no call", "carrier-a", nil, map[string]zoom.PeeringNumber{}, "", 0},
		{"invalid number: no call", "carrier-a", []string{"hello"}, nil, zoom.Rejected, 0},
		{"a customer's account is no carrier (Zoom 1001)", "acct-a", []string{"+97239754571"}, nil, zoom.Rejected, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, options{})
			h.sim.AddCarrier("carrier-a", 8801)
			h.sim.AddCarrier("carrier-b", 7700)
			h.sim.PutPeering("acct-a", "+97239754571", 8801, nil)
			h.sim.PutPeering("acct-a", "+97239754569", 8801, user)
			h.sim.PutPeering("acct-b", "+97239754575", 8801, nil)
			h.sim.PutPeering("acct-a", "+97239754573", 7700, nil)
			got, err := h.client.CarrierPeeringNumbers(context.Background(), tt.account, tt.numbers)
			h.checkNoSecrets(t, err)
			if zoom.KindOf(err) != tt.wantKind || (tt.wantKind != "") != (err != nil) {
				t.Fatalf("err = %v (kind %q); want kind %q", err, zoom.KindOf(err), tt.wantKind)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v; want %+v", got, tt.want)
			}
			if _, calls, _ := h.counts(carrierViewCall); calls != tt.wantCalls {
				t.Fatalf("%d calls; want %d", calls, tt.wantCalls)
			}
		})
	}
}

// viewServer serves OAuth and a carrier's view of pages pages (page i
// holds the numbers of pages[i]; each answers next_page_token "p<i+1>"
// unless it is the last), recording every query. next, when set, replaces
// the next_page_token of every page.
type viewServer struct {
	pages []string // JSON arrays of numbers
	next  func(page int) string
	mu    sync.Mutex
	asked []string
	srv   *httptest.Server
}

func newViewServer(t *testing.T, pages ...string) *viewServer {
	t.Helper()
	v := &viewServer{pages: pages}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			fmt.Fprint(w, `{"access_token":"t1","token_type":"bearer","expires_in":3600}`)
			return
		}
		if r.URL.Path != "/number_management/carrier/peering_numbers" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"code":404,"message":"no such route"}`)
			return
		}
		v.mu.Lock()
		v.asked = append(v.asked, r.URL.RawQuery)
		v.mu.Unlock()
		page := 0
		if tok := r.URL.Query().Get("next_page_token"); tok != "" {
			page, _ = strconv.Atoi(strings.TrimPrefix(tok, "p"))
		}
		next := ""
		if page+1 < len(v.pages) {
			next = fmt.Sprintf("p%d", page+1)
		}
		if v.next != nil {
			next = v.next(page)
		}
		numbers := "[]"
		if page < len(v.pages) {
			numbers = v.pages[page]
		}
		fmt.Fprintf(w, `{"next_page_token":%q,"numbers":%s,"total_records":99}`, next, numbers)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *viewServer) queries() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.asked...)
}

func (v *viewServer) client(t *testing.T) *zoom.Client {
	t.Helper()
	c, err := zoom.New(zoom.Config{APIBase: v.srv.URL, OAuthURL: v.srv.URL + "/oauth/token", ClientID: "i", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCarrierPeeringNumbersPaging: what Zoom's answers look like beyond
// the simulator's (numbers as 0/1, customer account fields, a server that
// ignores the filter, pages that never end).
func TestCarrierPeeringNumbersPaging(t *testing.T) {
	const (
		a = `{"phone_number":"+97239754571","assigned":false,"status":true,"sip_trunk_name":"t1"}`
		b = `{"phone_number":"+97239754572","assigned":1,"status":0,"sip_trunk_name":"t2","customer_account_name":"Acme","customer_account_number":"123456"}`
		c = `{"phone_number":"+97239754573","assigned":true,"status":true,"sip_trunk_name":"t1"}`
	)
	pa := zoom.PeeringNumber{Number: "+97239754571", Active: true, SIPTrunkName: "t1"}
	pb := zoom.PeeringNumber{Number: "+97239754572", Assigned: true, SIPTrunkName: "t2", CustomerAccountName: "Acme", CustomerAccountNumber: "123456"}
	endless := func(page int) string { return fmt.Sprintf("p%d", page+1) }
	tests := []struct {
		name     string
		pages    []string
		next     func(int) string
		numbers  []string
		want     map[string]zoom.PeeringNumber
		wantKind zoom.Kind
		// wantQueries are the queries asked, or (when one entry ends in
		// "...") how the first starts and how many were asked.
		wantQueries []string
		wantCount   int
	}{
		{"one number: filtered, 300 a page", []string{"[" + a + "]"}, nil, []string{"+97239754571"},
			map[string]zoom.PeeringNumber{"+97239754571": pa}, "",
			[]string{"page_size=300&phone_number=%2B97239754571"}, 1},
		{"a server ignoring the filter is walked to the number", []string{"[" + c + "]", "[" + b + "]", "[" + a + "]"}, nil, []string{"97239754572"},
			map[string]zoom.PeeringNumber{"+97239754572": pb}, "",
			[]string{"page_size=300&phone_number=%2B97239754572", "next_page_token=p1&page_size=300&phone_number=%2B97239754572"}, 2},
		{"several: unfiltered, stops once all are found", []string{"[" + a + "," + b + "]", "[" + c + "]"}, nil, []string{"+97239754571", "+97239754572"},
			map[string]zoom.PeeringNumber{"+97239754571": pa, "+97239754572": pb}, "",
			[]string{"page_size=300"}, 1},
		{"several: a missing one walks to the end", []string{"[" + a + "]", "[" + c + "]"}, nil, []string{"+97239754571", "+97239754579"},
			map[string]zoom.PeeringNumber{"+97239754571": pa}, "",
			[]string{"page_size=300", "next_page_token=p1&page_size=300"}, 2},
		{"a number listed twice counts as assigned", []string{"[" + a + "]", `[{"phone_number":"97239754571","assigned":1,"status":1,"sip_trunk_name":"t1"}]`},
			nil, []string{"+97239754571", "+97239754579"},
			map[string]zoom.PeeringNumber{"+97239754571": {Number: "+97239754571", Assigned: true, Active: true, SIPTrunkName: "t1"}}, "",
			nil, 2},
		{"a page token given again is Unavailable", []string{"[" + c + "]"}, func(int) string { return "same" }, []string{"+97239754571"},
			nil, zoom.Unavailable, nil, 2},
		{"a view past 1000 pages is Rejected, not 'not listed'", []string{"[" + c + "]"}, endless, []string{"+97239754571"},
			nil, zoom.Rejected, nil, 1000},
		{"an assigned that is no flag is Unavailable", []string{`[{"phone_number":"+97239754571","assigned":"yes"}]`}, nil, []string{"+97239754571"},
			nil, zoom.Unavailable, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newViewServer(t, tt.pages...)
			v.next = tt.next
			got, err := v.client(t).CarrierPeeringNumbers(context.Background(), "carrier-acct", tt.numbers)
			if zoom.KindOf(err) != tt.wantKind || (tt.wantKind != "") != (err != nil) {
				t.Fatalf("err = %v (kind %q); want kind %q", err, zoom.KindOf(err), tt.wantKind)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v; want %+v", got, tt.want)
			}
			q := v.queries()
			if len(q) != tt.wantCount || (tt.wantQueries != nil && !reflect.DeepEqual(q, tt.wantQueries)) {
				t.Fatalf("%d queries %q; want %d %q", len(q), q, tt.wantCount, tt.wantQueries)
			}
		})
	}
}

// TestCarrierPeeringNumbersRouteMissing: a 404 from the view is a wrong
// route or account, never "number gone".
func TestCarrierPeeringNumbersRouteMissing(t *testing.T) {
	v := newViewServer(t)
	c, err := zoom.New(zoom.Config{APIBase: v.srv.URL + "/elsewhere", OAuthURL: v.srv.URL + "/oauth/token", ClientID: "i", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CarrierPeeringNumbers(context.Background(), "carrier-acct", []string{"+97239754571"}); zoom.KindOf(err) != zoom.Rejected {
		t.Fatalf("err = %v (kind %q); want Rejected", err, zoom.KindOf(err))
	}
}
