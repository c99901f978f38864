package zoom_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

// loader is a scripted Credentials func: the i-th call answers results[i]
// (the last one repeats).
type loader struct {
	mu      sync.Mutex
	results []loadResult
	calls   int
}

type loadResult struct {
	id, secret string
	err        error
}

func (l *loader) load(context.Context) (string, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.results[min(l.calls, len(l.results)-1)]
	l.calls++
	return r.id, r.secret, r.err
}

func (l *loader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// simServer serves a simulator holding one assigned number in acct-a.
func simServer(t *testing.T) (*zoomsim.Sim, *httptest.Server) {
	t.Helper()
	sim := zoomsim.New(zoomsim.Config{ClientID: clientID, ClientSecret: clientSecret})
	sim.Put("acct-a", "+97239754569", &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, srv
}

func simConfig(srv *httptest.Server) zoom.Config {
	return zoom.Config{APIBase: srv.URL + "/zoom-sim/v2", OAuthURL: srv.URL + "/zoom-sim/oauth/token"}
}

func TestLazy(t *testing.T) {
	down := errors.New("secrets manager: service unavailable")
	good := loadResult{id: clientID, secret: clientSecret}
	type step struct {
		concurrent int       // FindNumber calls made at once (default 1)
		wantKind   zoom.Kind // "" means success
		wantLoads  int       // Credentials calls so far
	}
	tests := []struct {
		name    string
		results []loadResult
		steps   []step
	}{
		{"first call loads once, later calls reuse the client", []loadResult{good},
			[]step{{wantLoads: 1}, {wantLoads: 1}, {wantLoads: 1}}},
		{"20 concurrent first calls load once", []loadResult{good},
			[]step{{concurrent: 20, wantLoads: 1}, {wantLoads: 1}}},
		{"a failed load is retried by the next call", []loadResult{{err: down}, good},
			[]step{{wantKind: zoom.Unavailable, wantLoads: 1}, {wantLoads: 2}, {wantLoads: 2}}},
		{"loader error is Unavailable", []loadResult{{err: down}},
			[]step{{wantKind: zoom.Unavailable, wantLoads: 1}, {wantKind: zoom.Unavailable, wantLoads: 2}}},
		{"loader error quoting the secret is redacted", []loadResult{{id: clientID, secret: clientSecret, err: errors.New("boom " + clientSecret)}},
			[]step{{wantKind: zoom.Unavailable, wantLoads: 1}}},
		{"empty secret is BadCredentials", []loadResult{{id: clientID}},
			[]step{{wantKind: zoom.BadCredentials, wantLoads: 1}, {wantKind: zoom.BadCredentials, wantLoads: 2}}},
		{"empty client ID is BadCredentials", []loadResult{{id: " ", secret: clientSecret}},
			[]step{{wantKind: zoom.BadCredentials, wantLoads: 1}}},
		{"credentials Zoom refuses are loaded again next time", []loadResult{{id: clientID, secret: "wrong-secret"}, good},
			[]step{{wantKind: zoom.BadCredentials, wantLoads: 1}, {wantLoads: 2}, {wantLoads: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := simServer(t)
			ld := &loader{results: tt.results}
			lz := &zoom.Lazy{Config: simConfig(srv), Credentials: ld.load}
			for i, s := range tt.steps {
				n := max(s.concurrent, 1)
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						pn, err := lz.FindNumber(context.Background(), "acct-a", "+97239754569")
						if err != nil && strings.Contains(err.Error(), clientSecret) {
							t.Errorf("step %d: error quotes the client secret: %v", i, err)
						}
						if got := zoom.KindOf(err); got != s.wantKind || (err != nil) != (s.wantKind != "") {
							t.Errorf("step %d: err = %v (kind %q); want kind %q", i, err, got, s.wantKind)
						}
						if s.wantKind == "" && (pn.ID != "pn_97239754569" || pn.Assignee == nil || pn.Assignee.Name != "Dana") {
							t.Errorf("step %d: FindNumber = %+v", i, pn)
						}
						// In every Unavailable case the first load is the one that fails.
						if s.wantKind == zoom.Unavailable && !errors.Is(err, ld.results[0].err) {
							t.Errorf("step %d: %v does not wrap the loader's error", i, err)
						}
					})
				}
				wg.Wait()
				if got := ld.count(); got != s.wantLoads {
					t.Fatalf("step %d: Credentials calls = %d; want %d", i, got, s.wantLoads)
				}
			}
		})
	}
}

func TestLazyRemoveNumbers(t *testing.T) {
	sim, srv := simServer(t)
	sim.Put("acct-a", "+97239754571", nil)
	ld := &loader{results: []loadResult{{id: clientID, secret: clientSecret}}}
	lz := &zoom.Lazy{Config: simConfig(srv), Credentials: ld.load}
	if err := lz.RemoveNumbers(context.Background(), "acct-a", []string{"pn_97239754571"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range sim.Numbers() {
		if n.Number == "+97239754571" {
			t.Fatal("number still in the simulator after RemoveNumbers")
		}
	}
	if _, err := lz.FindNumber(context.Background(), "acct-a", "+97239754569"); err != nil {
		t.Fatal(err)
	}
	if ld.count() != 1 {
		t.Fatalf("Credentials calls = %d; want 1", ld.count())
	}
}

func TestLazyConfig(t *testing.T) {
	_, srv := simServer(t)
	tests := []struct {
		name     string
		lazy     *zoom.Lazy
		wantKind zoom.Kind
	}{
		{"invalid APIBase is Rejected",
			&zoom.Lazy{Config: zoom.Config{OAuthURL: srv.URL + "/zoom-sim/oauth/token"},
				Credentials: func(context.Context) (string, string, error) { return clientID, clientSecret, nil }},
			zoom.Rejected},
		{"nil Credentials uses Config's own",
			&zoom.Lazy{Config: func() zoom.Config {
				c := simConfig(srv)
				c.ClientID, c.ClientSecret = clientID, clientSecret
				return c
			}()},
			""},
		{"nil Credentials and no Config credentials", &zoom.Lazy{Config: simConfig(srv)}, zoom.BadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.lazy.FindNumber(context.Background(), "acct-a", "+97239754569")
			if zoom.KindOf(err) != tt.wantKind || (err != nil) != (tt.wantKind != "") {
				t.Fatalf("err = %v (kind %q); want kind %q", err, zoom.KindOf(err), tt.wantKind)
			}
			if err != nil && strings.Contains(err.Error(), clientSecret) {
				t.Fatalf("error quotes the client secret: %v", err)
			}
		})
	}
}

// TestLazyCarrierPeeringNumbers: the carrier's view through Lazy, and
// credentials Zoom refuses are loaded again on the next call.
func TestLazyCarrierPeeringNumbers(t *testing.T) {
	sim, srv := simServer(t)
	sim.AddCarrier("carrier-a", 8801)
	sim.PutPeering("acct-a", "+97239754571", 8801, nil)
	ld := &loader{results: []loadResult{{id: clientID, secret: "wrong"}, {id: clientID, secret: clientSecret}}}
	lz := &zoom.Lazy{Config: simConfig(srv), Credentials: ld.load}
	if _, err := lz.CarrierPeeringNumbers(context.Background(), "carrier-a", []string{"+97239754571"}); zoom.KindOf(err) != zoom.BadCredentials {
		t.Fatalf("with a wrong secret: %v; want BadCredentials", err)
	}
	got, err := lz.CarrierPeeringNumbers(context.Background(), "carrier-a", []string{"+97239754571"})
	if err != nil || !got["+97239754571"].Active || got["+97239754571"].Assigned {
		t.Fatalf("got %+v, %v; want the number, unassigned", got, err)
	}
	if ld.count() != 2 {
		t.Fatalf("Credentials calls = %d; want 2", ld.count())
	}
}
