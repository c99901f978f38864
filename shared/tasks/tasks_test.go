package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/slots"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoom"
)

type fakeZoom struct {
	pn      zoom.PhoneNumber
	findErr error
	// view is the carrier's view of Zoom (carrier mode's lookup).
	view    map[string]zoom.PeeringNumber
	viewErr error
	// peeringFailures are what a Provider Exchange removal reports.
	peeringFailures []zoom.PeeringFailure
	removeErr       error
	removed         []string
	finds           int      // lookups, in either mode
	accounts        []string // the Zoom account of every call, in order
	onRemove        func()   // runs during a removal (a concurrent change)
}

func (f *fakeZoom) FindNumber(_ context.Context, account, _ string) (zoom.PhoneNumber, error) {
	f.finds++
	f.accounts = append(f.accounts, account)
	return f.pn, f.findErr
}

func (f *fakeZoom) CarrierPeeringNumbers(_ context.Context, account string, numbers []string) (map[string]zoom.PeeringNumber, error) {
	f.finds++
	f.accounts = append(f.accounts, account)
	if f.viewErr != nil {
		return nil, f.viewErr
	}
	out := map[string]zoom.PeeringNumber{}
	for _, n := range numbers {
		if pn, ok := f.view[n]; ok {
			out[n] = pn
		}
	}
	return out, nil
}

func (f *fakeZoom) RemovePeeringNumbers(_ context.Context, account string, _ int, numbers []string) ([]zoom.PeeringFailure, error) {
	if f.onRemove != nil {
		f.onRemove()
	}
	f.accounts = append(f.accounts, account)
	f.removed = append(f.removed, numbers...)
	return f.peeringFailures, f.removeErr
}

func (f *fakeZoom) RemoveNumbers(_ context.Context, account string, ids []string) error {
	if f.onRemove != nil {
		f.onRemove()
	}
	f.accounts = append(f.accounts, account)
	f.removed = append(f.removed, ids...)
	return f.removeErr
}

const num = "+97239754569"

// setup holds acme's number num, in status at attempt, in a store where
// acme has Zoom account zoom-acme and customer nozoom none.
func setup(status domain.Status, attempt int, z *fakeZoom) (*Tasks, *storetest.Store) {
	st := storetest.New()
	_ = st.PutTenants(context.Background(), []domain.Customer{{ID: "acme", ZoomAccountID: "zoom-acme"}, {ID: "nozoom"}}, nil)
	st.Put(domain.Number{CustomerID: "acme", Number: num, Status: status, Attempt: attempt, Version: 3, ProviderID: "pxc"})
	tk := New(st, z, nil, Config{Recheck: 10 * time.Second, MaxWait: time.Hour}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	tk.now = func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	return tk, st
}

// cur is the stored state of acme's number num.
func cur(st *storetest.Store) domain.Number {
	n, _ := st.Number("acme", num)
	return n
}

// set changes acme's number num in the store, as another writer would.
func set(st *storetest.Store, change func(*domain.Number)) {
	n := cur(st)
	change(&n)
	st.Put(n)
}

// releaseOne releases one number the way the release queue's consumer
// does (ReleaseBatch with a batch of one).
func releaseOne(tk *Tasks, in Input) error {
	return tk.ReleaseBatch(context.Background(), []Input{in}, nil)[0]
}

func errType(err error) string {
	var named messages.InvokeResponse_Error
	if errors.As(err, &named) {
		return named.Type
	}
	if err != nil {
		return "unnamed"
	}
	return ""
}

func TestCheck(t *testing.T) {
	assigned := zoom.PhoneNumber{ID: "pn_1", Number: num, Assignee: &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}}
	tests := []struct {
		name     string
		status   domain.Status
		attempt  int
		started  string
		customer string
		zoom     *fakeZoom
		want     string // outcome, or the error type
	}{
		{"assigned", domain.Releasing, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{pn: assigned}, OutcomeAssigned},
		{"unassigned", domain.WaitingForUnassign, 1, "2026-11-27T11:59:00.123Z", "acme", &fakeZoom{pn: zoom.PhoneNumber{ID: "pn_1"}}, OutcomeUnassigned},
		{"zoom limiter gave up", domain.Releasing, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{findErr: &zoom.Error{Kind: zoom.Throttled, Message: "client-side pacing"}}, ErrZoomThrottled},
		{"gone from the account", domain.Releasing, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{findErr: &zoom.Error{Kind: zoom.NotFound}}, OutcomeUnassigned},
		{"deadline passed", domain.WaitingForUnassign, 1, "2026-11-27T10:59:00Z", "acme", &fakeZoom{pn: assigned}, OutcomeExpired},
		{"newer attempt owns it", domain.Releasing, 2, "2026-11-27T11:59:00Z", "acme", &fakeZoom{pn: assigned}, OutcomeSuperseded},
		{"cancelled", domain.Cancelled, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{pn: assigned}, OutcomeSuperseded},
		{"zoom throttled", domain.Releasing, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{findErr: &zoom.Error{Kind: zoom.Throttled}}, ErrZoomThrottled},
		{"zoom down", domain.Releasing, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{findErr: &zoom.Error{Kind: zoom.Unavailable}}, ErrZoomUnavailable},
		{"bad credentials", domain.Releasing, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{findErr: &zoom.Error{Kind: zoom.BadCredentials}}, ErrZoomBadCredentials},
		{"customer that never connected zoom", domain.Releasing, 1, "2026-11-27T11:59:00Z", "nozoom", &fakeZoom{}, OutcomeNotConnected},
		{"authorization ended", domain.Releasing, 1, "2026-11-27T11:59:00Z", "acme", &fakeZoom{findErr: &zoom.Error{Kind: zoom.NotConnected}}, OutcomeNotConnected},
		{"bad start time", domain.Releasing, 1, "yesterday", "acme", &fakeZoom{}, ErrMisconfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, st := setup(tt.status, 1, tt.zoom)
			if tt.customer != "acme" {
				n := cur(st)
				n.CustomerID = tt.customer
				st.Put(n)
			}
			out, err := tk.Handle(context.Background(), Input{Action: "check", CustomerID: tt.customer, Number: num, Attempt: tt.attempt, StartedAt: tt.started})
			got := errType(err)
			if got == "" {
				c := out.(CheckOutput)
				got = c.Outcome
				if c.RecheckSeconds != 10 || (got == OutcomeAssigned && c.Assignee.Name != "Dana") {
					t.Fatalf("output = %+v", c)
				}
				wantID := tt.zoom.pn.ID
				if got != OutcomeAssigned && got != OutcomeUnassigned {
					wantID = "" // Zoom was not asked
				}
				if c.ZoomID != wantID {
					t.Fatalf("zoom_id = %q; want %q", c.ZoomID, wantID)
				}
			}
			if got != tt.want {
				t.Fatalf("check = %q (%v); want %q", got, err, tt.want)
			}
			if len(st.Changes()) != 0 {
				t.Fatal("check wrote the number")
			}
		})
	}
}

// TestWaitForConnection: a release whose customer is not connected keeps
// its token on the number, stays RELEASING and says what to do; the next
// check that reaches Zoom clears the message.
func TestWaitForConnection(t *testing.T) {
	tk, st := setup(domain.WaitingForUnassign, 1, &fakeZoom{})
	if _, err := tk.Handle(context.Background(), Input{Action: "wait_connection", CustomerID: "acme", Number: num, Attempt: 1, TaskToken: "tok-c"}); err != nil {
		t.Fatal(err)
	}
	if n := cur(st); n.Status != domain.Releasing || n.TaskToken != "tok-c" || n.Message != domain.NotConnectedMessage {
		t.Fatalf("waiting for the connection: %+v", n)
	}
	out, err := tk.Handle(context.Background(), Input{Action: "check", CustomerID: "acme", Number: num, Attempt: 1, StartedAt: "2026-11-27T11:59:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	if c := out.(CheckOutput); c.Outcome != OutcomeUnassigned {
		t.Fatalf("check after connecting = %+v", c)
	}
	if n := cur(st); n.Message != "" || n.TaskToken != "" {
		t.Fatalf("after a check that reached Zoom: message %q, token %q; want both cleared", n.Message, n.TaskToken)
	}
	if _, err := tk.Handle(context.Background(), Input{Action: "wait_connection", CustomerID: "acme", Number: num, Attempt: 1}); errType(err) != ErrMisconfigured {
		t.Fatalf("wait_connection without a token = %v", err)
	}
	// Still not connected at the overall deadline: FAILED, saying why and
	// what to do (RELEASING cannot go back to PENDING_APPROVAL).
	if _, err := tk.Handle(context.Background(), Input{Action: "wait_connection", CustomerID: "acme", Number: num, Attempt: 1, TaskToken: "tok-d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Handle(context.Background(), Input{Action: "expire", CustomerID: "acme", Number: num, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if n := cur(st); n.Status != domain.Failed || !strings.Contains(n.Message, "Zoom was not connected within") || !strings.Contains(n.Message, "connect it in Settings") || n.TaskToken != "" {
		t.Fatalf("expired while waiting for the connection: %+v", n)
	}
}

func TestWaitStoresTokenAndAssignee(t *testing.T) {
	tk, st := setup(domain.Releasing, 1, &fakeZoom{})
	a := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	for i, token := range []string{"tok-1", "tok-2"} {
		if _, err := tk.Handle(context.Background(), Input{Action: "wait", CustomerID: "acme", Number: num, Attempt: 1, Assignee: a, TaskToken: token}); err != nil {
			t.Fatal(err)
		}
		if cur(st).Status != domain.WaitingForUnassign || cur(st).TaskToken != token || cur(st).Message != "assigned in Zoom to Dana (user) — unassign it in Zoom first" {
			t.Fatalf("wait %d: number = %+v", i+1, cur(st))
		}
	}
	// The first wait changed the status (one history entry), the second only the token.
	if ch := st.Changes(); ch[0].Prev.Status != domain.Releasing || ch[1].Prev.Status != domain.WaitingForUnassign {
		t.Fatalf("changes = %+v", ch)
	}
	// A wait for a cancelled number stops the execution.
	set(st, func(n *domain.Number) { n.Status = domain.Cancelled })
	_, err := tk.Handle(context.Background(), Input{Action: "wait", CustomerID: "acme", Number: num, Attempt: 1, TaskToken: "tok-3"})
	if errType(err) != ErrSuperseded {
		t.Fatalf("wait after cancel = %v", err)
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name        string
		from        domain.Status
		zoomID      string
		zoom        *fakeZoom
		wantErr     string
		wantRemoved string
		wantStatus  domain.Status
		// wantStarted: the number still says its removal was sent to Zoom
		// (so it may not be cancelled or rejected).
		wantStarted bool
		wantWhy     string
	}{
		{"removed by the check's id, no lookup", domain.Releasing, "pn_1", &fakeZoom{}, "", "pn_1", domain.Released, false, "removed from the customer's Zoom account"},
		{"unbound number: claimed RELEASING, then removed", domain.WaitingForUnassign, "pn_1", &fakeZoom{}, "", "pn_1", domain.Released, false, "removed from the customer's Zoom account"},
		{"not in the account at the check: nothing to remove", domain.Releasing, "", &fakeZoom{}, "", "", domain.Released, false, "no longer in the customer's Zoom account"},
		{"removed meanwhile is success", domain.Releasing, "pn_1", &fakeZoom{removeErr: &zoom.Error{Kind: zoom.NotFound}}, "", "pn_1", domain.Released, false, "no longer in"},
		{"zoom refuses: assigned again, so no removal happened", domain.Releasing, "pn_1", &fakeZoom{removeErr: &zoom.Error{Kind: zoom.Assigned}}, ErrZoomAssigned, "pn_1", domain.Releasing, false, ""},
		{"zoom down is retried by the state machine", domain.Releasing, "pn_1", &fakeZoom{removeErr: &zoom.Error{Kind: zoom.Unavailable}}, ErrZoomUnavailable, "pn_1", domain.Releasing, true, ""},
		{"zoom throttled is retried by the state machine", domain.Releasing, "pn_1", &fakeZoom{removeErr: &zoom.Error{Kind: zoom.Throttled}}, ErrZoomThrottled, "pn_1", domain.Releasing, true, ""},
		{"authorization gone: nothing removed, checked again", domain.Releasing, "pn_1", &fakeZoom{removeErr: &zoom.Error{Kind: zoom.NotConnected}}, ErrZoomNotConnected, "pn_1", domain.Releasing, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, st := setup(tt.from, 1, tt.zoom)
			// Zoom is asked only once the number is claimed: RELEASING
			// (not cancellable) with its removal marked started.
			tt.zoom.onRemove = func() {
				if cur(st).Status != domain.Releasing || !cur(st).RemovalStarted {
					t.Errorf("Zoom asked to remove a number that is %s, removal started %v", cur(st).Status, cur(st).RemovalStarted)
				}
			}
			err := releaseOne(tk, Input{CustomerID: "acme", Number: num, Attempt: 1, ZoomID: tt.zoomID})
			if errType(err) != tt.wantErr || strings.Join(tt.zoom.removed, ",") != tt.wantRemoved || cur(st).Status != tt.wantStatus || cur(st).RemovalStarted != tt.wantStarted {
				t.Fatalf("release: err %v, removed %v, status %s, removal started %v", err, tt.zoom.removed, cur(st).Status, cur(st).RemovalStarted)
			}
			if tt.zoom.finds != 0 {
				t.Fatalf("release looked the number up %d times; it deletes by the check's id", tt.zoom.finds)
			}
			if changes := st.Changes(); tt.wantWhy != "" && !strings.Contains(changes[len(changes)-1].Why, tt.wantWhy) {
				t.Fatalf("why = %q; want %q", changes[len(changes)-1].Why, tt.wantWhy)
			}
		})
	}
}

// carrierSetup is setup in carrier mode: carrier 8801, whose own Zoom
// account is zoom-carrier.
func carrierSetup(status domain.Status, z *fakeZoom) (*Tasks, *storetest.Store) {
	tk, st := setup(status, 1, z)
	tk.cfg.Mode, tk.cfg.CarrierCode, tk.cfg.CarrierAccountID = domain.ModeCarrier, 8801, "zoom-carrier"
	return tk, st
}

// TestCheckCarrier: in carrier mode the check asks the carrier's own view
// of Zoom, with the carrier's account, never the customer's; a number the
// view does not list is gone (the release removes nothing); one it lists
// goes to the release as its number (zoom_id), since the Provider
// Exchange removes by number.
func TestCheckCarrier(t *testing.T) {
	listed := func(assigned bool) map[string]zoom.PeeringNumber {
		return map[string]zoom.PeeringNumber{num: {Number: num, Assigned: assigned, Active: true}}
	}
	tests := []struct {
		name        string
		customer    string
		noAccount   bool // the carrier's Zoom account is not configured
		zoom        *fakeZoom
		want        string // outcome, or the error type
		wantZoomID  string
		wantLookups int
	}{
		{"listed, unassigned", "acme", false, &fakeZoom{view: listed(false)}, OutcomeUnassigned, num, 1},
		{"listed, assigned", "acme", false, &fakeZoom{view: listed(true)}, OutcomeAssigned, num, 1},
		{"not listed: gone from Zoom", "acme", false, &fakeZoom{view: map[string]zoom.PeeringNumber{}}, OutcomeUnassigned, "", 1},
		{"a customer without a Zoom account is no obstacle", "nozoom", false, &fakeZoom{view: listed(false)}, OutcomeUnassigned, num, 1},
		{"view throttled", "acme", false, &fakeZoom{viewErr: &zoom.Error{Kind: zoom.Throttled}}, ErrZoomThrottled, "", 1},
		{"not a carrier's account (Zoom 1001)", "acme", false, &fakeZoom{viewErr: &zoom.Error{Kind: zoom.Rejected, Code: 1001}}, ErrZoomRejected, "", 1},
		{"the carrier's credentials refused", "acme", false, &fakeZoom{viewErr: &zoom.Error{Kind: zoom.BadCredentials}}, ErrZoomBadCredentials, "", 1},
		{"no carrier account configured", "acme", true, &fakeZoom{view: listed(false)}, ErrMisconfigured, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, st := carrierSetup(domain.Releasing, tt.zoom)
			if tt.noAccount {
				tk.cfg.CarrierAccountID = ""
			}
			if tt.customer != "acme" {
				set(st, func(n *domain.Number) { n.CustomerID = tt.customer })
			}
			out, err := tk.Handle(context.Background(), Input{Action: "check", CustomerID: tt.customer, Number: num, Attempt: 1, StartedAt: "2026-11-27T11:59:00Z"})
			got := errType(err)
			if got == "" {
				c := out.(CheckOutput)
				got = c.Outcome
				if c.ZoomID != tt.wantZoomID || c.Assignee != nil {
					t.Fatalf("output = %+v; want zoom_id %q and no assignee (the view does not say who)", c, tt.wantZoomID)
				}
			}
			if got != tt.want {
				t.Fatalf("check = %q (%v); want %q", got, err, tt.want)
			}
			if tt.zoom.finds != tt.wantLookups || strings.Join(tt.zoom.accounts, ",") != strings.Repeat("zoom-carrier", tt.wantLookups) {
				t.Fatalf("%d lookups with accounts %v; want %d with zoom-carrier", tt.zoom.finds, tt.zoom.accounts, tt.wantLookups)
			}
			if n := st.Calls(storetest.OpGetCustomer); n != 0 {
				t.Fatalf("%d reads of the customer; carrier mode needs none", n)
			}
		})
	}
}

// TestReleaseCarrier: in carrier mode the release removes by number
// through the Provider Exchange with the carrier's account, whatever the
// check's zoom_id holds (a Zoom id from a check made before carrier mode
// used the carrier's view still removes), and removes nothing when the
// check did not find the number.
func TestReleaseCarrier(t *testing.T) {
	tests := []struct {
		name        string
		customer    string
		zoomID      string
		zoom        *fakeZoom
		wantErr     string
		wantRemoved string
		wantStatus  domain.Status
		wantStarted bool
		wantWhy     string
	}{
		{"listed by the carrier's view: removed by number", "acme", num, &fakeZoom{}, "", num, domain.Released, false,
			"removed from Zoom by the carrier (Provider Exchange, carrier code 8801)"},
		{"a Zoom id from an earlier check: removed by number", "acme", "pn_1", &fakeZoom{}, "", num, domain.Released, false, "removed from Zoom by the carrier"},
		{"a customer without a Zoom account is no obstacle", "nozoom", num, &fakeZoom{}, "", num, domain.Released, false, "removed from Zoom by the carrier"},
		{"not in the carrier's view: nothing to remove", "acme", "", &fakeZoom{}, "", "", domain.Released, false,
			"not in Zoom as this carrier's number (the carrier's view of Zoom does not list it)"},
		{"assigned again: no removal happened", "acme", num,
			&fakeZoom{peeringFailures: []zoom.PeeringFailure{{Number: num, Reason: "Phone number is assigned", Kind: zoom.Assigned}}},
			ErrZoomAssigned, num, domain.Releasing, false, ""},
		{"refused with Zoom's reason", "acme", num,
			&fakeZoom{peeringFailures: []zoom.PeeringFailure{{Number: num, Reason: "Phone number was not added by this carrier", Kind: zoom.Rejected}}},
			ErrZoomRejected, num, domain.Releasing, true, ""},
		{"zoom down is retried by the state machine", "acme", num, &fakeZoom{removeErr: &zoom.Error{Kind: zoom.Unavailable}},
			ErrZoomUnavailable, num, domain.Releasing, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, st := carrierSetup(domain.Releasing, tt.zoom)
			if tt.customer != "acme" {
				set(st, func(n *domain.Number) { n.CustomerID = tt.customer })
			}
			tt.zoom.onRemove = func() {
				if n, _ := st.Number(tt.customer, num); n.Status != domain.Releasing || !n.RemovalStarted {
					t.Errorf("Zoom asked to remove a number that is %s, removal started %v", n.Status, n.RemovalStarted)
				}
			}
			err := releaseOne(tk, Input{CustomerID: tt.customer, Number: num, Attempt: 1, ZoomID: tt.zoomID})
			n, _ := st.Number(tt.customer, num)
			if errType(err) != tt.wantErr || strings.Join(tt.zoom.removed, ",") != tt.wantRemoved || n.Status != tt.wantStatus || n.RemovalStarted != tt.wantStarted {
				t.Fatalf("release: err %v, removed %v, status %s, removal started %v", err, tt.zoom.removed, n.Status, n.RemovalStarted)
			}
			if tt.wantRemoved != "" && strings.Join(tt.zoom.accounts, ",") != "zoom-carrier" {
				t.Fatalf("removed with accounts %v; want zoom-carrier", tt.zoom.accounts)
			}
			if tt.zoom.finds != 0 || st.Calls(storetest.OpGetCustomer) != 0 {
				t.Fatalf("release looked the number up %d times and read the customer %d times; want neither",
					tt.zoom.finds, st.Calls(storetest.OpGetCustomer))
			}
			if changes := st.Changes(); tt.wantWhy != "" && !strings.Contains(changes[len(changes)-1].Why, tt.wantWhy) {
				t.Fatalf("why = %q; want %q", changes[len(changes)-1].Why, tt.wantWhy)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	base := Config{Recheck: time.Second, MaxWait: time.Hour}
	for _, tt := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"customer by default", func(*Config) {}, ""},
		{"carrier with a code and its Zoom account", func(c *Config) {
			c.Mode, c.CarrierCode, c.CarrierAccountID = domain.ModeCarrier, 8801, "zoom-carrier"
		}, ""},
		{"carrier without a code", func(c *Config) { c.Mode, c.CarrierAccountID = domain.ModeCarrier, "zoom-carrier" }, "CARRIER_CODE"},
		{"carrier without its Zoom account", func(c *Config) { c.Mode, c.CarrierCode = domain.ModeCarrier, 8801 }, "ZOOM_CARRIER_ACCOUNT_ID"},
		{"carrier with a blank Zoom account", func(c *Config) { c.Mode, c.CarrierCode, c.CarrierAccountID = domain.ModeCarrier, 8801, " " }, "ZOOM_CARRIER_ACCOUNT_ID"},
		{"unknown mode", func(c *Config) { c.Mode = "x" }, "unknown release mode"},
		{"no timing", func(c *Config) { c.Recheck = 0 }, "Recheck"},
	} {
		c := base
		tt.mutate(&c)
		if err := c.Validate(); (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: Validate() = %v; want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestExpireAndFail(t *testing.T) {
	tk, st := setup(domain.WaitingForUnassign, 1, &fakeZoom{})
	set(st, func(n *domain.Number) { n.Assignee, n.TaskToken = &domain.Assignee{Name: "Dana", Type: "user"}, "tok" })
	if _, err := tk.Handle(context.Background(), Input{Action: "expire", CustomerID: "acme", Number: num, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	if cur(st).Status != domain.PendingApproval || cur(st).TaskToken != "" || !strings.Contains(cur(st).Message, "still assigned in Zoom to Dana (user) after 1h0m0s") {
		t.Fatalf("after expire: %+v", cur(st))
	}

	tests := []struct {
		err  StateError
		want string
	}{
		{StateError{Error: ErrZoomUnavailable, Cause: `{"errorMessage":"HTTP 503","errorType":"Zoom.Unavailable"}`}, "Zoom was unavailable for more than 15m0s (HTTP 503)"},
		{StateError{Error: ErrZoomThrottled}, "rate-limiting the release (HTTP 429, or the service's own pacing within Zoom's per-second limits) until the overall deadline of 1h0m0s"},
		{StateError{Error: ErrZoomBadCredentials}, "credentials"},
		{StateError{Error: ErrTasksBusy}, "too busy with other releases (its concurrency cap) until the overall deadline of 1h0m0s"},
		{StateError{Error: ErrStoreUnavailable, Cause: `{"errorMessage":"read number: timeout"}`}, "database was unavailable for more than 15m0s (read number: timeout)"},
		{StateError{Error: "States.Timeout", Cause: "task timed out"}, "(States.Timeout): task timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error, func(t *testing.T) {
			tk, st := setup(domain.Releasing, 1, &fakeZoom{})
			if _, err := tk.Handle(context.Background(), Input{Action: "fail", CustomerID: "acme", Number: num, Attempt: 1, Error: &tt.err}); err != nil {
				t.Fatal(err)
			}
			if cur(st).Status != domain.Failed || !strings.Contains(cur(st).Message, tt.want) {
				t.Fatalf("after fail: %s %q; want message with %q", cur(st).Status, cur(st).Message, tt.want)
			}
		})
	}
	// A waiting number's workflow failing (a successor that could not be
	// started) returns it to PENDING_APPROVAL with the reason: the lifecycle
	// has no WAITING_FOR_UNASSIGN → FAILED, and the number must not stay
	// waiting with no workflow behind it.
	tk, st = setup(domain.WaitingForUnassign, 1, &fakeZoom{})
	set(st, func(n *domain.Number) { n.TaskToken = "tok" })
	if _, err := tk.Handle(context.Background(), Input{Action: "fail", CustomerID: "acme", Number: num, Attempt: 1,
		Error: &StateError{Error: ErrWorkflowUnavailable, Cause: `{"errorMessage":"start successor: throttled"}`}}); err != nil {
		t.Fatal(err)
	}
	if c := cur(st); c.Status != domain.PendingApproval || c.TaskToken != "" || !strings.Contains(c.Message, "could not go on in a new workflow execution") {
		t.Fatalf("waiting number after fail: %s %q; want PENDING_APPROVAL with the reason", c.Status, c.Message)
	}
	// A failure of a superseded execution leaves the number alone.
	tk, st = setup(domain.Cancelled, 1, &fakeZoom{})
	if _, err := tk.Handle(context.Background(), Input{Action: "fail", CustomerID: "acme", Number: num, Attempt: 1, Error: &StateError{Error: "X"}}); err != nil || len(st.Changes()) != 0 {
		t.Fatalf("fail of superseded: %v, %d writes", err, len(st.Changes()))
	}
}

// TestStoreFailuresAreRetryable: a DynamoDB failure in any action is named
// Store.Unavailable (the state machine retries it), writes nothing and calls
// Zoom no further.
func TestStoreFailuresAreRetryable(t *testing.T) {
	down := errors.New("operation error DynamoDB: GetItem, context deadline exceeded")
	tests := []struct {
		name   string
		action string
		op     storetest.Op
	}{
		{"check reads the number", "check", storetest.OpGetNumber},
		{"check reads the customer", "check", storetest.OpGetCustomer},
		{"release reads the number", "release", storetest.OpGetNumber},
		{"release writes the number", "release", storetest.OpWrite},
		{"wait writes the token", "wait", storetest.OpWrite},
		{"expire writes the number", "expire", storetest.OpWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := &fakeZoom{pn: zoom.PhoneNumber{ID: "pn1", Number: num}}
			tk, st := setup(domain.Releasing, 1, z)
			st.Fail(tt.op, down)
			in := Input{Action: tt.action, CustomerID: "acme", Number: num, Attempt: 1, ZoomID: "pn1", TaskToken: "tok", StartedAt: "2026-11-27T11:59:00Z"}
			var err error
			if tt.action == "release" {
				err = releaseOne(tk, in)
			} else {
				_, err = tk.Handle(context.Background(), in)
			}
			if errType(err) != ErrStoreUnavailable || !strings.Contains(err.Error(), "context deadline exceeded") {
				t.Fatalf("err = %v (%s), want %s naming the cause", err, errType(err), ErrStoreUnavailable)
			}
			if len(st.Changes()) != 0 {
				t.Errorf("%d writes", len(st.Changes()))
			}
		})
	}
}

// TestReadsPerRelease: a check and a release read the number once each and
// the customer's Zoom account once per accountTTL, not once per action.
func TestReadsPerRelease(t *testing.T) {
	z := &fakeZoom{pn: zoom.PhoneNumber{ID: "pn1", Number: num}}
	tk, st := setup(domain.Releasing, 1, z)
	now := tk.now()
	in := Input{CustomerID: "acme", Number: num, Attempt: 1, StartedAt: now.Format(time.RFC3339)}
	check := in
	check.Action = "check"
	for range 2 {
		if _, err := tk.Handle(context.Background(), check); err != nil {
			t.Fatal(err)
		}
	}
	release := in
	release.ZoomID = "pn1"
	if err := releaseOne(tk, release); err != nil {
		t.Fatal(err)
	}
	if gets, customerGets := st.Calls(storetest.OpGetNumber), st.Calls(storetest.OpGetCustomer); cur(st).Status != domain.Released || gets != 3 || customerGets != 1 {
		t.Fatalf("status %s after %d number reads and %d customer reads; want RELEASED after 3 and 1", cur(st).Status, gets, customerGets)
	}
	// Once the cached account is older than accountTTL it is read again.
	tk.now = func() time.Time { return now.Add(accountTTL + time.Second) }
	check.StartedAt = tk.now().Format(time.RFC3339)
	set(st, func(n *domain.Number) { n.Status = domain.Releasing })
	if _, err := tk.Handle(context.Background(), check); err != nil {
		t.Fatal(err)
	}
	if n := st.Calls(storetest.OpGetCustomer); n != 2 {
		t.Fatalf("%d customer reads after the TTL; want 2", n)
	}
}

// TestReleaseAfterConcurrentCancel: a cancel that lands between the
// release's read and its claim wins: the claim loses its condition, the
// release reads again, stops as superseded and never asks Zoom.
func TestReleaseAfterConcurrentCancel(t *testing.T) {
	z := &fakeZoom{pn: zoom.PhoneNumber{ID: "pn1", Number: num}}
	tk, st := setup(domain.WaitingForUnassign, 1, z)
	st.BeforeWrite(func() { set(st, func(n *domain.Number) { n.Status, n.Version = domain.Cancelled, n.Version+1 }) })
	err := releaseOne(tk, Input{CustomerID: "acme", Number: num, Attempt: 1, ZoomID: "pn1"})
	if errType(err) != ErrSuperseded || cur(st).Status != domain.Cancelled || len(st.Changes()) != 0 || len(z.removed) != 0 {
		t.Fatalf("err %v, status %s, %d writes, removed %v; want Release.Superseded, CANCELLED, none, none", err, cur(st).Status, len(st.Changes()), z.removed)
	}
}

// TestFailureAfterRemovalSentSaysSo: a release that fails once its removal
// was sent keeps the mark (no cancel or reject), and tells the customer
// that approving again settles it; a wait (Zoom shows the number assigned)
// clears the mark.
func TestFailureAfterRemovalSentSaysSo(t *testing.T) {
	tk, st := setup(domain.Releasing, 1, &fakeZoom{})
	set(st, func(n *domain.Number) { n.RemovalStarted = true })
	if _, err := tk.Handle(context.Background(), Input{Action: "fail", CustomerID: "acme", Number: num, Attempt: 1,
		Error: &StateError{Error: ErrZoomUnavailable, Cause: "timeout"}}); err != nil {
		t.Fatal(err)
	}
	if cur(st).Status != domain.Failed || !cur(st).RemovalStarted || !strings.Contains(cur(st).Message, "Zoom may have removed the number") {
		t.Fatalf("after fail: %s, removal started %v, %q", cur(st).Status, cur(st).RemovalStarted, cur(st).Message)
	}
	tk, st = setup(domain.Releasing, 1, &fakeZoom{})
	set(st, func(n *domain.Number) { n.RemovalStarted = true })
	if _, err := tk.Handle(context.Background(), Input{Action: "wait", CustomerID: "acme", Number: num, Attempt: 1, TaskToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	if cur(st).Status != domain.WaitingForUnassign || cur(st).RemovalStarted {
		t.Fatalf("after wait: %s, removal started %v; want WAITING_FOR_UNASSIGN, cleared", cur(st).Status, cur(st).RemovalStarted)
	}
}

// TestTriage: throttling is retried until the overall deadline, other
// transient trouble for the retry budget counted from when it began, and
// anything else is a failure at once; pauses stay within the configured
// pause.
func TestTriage(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	tests := []struct {
		name      string
		err       string
		started   time.Duration // execution start, relative to now
		since     string
		wantRetry bool
		wantSince string
	}{
		{"throttled early", ErrZoomThrottled, -time.Minute, "", true, at(0)},
		{"lambda throttled long, before the deadline", "Lambda.TooManyRequestsException", -59 * time.Minute, at(-50 * time.Minute), true, at(-50 * time.Minute)},
		{"throttled past the deadline", ErrZoomThrottled, -61 * time.Minute, at(-time.Minute), false, at(-time.Minute)},
		{"busy long, before the deadline", ErrTasksBusy, -59 * time.Minute, at(-50 * time.Minute), true, at(-50 * time.Minute)},
		{"busy past the retry budget is still retried", ErrTasksBusy, -30 * time.Minute, at(-20 * time.Minute), true, at(-20 * time.Minute)},
		{"busy past the deadline", ErrTasksBusy, -61 * time.Minute, at(-time.Minute), false, at(-time.Minute)},
		{"zoom down: first round", ErrZoomUnavailable, -time.Minute, "", true, at(0)},
		{"store down within the budget", ErrStoreUnavailable, -time.Hour, at(-14 * time.Minute), true, at(-14 * time.Minute)},
		{"lambda service error within the budget", "Lambda.ServiceException", -time.Hour, at(-time.Minute), true, at(-time.Minute)},
		{"zoom down past the budget", ErrZoomUnavailable, -time.Hour, at(-15 * time.Minute), false, at(-15 * time.Minute)},
		{"a future since is not trusted", ErrZoomUnavailable, -time.Minute, at(time.Hour), true, at(0)},
		{"not transient", ErrZoomRejected, -time.Minute, "", false, at(0)},
		{"unknown error", "States.Runtime", -time.Minute, "", false, at(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, _ := setup(domain.Releasing, 1, &fakeZoom{})
			tk.now = func() time.Time { return now }
			out, err := tk.Handle(context.Background(), Input{Action: "triage", CustomerID: "acme", Number: num, Attempt: 1,
				Error: &StateError{Error: tt.err}, TroubleSince: tt.since, StartedAt: at(tt.started)})
			if err != nil {
				t.Fatal(err)
			}
			got := out.(TriageOutput)
			if got.Retry != tt.wantRetry || got.Since != tt.wantSince {
				t.Fatalf("triage = %+v; want retry %v since %s", got, tt.wantRetry, tt.wantSince)
			}
			if got.Retry && (got.WaitSeconds < 30 || got.WaitSeconds > 60) {
				t.Fatalf("pause %d s; want 30-60 s (half the pause to all of it)", got.WaitSeconds)
			}
		})
	}
}

func TestUnknownAction(t *testing.T) {
	tk, _ := setup(domain.Releasing, 1, &fakeZoom{})
	if _, err := tk.Handle(context.Background(), Input{Action: "dance"}); errType(err) != ErrMisconfigured {
		t.Fatalf("err = %v", err)
	}
}

// TestPayloadJSON pins the JSON the state machine passes between states
// (shared/workflow/release.asl.json reads these members by name): the
// check's output and the wait's input, with an assignee.
func TestPayloadJSON(t *testing.T) {
	a := &zoom.Assignee{ID: "u1", Name: "Dana Levi", Type: "user", ExtensionNumber: "1001"}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"check output", CheckOutput{Outcome: OutcomeAssigned, Assignee: a, RecheckSeconds: 10, ZoomID: "pn_1"},
			`{"outcome":"assigned","assignee":{"id":"u1","name":"Dana Levi","type":"user","extension_number":"1001"},"recheck_seconds":10,"zoom_id":"pn_1","retry_at":""}`},
		{"check output, unassigned", CheckOutput{Outcome: OutcomeUnassigned, RecheckSeconds: 10},
			`{"outcome":"unassigned","assignee":null,"recheck_seconds":10,"zoom_id":"","retry_at":""}`},
		{"wait input", Input{Action: "wait", CustomerID: "acme", Number: num, Attempt: 2, StartedAt: "2026-11-27T11:59:00Z", Assignee: a, ZoomID: "pn_1", TaskToken: "tok"},
			`{"action":"wait","customer_id":"acme","number":"+97239754569","attempt":2,"started_at":"2026-11-27T11:59:00Z","assignee":{"id":"u1","name":"Dana Levi","type":"user","extension_number":"1001"},"zoom_id":"pn_1","task_token":"tok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil || string(b) != tt.want {
				t.Fatalf("JSON = %s, %v; want %s", b, err, tt.want)
			}
		})
	}
	var in Input
	if err := json.Unmarshal([]byte(tests[2].want), &in); err != nil || *in.Assignee != *a {
		t.Fatalf("decoded assignee = %+v, %v; want %+v", in.Assignee, err, a)
	}
}

// successors records the successor executions the continue action starts.
type successors struct {
	started []workflow.Release
	arns    []string
	err     error
}

func (s *successors) StartSuccessor(_ context.Context, arn string, r workflow.Release) error {
	if s.err != nil {
		return s.err
	}
	s.started, s.arns = append(s.started, r), append(s.arns, arn)
	return nil
}

func TestContinueAsNew(t *testing.T) {
	const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:number-release"
	successor := workflow.Release{CustomerID: "acme", Number: num, Attempt: 1, Generation: 3,
		StartedAt: "2026-11-27T11:00:00.123Z", Trouble: &workflow.Trouble{Since: "2026-11-27T11:58:00Z"}}
	tests := []struct {
		name      string
		status    domain.Status
		recorded  string // the number's execution before the action
		machine   string
		startErr  error
		want      string // error type
		wantStart bool
		wantExec  string // the number's execution after the action
	}{
		{"waiting number goes on in generation 3", domain.WaitingForUnassign, "acme-97239754569-1-g2", machine, nil, "", true, "acme-97239754569-1-g3"},
		{"releasing number in trouble goes on with its trouble record", domain.Releasing, "acme-97239754569-1-g2", machine, nil, "", true, "acme-97239754569-1-g3"},
		{"a repeat after the successor was recorded writes nothing", domain.WaitingForUnassign, "acme-97239754569-1-g3", machine, nil, "", true, "acme-97239754569-1-g3"},
		{"cancelled number gets no successor", domain.Cancelled, "acme-97239754569-1-g2", machine, nil, ErrSuperseded, false, "acme-97239754569-1-g2"},
		{"start failing is transient, number untouched", domain.WaitingForUnassign, "acme-97239754569-1-g2", machine, errors.New("throttled"), ErrWorkflowUnavailable, false, "acme-97239754569-1-g2"},
		{"no state machine in the payload", domain.WaitingForUnassign, "acme-97239754569-1-g2", "", nil, ErrMisconfigured, false, "acme-97239754569-1-g2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, st := setup(tt.status, 1, &fakeZoom{})
			set(st, func(n *domain.Number) { n.Execution = tt.recorded })
			before := cur(st)
			succ := &successors{err: tt.startErr}
			tk.successors = succ
			_, err := tk.Handle(context.Background(), Input{Action: "continue", CustomerID: "acme", Number: num, Attempt: 1,
				Generation: 2, StartedAt: successor.StartedAt, TroubleSince: successor.Trouble.Since, StateMachine: tt.machine})
			if got := errType(err); got != tt.want {
				t.Fatalf("error %v (%s); want %q", err, got, tt.want)
			}
			if tt.wantStart != (len(succ.started) == 1) {
				t.Fatalf("started %+v; want a start: %v", succ.started, tt.wantStart)
			}
			if tt.wantStart {
				if got := succ.started[0]; got.ExecutionName() != tt.wantExec || got.StartedAt != successor.StartedAt ||
					got.Trouble == nil || *got.Trouble != *successor.Trouble || got.Generation != 3 || succ.arns[0] != machine {
					t.Errorf("successor %+v on %s; want %+v on %s", got, succ.arns[0], successor, machine)
				}
			}
			after := cur(st)
			if after.Execution != tt.wantExec || after.Status != before.Status {
				t.Errorf("number %s, execution %q; want %s, %q", after.Status, after.Execution, before.Status, tt.wantExec)
			}
			if wrote := after.Version != before.Version; wrote != (tt.recorded != tt.wantExec) {
				t.Errorf("version %d -> %d: wrote %v, want a write only to record a new successor", before.Version, after.Version, wrote)
			}
		})
	}
}

// TestDeadlineCountsFromTheFirstExecution: the overall deadline counts from
// the start of the release's first execution, which a successor carries in
// started_at; the first execution reads its own start.
func TestDeadlineCountsFromTheFirstExecution(t *testing.T) {
	assigned := zoom.PhoneNumber{ID: "pn_1", Number: num, Assignee: &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}}
	tests := []struct {
		name               string
		started, execution string // started_at, execution_started_at; now is 12:00, MaxWait an hour
		want               string
	}{
		{"first execution within the deadline", "", "2026-11-27T11:30:00Z", OutcomeAssigned},
		{"first execution past the deadline", "", "2026-11-27T10:59:00Z", OutcomeExpired},
		{"successor started recently, release started long ago", "2026-11-27T10:59:00Z", "2026-11-27T11:59:00Z", OutcomeExpired},
		{"successor within the deadline", "2026-11-27T11:30:00Z", "2026-11-27T11:59:00Z", OutcomeAssigned},
		{"no start at all", "", "", ErrMisconfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, _ := setup(domain.WaitingForUnassign, 1, &fakeZoom{pn: assigned})
			out, err := tk.Handle(context.Background(), Input{Action: "check", CustomerID: "acme", Number: num, Attempt: 1,
				StartedAt: tt.started, ExecutionStartedAt: tt.execution})
			got := errType(err)
			if got == "" {
				got = out.(CheckOutput).Outcome
			}
			if got != tt.want {
				t.Fatalf("check = %q (%v); want %q", got, err, tt.want)
			}
		})
	}
}

// fakeSlots hands out up to free slots and counts what it is asked. Leases
// it handed out are held until released.
type fakeSlots struct {
	free              int
	err               error // answers every Take when set
	acquired, returns int
	held              map[string]bool // owner -> held
}

func (f *fakeSlots) Take(context.Context) (slots.Lease, error) {
	if f.err != nil {
		return slots.Lease{}, f.err
	}
	if f.free == 0 {
		return slots.Lease{}, fmt.Errorf("slots release-tasks: %w", slots.ErrBusy)
	}
	f.free--
	f.acquired++
	if f.held == nil {
		f.held = map[string]bool{}
	}
	l := slots.Lease{Slot: f.acquired, Owner: fmt.Sprintf("owner-%d", f.acquired)}
	f.held[l.Owner] = true
	return l, nil
}

func (f *fakeSlots) Release(_ context.Context, l slots.Lease) error {
	if !f.held[l.Owner] {
		return fmt.Errorf("slots release-tasks: %w", slots.ErrNotHeld)
	}
	delete(f.held, l.Owner)
	f.free++
	f.returns++
	return nil
}

// TestConcurrencySlots: the check holds a concurrency slot while it works
// with Zoom; with none free it answers Tasks.Busy at once and touches
// neither Zoom nor the number; a table error taking the slot is
// Store.Unavailable. The bookkeeping actions take no slot. (The release
// runs in the release queue's consumer, whose own concurrency is capped.)
func TestConcurrencySlots(t *testing.T) {
	started := "2026-11-27T11:59:00Z"
	tests := []struct {
		name       string
		in         Input
		from       domain.Status
		assigned   bool // Zoom has the number assigned
		slots      *fakeSlots
		wantErr    string
		wantZoom   bool   // Zoom was asked
		wantSlot   string // "": none taken; "returned": taken and given back
		wantStatus domain.Status
	}{
		{"check of a free number gives its slot back", Input{Action: "check", StartedAt: started}, domain.Releasing, false, &fakeSlots{free: 1}, "", true, "returned", domain.Releasing},
		{"check of an assigned number gives its slot back", Input{Action: "check", StartedAt: started}, domain.Releasing, true, &fakeSlots{free: 1}, "", true, "returned", domain.Releasing},
		{"check with none free", Input{Action: "check", StartedAt: started}, domain.Releasing, false, &fakeSlots{}, ErrTasksBusy, false, "", domain.Releasing},
		{"check, the table fails", Input{Action: "check", StartedAt: started}, domain.Releasing, false,
			&fakeSlots{err: errors.New("ProvisionedThroughputExceededException")}, ErrStoreUnavailable, false, "", domain.Releasing},
		{"check of a superseded number takes no slot", Input{Action: "check", StartedAt: started}, domain.Cancelled, false, &fakeSlots{}, "", false, "", domain.Cancelled},
		{"wait takes no slot", Input{Action: "wait", TaskToken: "tok"}, domain.Releasing, false, &fakeSlots{}, "", false, "", domain.WaitingForUnassign},
		{"expire takes no slot", Input{Action: "expire"}, domain.WaitingForUnassign, false, &fakeSlots{}, "", false, "", domain.PendingApproval},
		{"fail takes no slot", Input{Action: "fail", Error: &StateError{Error: ErrTasksBusy}}, domain.Releasing, false, &fakeSlots{}, "", false, "", domain.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := &fakeZoom{pn: zoom.PhoneNumber{ID: "pn_1", Number: num}}
			if tt.assigned {
				z.pn.Assignee = &zoom.Assignee{ID: "u1", Name: "Dana Levi", Type: "user"}
			}
			tk, st := setup(tt.from, 1, z)
			tk.cfg.Slots = tt.slots
			in := tt.in
			in.CustomerID, in.Number, in.Attempt = "acme", num, 1
			_, err := tk.Handle(context.Background(), in)
			if errType(err) != tt.wantErr {
				t.Fatalf("%s: err %v, want %q", in.Action, err, tt.wantErr)
			}
			if asked := z.finds+len(z.removed) > 0; asked != tt.wantZoom {
				t.Errorf("Zoom asked: %v, want %v", asked, tt.wantZoom)
			}
			slot := ""
			switch {
			case tt.slots.acquired == 1 && tt.slots.returns == 1:
				slot = "returned"
			case tt.slots.acquired != 0 || tt.slots.returns != 0:
				slot = fmt.Sprintf("taken %d, given back %d", tt.slots.acquired, tt.slots.returns)
			}
			if slot != tt.wantSlot {
				t.Errorf("slot %q, want %q", slot, tt.wantSlot)
			}
			if got := cur(st); got.Status != tt.wantStatus || (tt.wantErr != "" && got.RemovalStarted) {
				t.Errorf("number %s, removal started %v; want %s, not started", got.Status, got.RemovalStarted, tt.wantStatus)
			}
		})
	}
}

// fakeQueue hands out turns a second apart from t0, or fails.
type fakeQueue struct {
	t0    time.Time
	err   error
	asked []string
}

func (f *fakeQueue) Reserve(_ context.Context, customerID string, n int) ([]time.Time, error) {
	f.asked = append(f.asked, fmt.Sprintf("%s×%d", customerID, n))
	if f.err != nil {
		return nil, f.err
	}
	return []time.Time{f.t0.Add(time.Duration(len(f.asked)-1) * time.Second)}, nil
}

// TestBusyCheckTakesATurn: a check that finds every slot held takes a turn
// at the back of the customer's start queue and answers when (busy), so
// the workflow waits for it rather than retrying blindly; without a queue,
// or when the queue fails, it answers Tasks.Busy as before.
func TestBusyCheckTakesATurn(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		action    Input
		free      int
		queue     *fakeQueue
		wantErr   string
		wantOut   string // the check's outcome and retry_at
		wantAsked string
	}{
		{"busy check takes a turn", Input{Action: "check"}, 0, &fakeQueue{t0: t0}, "", "busy 2026-12-02T05:00:00Z", "[acme×1]"},
		{"busy check without a queue", Input{Action: "check"}, 0, nil, ErrTasksBusy, "", ""},
		{"busy check, the queue fails", Input{Action: "check"}, 0, &fakeQueue{err: errors.New("throttled")}, ErrTasksBusy, "", "[acme×1]"},
		{"a check with a slot takes no turn", Input{Action: "check"}, 1, &fakeQueue{t0: t0}, "", "unassigned ", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := &fakeZoom{pn: zoom.PhoneNumber{ID: "pn_1", Number: num}}
			tk, _ := setup(domain.Releasing, 1, z)
			tk.cfg.Slots = &fakeSlots{free: tt.free}
			if tt.queue != nil {
				tk.cfg.Queue = tt.queue
			}
			in := tt.action
			in.CustomerID, in.Number, in.Attempt, in.StartedAt = "acme", num, 1, "2026-11-27T11:59:00Z"
			out, err := tk.Handle(context.Background(), in)
			if errType(err) != tt.wantErr {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if c, ok := out.(CheckOutput); ok && err == nil {
				if got := c.Outcome + " " + c.RetryAt; got != tt.wantOut {
					t.Errorf("check answered %q, want %q", got, tt.wantOut)
				}
			}
			if tt.queue != nil && fmt.Sprint(tt.queue.asked) != tt.wantAsked && !(tt.wantAsked == "[]" && len(tt.queue.asked) == 0) {
				t.Errorf("queue asked %v, want %s", tt.queue.asked, tt.wantAsked)
			}
		})
	}
}
