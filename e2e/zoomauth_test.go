package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The customer's own authorization of the Zoom app (customer mode): Connect
// Zoom through the simulator's OAuth flow, rotation of the refresh token
// under concurrent releases, and the end of an authorization.

const notConnected = "Zoom is not connected — connect it in Settings"

type zoomConnection struct {
	Status      string `json:"status"`
	Required    bool   `json:"required"`
	AccountID   string `json:"account_id"`
	ConnectedBy string `json:"connected_by"`
	Reason      string `json:"reason"`
}

type simGrant struct {
	AccountID         string `json:"account_id"`
	Authorized        bool   `json:"authorized"`
	LiveRefreshTokens int    `json:"live_refresh_tokens"`
	Authorizations    int    `json:"authorizations"`
	Rotations         int    `json:"rotations"`
}

func connection(t *testing.T, c *client) zoomConnection {
	t.Helper()
	var v zoomConnection
	if st := c.do("GET", "/v1/zoom/connection", nil, &v); st != http.StatusOK {
		t.Fatalf("GET /v1/zoom/connection: %d", st)
	}
	return v
}

// simGrantOf is the simulator's record of account's authorization.
func simGrantOf(t *testing.T, account string) simGrant {
	t.Helper()
	var out struct {
		Grants []simGrant `json:"grants"`
	}
	if st := call(t, "GET", "/zoom-sim/admin/oauth/grants", "", nil, &out); st != http.StatusOK {
		t.Fatalf("zoom-sim grants: %d", st)
	}
	for _, g := range out.Grants {
		if g.AccountID == account {
			return g
		}
	}
	return simGrant{AccountID: account}
}

// ensureConnected connects customerID to account (the local shortcut
// through the real callback) unless it is connected already.
func ensureConnected(t *testing.T, customerID, account string) {
	t.Helper()
	if connection(t, customer(t, customerID)).Status == "connected" {
		return
	}
	if st := call(t, "POST", "/zoom-sim/admin/authorize", "", map[string]string{"customer_id": customerID, "account_id": account}, nil); st != http.StatusOK {
		t.Fatalf("connect %s to %s: %d", customerID, account, st)
	}
}

// consent follows an authorize URL through the simulator's consent page as
// account's admin and returns the code and state Zoom sends back.
func consent(t *testing.T, authorizeURL, account string) (code, state string) {
	t.Helper()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("redirect_uri") != base+"/" || q.Get("state") == "" || q.Get("response_type") != "code" {
		t.Fatalf("authorize URL %s: want response_type=code, a state and the customer app as redirect_uri", authorizeURL)
	}
	q.Set("account_id", account)
	u.RawQuery = q.Encode()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("consent: %d", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), base+"/?") {
		t.Fatalf("consent sent the browser to %q; want the customer app", resp.Header.Get("Location"))
	}
	return back.Query().Get("code"), back.Query().Get("state")
}

func startConnect(t *testing.T, c *client) string {
	t.Helper()
	var start map[string]any // the answer, or a problem with its request id (instance)
	st := c.do("POST", "/v1/zoom/connection/authorize", nil, &start)
	u, _ := start["authorize_url"].(string)
	if st != http.StatusOK || u == "" {
		t.Fatalf("authorize: %d %v", st, start)
	}
	return u
}

// TestConnectZoomThenRelease: an admin connects Zoom the way the customer
// app does it (Connect Zoom, Zoom's consent, the callback), and a release
// then goes through with the customer's own authorization. A state only
// works once, for the admin who started it.
func TestConnectZoomThenRelease(t *testing.T) {
	initech := customer(t, "initech")
	// Start from not connected.
	var v zoomConnection
	if st := initech.do("DELETE", "/v1/zoom/connection", nil, &v); st != http.StatusOK || v.Status != "not_connected" {
		t.Fatalf("disconnect: %d %+v", st, v)
	}
	if !strings.Contains(v.Reason, "disconnected by") {
		t.Fatalf("reason after disconnect = %q", v.Reason)
	}
	if g := simGrantOf(t, "zoom-initech"); g.LiveRefreshTokens != 0 {
		t.Fatalf("the disconnect left %d live refresh tokens at Zoom; want it revoked", g.LiveRefreshTokens)
	}
	before := simGrantOf(t, "zoom-initech").Authorizations

	// Another admin of another customer cannot finish this admin's link.
	code, state := consent(t, startConnect(t, initech), "zoom-initech")
	var problem struct{ Detail string }
	if st := customer(t, "globex").do("POST", "/v1/zoom/connection", map[string]string{"code": code, "state": state}, &problem); st != http.StatusForbidden {
		t.Fatalf("another tenant's callback: %d %+v; want 403", st, problem)
	}
	// The state was spent by that attempt: start again.
	if st := initech.do("POST", "/v1/zoom/connection", map[string]string{"code": code, "state": state}, &problem); st != http.StatusBadRequest || !strings.Contains(problem.Detail, "state") {
		t.Fatalf("reused state: %d %+v; want 400 naming the state", st, problem)
	}
	if st := initech.do("POST", "/v1/zoom/connection", map[string]string{"code": "x"}, &problem); st != http.StatusBadRequest || !strings.Contains(problem.Detail, "state") {
		t.Fatalf("missing state: %d %+v; want 400 naming the state", st, problem)
	}

	code, state = consent(t, startConnect(t, initech), "zoom-initech")
	if st := initech.do("POST", "/v1/zoom/connection", map[string]string{"code": code, "state": state}, &v); st != http.StatusOK {
		t.Fatalf("callback: %d", st)
	}
	if v.Status != "connected" || !v.Required || v.AccountID != "zoom-initech" || !strings.Contains(v.ConnectedBy, "initech") {
		t.Fatalf("after connecting: %+v", v)
	}
	if got := simGrantOf(t, "zoom-initech"); got.Authorizations != before+1 || !got.Authorized {
		t.Fatalf("Zoom's record of the authorization: %+v (before: %d authorizations)", got, before)
	}

	const n = "+14155550301"
	putZoomNumber(t, "zoom-initech", n, "")
	requestRelease(t, provider(t, "other"), "initech", n)
	approve(t, initech, n)
	initech.waitStatus(n, "RELEASED", settle())
	if _, ok := zoomNumbers(t)[n]; ok {
		t.Fatalf("%s is still in initech's Zoom account", n)
	}
}

// TestRotationUnderConcurrentReleasesKeepsTheAuthorization: Zoom ends the
// access tokens as 20 releases of one customer start, and again while they
// run; each refresh rotates the refresh token (a used one stops working at
// once), and the releases all complete with the authorization intact.
func TestRotationUnderConcurrentReleasesKeepsTheAuthorization(t *testing.T) {
	ensureConnected(t, "globex", "zoom-globex")
	globex := customer(t, "globex")
	var numbers []string
	for i := range 20 {
		n := fmt.Sprintf("+1415555%04d", 400+i)
		putZoomNumber(t, "zoom-globex", n, "")
		numbers = append(numbers, n)
	}
	requestRelease(t, provider(t, "pxc"), "globex", numbers...)
	before := simGrantOf(t, "zoom-globex").Rotations

	expire := func() {
		t.Helper()
		if st := call(t, "POST", "/zoom-sim/admin/oauth/expire", "", map[string]string{"account_id": "zoom-globex"}, nil); st != http.StatusOK {
			t.Fatalf("expire access tokens: %d", st)
		}
	}
	// Every release starts with an access token Zoom refuses: the 20
	// concurrent checks all need a refresh at once.
	expire()
	approve(t, globex, numbers...)
	// Once the first is released, Zoom ends the new token too: the removals
	// still to come need another refresh.
	deadline := time.Now().Add(settle())
	for released := false; !released; {
		for _, n := range numbers {
			if globex.number(n).Status == "RELEASED" {
				released = true
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no release after %s", settle())
		}
		time.Sleep(100 * time.Millisecond)
	}
	expire()
	for _, n := range numbers {
		globex.waitStatus(n, "RELEASED", settle())
	}

	if v := connection(t, globex); v.Status != "connected" {
		t.Fatalf("after the rotations: %+v; want still connected", v)
	}
	g := simGrantOf(t, "zoom-globex")
	if g.Rotations <= before || !g.Authorized || g.LiveRefreshTokens != 1 {
		t.Fatalf("Zoom's record: %+v (rotations before: %d); want rotations, still authorized, one live refresh token", g, before)
	}
	// The stored refresh token is the live one: one more refresh works.
	expire()
	const n = "+14155550499"
	putZoomNumber(t, "zoom-globex", n, "")
	requestRelease(t, provider(t, "pxc"), "globex", n)
	approve(t, globex, n)
	globex.waitStatus(n, "RELEASED", settle())
}

// TestDeauthorizationWaitsThenReconnectCompletes: the customer removes the
// app in Zoom (app_deauthorized); releases in flight wait with "Zoom is not
// connected — connect it in Settings" instead of failing, and connecting
// again completes them.
func TestDeauthorizationWaitsThenReconnectCompletes(t *testing.T) {
	ensureConnected(t, "globex", "zoom-globex")
	t.Cleanup(func() { ensureConnected(t, "globex", "zoom-globex") })
	globex := customer(t, "globex")
	numbers := []string{"+14155550501", "+14155550502", "+14155550503"}
	for i, n := range numbers {
		putZoomNumber(t, "zoom-globex", n, fmt.Sprintf("u-50%d", i))
	}
	requestRelease(t, provider(t, "pxc"), "globex", numbers...)
	approve(t, globex, numbers...)
	for _, n := range numbers {
		globex.waitStatus(n, "WAITING_FOR_UNASSIGN", settle())
	}

	if st := call(t, "POST", "/zoom-sim/admin/oauth/deauthorize", "", map[string]string{"account_id": "zoom-globex"}, nil); st != http.StatusOK {
		t.Fatalf("deauthorize: %d", st)
	}
	v := connection(t, globex)
	if v.Status != "not_connected" || !strings.Contains(v.Reason, "app_deauthorized") {
		t.Fatalf("after app_deauthorized: %+v", v)
	}
	// The numbers are unassigned meanwhile (no notification): the re-check
	// finds it cannot ask Zoom and waits for the connection.
	for _, n := range numbers {
		silentlyUnassign(t, n)
	}
	for _, n := range numbers {
		waitMessage(t, globex, n, notConnected, settle())
	}
	if st := call(t, "POST", "/zoom-sim/admin/authorize", "", map[string]string{"customer_id": "globex", "account_id": "zoom-globex"}, nil); st != http.StatusOK {
		t.Fatalf("reconnect: %d", st)
	}
	for _, n := range numbers {
		d := globex.waitStatus(n, "RELEASED", settle())
		if d.Message == notConnected {
			t.Fatalf("%s released with message %q", n, d.Message)
		}
	}
	if stack != nil {
		if events := historyOf(t, "globex", numbers[0], 1); !strings.Contains(events, "TaskSucceeded(WaitForConnection)") {
			t.Fatalf("the wait for the connection did not end when Zoom was connected: %s", events)
		}
	}
}

// waitMessage polls a number until its message is want.
func waitMessage(t *testing.T, c *client, n, want string, timeout time.Duration) numberDetail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := c.number(n)
		if d.Message == want {
			if d.Status != "RELEASING" {
				t.Fatalf("%s says %q in status %s; want RELEASING", n, d.Message, d.Status)
			}
			return d
		}
		if d.Status == "FAILED" || d.Status == "RELEASED" {
			t.Fatalf("%s is %s (message %q); want it waiting with %q", n, d.Status, d.Message, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s (message %q) after %s; want message %q", n, d.Status, d.Message, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
