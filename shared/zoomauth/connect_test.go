package zoomauth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

type memStates map[string]PendingState

func (m memStates) PutState(_ context.Context, h string, s PendingState) error { m[h] = s; return nil }
func (m memStates) TakeState(_ context.Context, h string) (PendingState, bool, error) {
	s, ok := m[h]
	delete(m, h)
	return s, ok, nil
}

type memGrants map[string]Grant

func (m memGrants) Get(_ context.Context, a string) (Grant, bool, error) {
	g, ok := m[a]
	return g, ok, nil
}
func (m memGrants) Put(_ context.Context, g Grant, prev int) error {
	if m[g.AccountID].Version != prev {
		return ErrChanged
	}
	g.Version = prev + 1
	m[g.AccountID] = g
	return nil
}
func (m memGrants) End(_ context.Context, a string, _ int, reason string, now time.Time) error {
	g, ok := m[a]
	if !ok {
		return ErrChanged
	}
	g.Connected, g.Reason, g.Sealed, g.ChangedAt = false, reason, nil, now
	g.Version++
	m[a] = g
	return nil
}

type memCustomers map[string]domain.Customer

func (m memCustomers) GetCustomer(_ context.Context, id string) (domain.Customer, error) {
	c, ok := m[id]
	if !ok {
		return c, domain.ErrNotFound
	}
	return c, nil
}
func (m memCustomers) SetZoomAccount(_ context.Context, id, account string) error {
	for _, c := range m {
		if c.ZoomAccountID == account && c.ID != id {
			return domain.ErrConflict
		}
	}
	c := m[id]
	c.ZoomAccountID = account
	m[id] = c
	return nil
}

type plainBox struct{}

func (plainBox) Seal(_ context.Context, _ string, t zoom.UserTokens) ([]byte, error) {
	return []byte(t.Access + "|" + t.Refresh), nil
}
func (plainBox) Open(_ context.Context, _ string, b []byte) (zoom.UserTokens, error) {
	a, r, _ := strings.Cut(string(b), "|")
	return zoom.UserTokens{Access: a, Refresh: r}, nil
}

type fakeApp struct {
	account     string
	exchangeErr error
	revoked     []string
}

func (f *fakeApp) AuthorizeURL(redirect, state string) (string, error) {
	return "https://zoom.example/oauth/authorize?state=" + state, nil
}
func (f *fakeApp) Exchange(context.Context, string, string) (zoom.UserTokens, error) {
	return zoom.UserTokens{Access: "acc", Refresh: "ref", ExpiresAt: time.Now().Add(time.Hour)}, f.exchangeErr
}
func (f *fakeApp) Me(context.Context, string) (zoom.Me, error) {
	return zoom.Me{AccountID: f.account}, nil
}
func (f *fakeApp) Revoke(_ context.Context, tok string) error {
	f.revoked = append(f.revoked, tok)
	return nil
}

type noWaker struct{ woken []string }

func (w *noWaker) WakeNotConnected(_ context.Context, c string) (int, error) {
	w.woken = append(w.woken, c)
	return 0, nil
}

var alice = auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "alice"}

func TestComplete(t *testing.T) {
	tests := []struct {
		name     string
		by       auth.Principal // who completes (alice started)
		age      time.Duration  // how long after the start
		account  string         // what Zoom says authorized
		zoomErr  error
		code     string
		want     apperr.Code // "" = connected
		revoked  bool
		reusable bool // the state is still usable afterwards
	}{
		{"connects, account learned from Zoom", alice, time.Minute, "zoom-acme-2", nil, "c", "", false, false},
		{"another admin of the tenant", auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "bob"}, time.Minute, "zoom-acme", nil, "c", apperr.Forbidden, false, false},
		{"an admin of another tenant", auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "globex", Subject: "alice"}, time.Minute, "zoom-acme", nil, "c", apperr.Forbidden, false, false},
		{"expired state", alice, StateTTL + time.Second, "zoom-acme", nil, "c", apperr.Invalid, false, false},
		{"missing code: the state is kept", alice, time.Minute, "zoom-acme", nil, "", apperr.Invalid, false, true},
		{"Zoom refuses the code", alice, time.Minute, "zoom-acme", &zoom.Error{Kind: zoom.Rejected, Message: "Invalid authorization code"}, "c", apperr.ZoomRefused, false, false},
		{"account of another customer: refused and revoked", alice, time.Minute, "zoom-globex", nil, "c", apperr.Conflict, true, false},
		{"a provider", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc"}, time.Minute, "zoom-acme", nil, "c", apperr.Forbidden, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
			app := &fakeApp{account: tt.account, exchangeErr: tt.zoomErr}
			grants, states, waker := memGrants{}, memStates{}, &noWaker{}
			customers := memCustomers{"acme": {ID: "acme", ZoomAccountID: "zoom-acme"}, "globex": {ID: "globex", ZoomAccountID: "zoom-globex"}}
			c := &Connections{Grants: grants, States: states, Customers: customers, Box: plainBox{}, Waker: waker,
				App: func(context.Context) (OAuthApp, error) { return app, nil }, RedirectURL: "https://app.example/", Required: true,
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return now }}
			start, err := c.Authorize(context.Background(), alice)
			if err != nil {
				t.Fatal(err)
			}
			state := strings.TrimPrefix(start.URL, "https://zoom.example/oauth/authorize?state=")
			for k := range states {
				if strings.Contains(k, state) {
					t.Fatal("the state is stored in the clear")
				}
			}
			now = now.Add(tt.age)
			v, err := c.Complete(context.Background(), tt.by, tt.code, state)
			if tt.want != "" {
				if apperr.CodeOf(err) != tt.want {
					t.Fatalf("err = %v (%s); want %s", err, apperr.CodeOf(err), tt.want)
				}
				if _, ok := grants[tt.account]; ok && tt.account != "zoom-globex" {
					t.Fatalf("a refused callback stored a grant: %+v", grants[tt.account])
				}
				if got := len(app.revoked) > 0; got != tt.revoked {
					t.Fatalf("revoked at Zoom: %v; want %v", got, tt.revoked)
				}
				if _, ok := states[hashState(state)]; ok != tt.reusable {
					t.Fatalf("state still usable: %v; want %v", ok, tt.reusable)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != StatusConnected || v.AccountID != tt.account || v.ConnectedBy != "customer:acme/alice" || !v.Required {
				t.Fatalf("view = %+v", v)
			}
			if customers["acme"].ZoomAccountID != tt.account || len(waker.woken) != 1 {
				t.Fatalf("customer %+v, woken %v; want the account learned and the waits woken", customers["acme"], waker.woken)
			}
			if _, err := c.Complete(context.Background(), alice, "c", state); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("the state used twice: %v; want invalid", err)
			}
		})
	}
}

func TestDisconnect(t *testing.T) {
	app := &fakeApp{account: "zoom-acme"}
	grants := memGrants{"zoom-acme": {AccountID: "zoom-acme", CustomerID: "acme", Connected: true, Version: 1, Sealed: []byte("acc|ref")}}
	c := &Connections{Grants: grants, States: memStates{}, Box: plainBox{},
		Customers: memCustomers{"acme": {ID: "acme", ZoomAccountID: "zoom-acme"}},
		App:       func(context.Context) (OAuthApp, error) { return app, nil }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	v, err := c.Disconnect(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != StatusNotConnected || !strings.Contains(v.Reason, "disconnected by customer:acme/alice") {
		t.Fatalf("view = %+v", v)
	}
	if len(app.revoked) != 1 || app.revoked[0] != "ref" {
		t.Fatalf("revoked %v; want the refresh token", app.revoked)
	}
	if err := (&Revocations{Grants: grants, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}).Deauthorized(context.Background(), "unknown"); err != nil {
		t.Fatalf("app_deauthorized for an unknown account: %v; want ignored", err)
	}
	if !errors.Is(grants.End(context.Background(), "unknown", 0, "", time.Now()), ErrChanged) {
		t.Fatal("the fake must report an absent grant")
	}
}
