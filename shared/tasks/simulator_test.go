package tasks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

// TestCheckThenReleaseAgainstTheSimulator runs the check and release
// actions as the state machine does (the check's zoom_id passed to the
// release) with the real Zoom client against the simulator, in both release
// modes, with something happening in Zoom between the two steps. Customer
// mode works with tokens of the customer's account, carrier mode with
// tokens of the carrier's own account only.
func TestCheckThenReleaseAgainstTheSimulator(t *testing.T) {
	const carrier = 8801
	const carrierAccount = "zoom-carrier"
	dana := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	tests := []struct {
		name         string
		mode         domain.ReleaseMode
		code         int
		seed         func(s *zoomsim.Sim)
		between      func(s *zoomsim.Sim, zc *zoom.Client) // after the check, before the release
		wantOutcome  string
		wantCheckErr string // of the check (then no release)
		wantErr      string // of the release
		wantWhy      string
		wantGone     bool
		wantCalls    map[zoom.Label]int // Zoom API calls by label, check and release together
	}{
		{name: "customer: unassigned costs a Light lookup and a Medium delete", mode: domain.ModeCustomer,
			seed:        func(s *zoomsim.Sim) { s.Put("zoom-acme", num, nil) },
			wantOutcome: OutcomeUnassigned, wantWhy: "removed from the customer's Zoom account", wantGone: true,
			wantCalls: map[zoom.Label]int{zoom.Light: 1, zoom.Medium: 1}},
		{name: "customer: removed in Zoom meanwhile is success", mode: domain.ModeCustomer,
			seed:        func(s *zoomsim.Sim) { s.Put("zoom-acme", num, nil) },
			between:     func(s *zoomsim.Sim, _ *zoom.Client) { s.Put("zoom-other", num, nil) }, // moved out of the account: Zoom answers 400 100002 "Phone number not found"
			wantOutcome: OutcomeUnassigned, wantWhy: "removed from the customer's Zoom account", wantGone: true,
			wantCalls: map[zoom.Label]int{zoom.Light: 1, zoom.Medium: 1}},
		{name: "customer: assigned meanwhile is refused by Zoom", mode: domain.ModeCustomer,
			seed:        func(s *zoomsim.Sim) { s.Put("zoom-acme", num, nil) },
			between:     func(s *zoomsim.Sim, _ *zoom.Client) { s.Put("zoom-acme", num, dana) },
			wantOutcome: OutcomeUnassigned, wantErr: ErrZoomAssigned, wantCalls: map[zoom.Label]int{zoom.Light: 1, zoom.Medium: 1}},
		{name: "customer: not in the account costs one call", mode: domain.ModeCustomer,
			seed:        func(s *zoomsim.Sim) {},
			wantOutcome: OutcomeUnassigned, wantWhy: "no longer in the customer's Zoom account", wantGone: true,
			wantCalls: map[zoom.Label]int{zoom.Light: 1}},
		{name: "carrier: the carrier's number is removed (2 Light calls)", mode: domain.ModeCarrier, code: carrier,
			seed:        func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) },
			wantOutcome: OutcomeUnassigned, wantWhy: "removed from Zoom by the carrier (Provider Exchange, carrier code 8801)", wantGone: true,
			wantCalls: map[zoom.Label]int{zoom.Light: 2}},
		{name: "carrier: removed meanwhile is success", mode: domain.ModeCarrier, code: carrier,
			seed: func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) },
			between: func(_ *zoomsim.Sim, zc *zoom.Client) {
				if _, err := zc.RemovePeeringNumbers(context.Background(), carrierAccount, carrier, []string{num}); err != nil {
					t.Fatal(err)
				}
			},
			wantOutcome: OutcomeUnassigned, wantWhy: "removed from Zoom by the carrier", wantGone: true,
			wantCalls: map[zoom.Label]int{zoom.Light: 3}},
		{name: "carrier: assigned meanwhile", mode: domain.ModeCarrier, code: carrier,
			seed:        func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) },
			between:     func(s *zoomsim.Sim, _ *zoom.Client) { s.PutPeering("zoom-acme", num, carrier, dana) },
			wantOutcome: OutcomeUnassigned, wantErr: ErrZoomAssigned, wantCalls: map[zoom.Label]int{zoom.Light: 2}},
		{name: "carrier: assigned, as the carrier's view says, is refused by Zoom too", mode: domain.ModeCarrier, code: carrier,
			seed:        func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, dana) },
			wantOutcome: OutcomeAssigned, wantErr: ErrZoomAssigned, wantCalls: map[zoom.Label]int{zoom.Light: 2}},
		{name: "carrier: not in the carrier's view costs one call and removes nothing", mode: domain.ModeCarrier, code: carrier,
			seed: func(s *zoomsim.Sim) {
				s.PutPeering("zoom-acme", num, 7700, nil) // another carrier's
				s.PutPeering("zoom-x", "+97239754570", carrier, nil)
			},
			wantOutcome: OutcomeUnassigned, wantWhy: "the carrier's view of Zoom does not list it",
			wantCalls: map[zoom.Label]int{zoom.Light: 1}},
		{name: "carrier: unknown carrier code is refused", mode: domain.ModeCarrier, code: 4242,
			seed:        func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, carrier, nil) },
			wantOutcome: OutcomeUnassigned, wantErr: ErrZoomRejected, wantCalls: map[zoom.Label]int{zoom.Light: 2}},
		{name: "carrier: an account that is no carrier's is refused at the check", mode: domain.ModeCarrier, code: 4242,
			seed:         func(s *zoomsim.Sim) { s.PutPeering("zoom-acme", num, 4242, nil) },
			wantCheckErr: ErrZoomRejected, wantCalls: map[zoom.Label]int{zoom.Light: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := zoomsim.New(zoomsim.Config{ClientID: "id", ClientSecret: "secret",
				RateLimits: &zoomsim.RateLimits{Limits: zoom.BusinessLimits()}})
			// The accounts Zoom issued tokens for.
			var mu sync.Mutex
			tokens := map[string]bool{}
			h := sim.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/zoom-sim/oauth/token" {
					mu.Lock()
					tokens[r.URL.Query().Get("account_id")] = true
					mu.Unlock()
				}
				h.ServeHTTP(w, r)
			}))
			defer srv.Close()
			zc, err := zoom.New(zoom.Config{APIBase: srv.URL + "/zoom-sim/v2", OAuthURL: srv.URL + "/zoom-sim/oauth/token", ClientID: "id", ClientSecret: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			wantToken := "zoom-acme"
			if tt.mode == domain.ModeCarrier {
				wantToken = carrierAccount
				if tt.wantCheckErr == "" {
					sim.AddCarrier(carrierAccount, carrier)
				}
			}
			tt.seed(sim)
			tk, st := setup(domain.Releasing, 1, nil)
			tk.zoom = zc
			tk.cfg.Mode, tk.cfg.CarrierCode, tk.cfg.CarrierAccountID = tt.mode, tt.code, carrierAccount
			ctx := context.Background()

			out, err := tk.Handle(ctx, Input{Action: "check", CustomerID: "acme", Number: num, Attempt: 1, StartedAt: "2026-11-27T11:59:00Z"})
			if errType(err) != tt.wantCheckErr {
				t.Fatalf("check: %v; want %q", err, tt.wantCheckErr)
			}
			if err == nil {
				check := out.(CheckOutput)
				if check.Outcome != tt.wantOutcome {
					t.Fatalf("check = %+v", check)
				}
				if tt.between != nil {
					tt.between(sim, zc)
				}
				err = tk.ReleaseBatch(ctx, []Input{{CustomerID: "acme", Number: num, Attempt: 1, ZoomID: check.ZoomID}}, nil)[0]
				if errType(err) != tt.wantErr {
					t.Fatalf("release: %v; want %q", err, tt.wantErr)
				}
				if tt.wantErr == ErrZoomRejected && !strings.Contains(err.Error(), "Carrier not found") {
					t.Fatalf("rejection does not name Zoom's reason: %v", err)
				}
				changes := st.Changes()
				if tt.wantErr == "" && (cur(st).Status != domain.Released || !strings.Contains(changes[len(changes)-1].Why, tt.wantWhy)) {
					t.Fatalf("number %s, why %q; want RELEASED, %q", cur(st).Status, changes[len(changes)-1].Why, tt.wantWhy)
				}
			}
			inAccount := false
			for _, n := range sim.Numbers() {
				inAccount = inAccount || (n.Number == num && n.AccountID == "zoom-acme")
			}
			if tt.wantGone == inAccount {
				t.Fatalf("in the customer's Zoom account: %v; want %v", inAccount, !tt.wantGone)
			}
			if got := sim.Stats().Calls; !sameCalls(got, tt.wantCalls) {
				t.Fatalf("Zoom calls %v; want %v", got, tt.wantCalls)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(tokens) != 1 || !tokens[wantToken] {
				t.Fatalf("tokens for %v; want for %s only", tokens, wantToken)
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
