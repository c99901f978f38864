package tasks

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

// TestCheckThenReleaseAgainstTheSimulator runs the check and release
// actions as the state machine does (the check's zoom_id passed to the
// release) with the real Zoom client against the simulator, in both release
// modes, with something happening in Zoom between the two steps.
func TestCheckThenReleaseAgainstTheSimulator(t *testing.T) {
	const carrier = 8801
	dana := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	tests := []struct {
		name        string
		mode        domain.ReleaseMode
		code        int
		seed        func(s *zoomsim.Sim)
		between     func(s *zoomsim.Sim) // after the check, before the release
		wantOutcome string
		wantErr     string // of the release
		wantWhy     string
		wantGone    bool
		wantCalls   map[zoom.Label]int // Zoom API calls by label, check and release together
	}{
		{"customer: unassigned costs a Light lookup and a Medium delete", domain.ModeCustomer, 0,
			func(s *zoomsim.Sim) { s.Put("zoom-acme", num, nil) }, nil,
			OutcomeUnassigned, "", "removed from the customer's Zoom account", true, map[zoom.Label]int{zoom.Light: 1, zoom.Medium: 1}},
		{"customer: removed in Zoom meanwhile is success", domain.ModeCustomer, 0,
			func(s *zoomsim.Sim) { s.Put("zoom-acme", num, nil) },
			func(s *zoomsim.Sim) { s.Put("zoom-other", num, nil) }, // moved out of the account: Zoom answers 400 100002 "Phone number not found"
			OutcomeUnassigned, "", "removed from the customer's Zoom account", false, map[zoom.Label]int{zoom.Light: 1, zoom.Medium: 1}},
		{"customer: assigned meanwhile is refused by Zoom", domain.ModeCustomer, 0,
			func(s *zoomsim.Sim) { s.Put("zoom-acme", num, nil) },
			func(s *zoomsim.Sim) { s.Put("zoom-acme", num, dana) },
			OutcomeUnassigned, ErrZoomAssigned, "", false, map[zoom.Label]int{zoom.Light: 1, zoom.Medium: 1}},
		{"customer: not in the account costs one call", domain.ModeCustomer, 0,
			func(s *zoomsim.Sim) {}, nil,
			OutcomeUnassigned, "", "no longer in the customer's Zoom account", true, map[zoom.Label]int{zoom.Light: 1}},
		{"carrier: the carrier's number is removed (two Light calls)", domain.ModeCarrier, carrier,
			func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) }, nil,
			OutcomeUnassigned, "", "removed from Zoom by the carrier (Provider Exchange, carrier code 8801)", true,
			map[zoom.Label]int{zoom.Light: 2}},
		{"carrier: removed meanwhile is success", domain.ModeCarrier, carrier,
			func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) },
			func(s *zoomsim.Sim) { s.PutPeering("zoom-other", num, carrier, nil) },
			OutcomeUnassigned, "", "removed from Zoom by the carrier", false, map[zoom.Label]int{zoom.Light: 2}},
		{"carrier: assigned meanwhile", domain.ModeCarrier, carrier,
			func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) },
			func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, dana) },
			OutcomeUnassigned, ErrZoomAssigned, "", false, map[zoom.Label]int{zoom.Light: 2}},
		{"carrier: a number another carrier added is refused with the reason", domain.ModeCarrier, carrier,
			func(s *zoomsim.Sim) {
				s.PutPeering("zoom-acme", num, 7700, nil)
				s.PutPeering("zoom-x", "+97239754570", carrier, nil)
			}, nil,
			OutcomeUnassigned, ErrZoomRejected, "", false, map[zoom.Label]int{zoom.Light: 2}},
		{"carrier: unknown carrier code is refused", domain.ModeCarrier, 4242,
			func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) }, nil,
			OutcomeUnassigned, ErrZoomRejected, "", false, map[zoom.Label]int{zoom.Light: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := zoomsim.New(zoomsim.Config{ClientID: "id", ClientSecret: "secret",
				RateLimits: &zoomsim.RateLimits{Limits: zoom.BusinessLimits()}})
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			zc, err := zoom.New(zoom.Config{APIBase: srv.URL + "/zoom-sim/v2", OAuthURL: srv.URL + "/zoom-sim/oauth/token", ClientID: "id", ClientSecret: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			tt.seed(sim)
			tk, st := setup(domain.Releasing, 1, nil)
			tk.zoom = zc
			tk.cfg.Mode, tk.cfg.CarrierCode = tt.mode, tt.code
			ctx := context.Background()

			out, err := tk.Handle(ctx, Input{Action: "check", CustomerID: "acme", Number: num, Attempt: 1, StartedAt: "2026-11-27T11:59:00Z"})
			if err != nil {
				t.Fatal(err)
			}
			check := out.(CheckOutput)
			if check.Outcome != tt.wantOutcome {
				t.Fatalf("check = %+v", check)
			}
			if tt.between != nil {
				tt.between(sim)
			}
			err = tk.ReleaseBatch(ctx, []Input{{CustomerID: "acme", Number: num, Attempt: 1, ZoomID: check.ZoomID}})[0]
			if errType(err) != tt.wantErr {
				t.Fatalf("release: %v; want %q", err, tt.wantErr)
			}
			if tt.wantErr == ErrZoomRejected && !strings.Contains(err.Error(), "not added by this carrier") && !strings.Contains(err.Error(), "Carrier not found") {
				t.Fatalf("rejection does not name Zoom's reason: %v", err)
			}
			changes := st.Changes()
			if tt.wantErr == "" && (cur(st).Status != domain.Released || !strings.Contains(changes[len(changes)-1].Why, tt.wantWhy)) {
				t.Fatalf("number %s, why %q; want RELEASED, %q", cur(st).Status, changes[len(changes)-1].Why, tt.wantWhy)
			}
			inAccount := false
			for _, n := range sim.Numbers() {
				inAccount = inAccount || (n.Number == num && n.AccountID == "zoom-acme")
			}
			if tt.wantGone == inAccount && (tt.wantGone || tt.between == nil) {
				t.Fatalf("in the customer's Zoom account: %v; want %v", inAccount, !tt.wantGone)
			}
			if got := sim.Stats().Calls; !sameCalls(got, tt.wantCalls) {
				t.Fatalf("Zoom calls %v; want %v", got, tt.wantCalls)
			}
		})
	}
}

func sameCalls(got, want map[zoom.Label]int) bool {
	for _, l := range []zoom.Label{zoom.Light, zoom.Medium, zoom.Heavy} {
		if got[l] != want[l] {
			return false
		}
	}
	return true
}
