package zoomauth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomauth"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// sealer is a Sealer with a fresh key on the emulator's KMS.
func sealer(t *testing.T) *zoomauth.Sealer {
	t.Helper()
	srv := emulatortest.Server(t)
	k := kms.NewFromConfig(srv.AWSConfig(), func(o *kms.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })
	out, err := k.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	return &zoomauth.Sealer{KMS: k, KeyID: aws.ToString(out.KeyMetadata.Arn)}
}

// Sealed tokens open for their own account only, and never hold the tokens
// in the clear.
func TestSealOpensOnlyForItsAccount(t *testing.T) {
	ctx := context.Background()
	s := sealer(t)
	in := zoom.UserTokens{Access: "access-token-value", Refresh: "refresh-token-value", ExpiresAt: time.Now().Add(time.Hour).UTC()}
	b, err := s.Seal(ctx, "acct-1", in)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{in.Access, in.Refresh} {
		if containsBytes(b, secret) {
			t.Fatalf("sealed value holds %q in the clear", secret)
		}
	}
	out, err := s.Open(ctx, "acct-1", b)
	if err != nil || out.Access != in.Access || out.Refresh != in.Refresh || !out.ExpiresAt.Equal(in.ExpiresAt) {
		t.Fatalf("open: %+v, %v; want %+v", out, err, in)
	}
	if _, err := s.Open(ctx, "acct-2", b); err == nil {
		t.Fatal("a sealed value opened for another account")
	}
}

func containsBytes(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// rotatingApp is Zoom's token endpoint as far as refreshing goes: each
// refresh token works once, and a second use (even concurrent) fails.
type rotatingApp struct {
	mu        sync.Mutex
	live      string
	n         int
	refreshes atomic.Int32
	refused   atomic.Int32
}

func (a *rotatingApp) Refresh(_ context.Context, rt string) (zoom.UserTokens, error) {
	time.Sleep(20 * time.Millisecond) // Zoom takes a while; racers pile up
	a.mu.Lock()
	defer a.mu.Unlock()
	if rt != a.live {
		a.refused.Add(1)
		return zoom.UserTokens{}, &zoom.Error{Kind: zoom.NotConnected, Message: "Invalid Token!"}
	}
	a.refreshes.Add(1)
	a.n++
	a.live = "refresh-" + strconv.Itoa(a.n)
	return zoom.UserTokens{Access: "access-" + strconv.Itoa(a.n), Refresh: a.live, ExpiresAt: time.Now().Add(time.Hour)}, nil
}

// Twenty callers in four "function instances" (each its own Tokens) find
// the access token refused at once: exactly one refresh happens, nobody
// uses a spent refresh token, and all of them get the new access token.
func TestConcurrentRefreshRotatesOnce(t *testing.T) {
	ctx := context.Background()
	db, table := emulatortest.NewTable(t)
	grants := &zoomauth.Grants{DB: db, Table: table}
	box := sealer(t)
	app := &rotatingApp{live: "refresh-0"}
	sealed, err := box.Seal(ctx, "acct", zoom.UserTokens{Access: "access-0", Refresh: "refresh-0", ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := grants.Put(ctx, zoomauth.Grant{AccountID: "acct", CustomerID: "acme", Connected: true, Sealed: sealed,
		AccessExpires: time.Now().Add(time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	var instances []*zoomauth.Tokens
	for range 4 {
		instances = append(instances, &zoomauth.Tokens{Grants: grants, Box: box, Log: quiet(),
			App: func(context.Context) (zoomauth.Refresher, error) { return app, nil }})
	}
	var wg sync.WaitGroup
	got := make([]string, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			got[i], errs[i] = instances[i%4].AccessToken(ctx, "acct", "access-0")
		})
	}
	wg.Wait()
	for i := range 20 {
		if errs[i] != nil || got[i] != "access-1" {
			t.Errorf("caller %d: %q, %v; want access-1", i, got[i], errs[i])
		}
	}
	if r, f := app.refreshes.Load(), app.refused.Load(); r != 1 || f != 0 {
		t.Fatalf("%d refreshes, %d with a spent refresh token; want 1 and 0", r, f)
	}
	g, _, err := grants.Get(ctx, "acct")
	if err != nil || !g.Connected || g.LeaseOwner != "" {
		t.Fatalf("grant after the refresh: %+v, %v; want connected, lease free", g, err)
	}
	if toks, err := box.Open(ctx, "acct", g.Sealed); err != nil || toks.Refresh != "refresh-1" {
		t.Fatalf("stored refresh token %q, %v; want the live one", toks.Refresh, err)
	}
}

// A refresh token Zoom refuses ends the grant: the caller and the next
// ones are told "not connected", with the reason kept.
func TestRefusedRefreshEndsTheGrant(t *testing.T) {
	ctx := context.Background()
	db, table := emulatortest.NewTable(t)
	grants := &zoomauth.Grants{DB: db, Table: table}
	box := sealer(t)
	sealed, err := box.Seal(ctx, "acct", zoom.UserTokens{Access: "a", Refresh: "revoked", ExpiresAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := grants.Put(ctx, zoomauth.Grant{AccountID: "acct", Connected: true, Sealed: sealed}, 0); err != nil {
		t.Fatal(err)
	}
	tokens := &zoomauth.Tokens{Grants: grants, Box: box, Log: quiet(),
		App: func(context.Context) (zoomauth.Refresher, error) { return &rotatingApp{live: "other"}, nil }}
	for i := range 2 {
		_, err := tokens.AccessToken(ctx, "acct", "")
		if zoom.KindOf(err) != zoom.NotConnected {
			t.Fatalf("call %d: %v; want not connected", i, err)
		}
	}
	g, _, _ := grants.Get(ctx, "acct")
	if g.Connected || g.Reason == "" || len(g.Sealed) != 0 {
		t.Fatalf("grant = %+v; want ended with a reason and no tokens", g)
	}
	if _, err := tokens.AccessToken(ctx, "nobody", ""); zoom.KindOf(err) != zoom.NotConnected {
		t.Fatalf("an account that never connected: %v; want not connected", err)
	}
}

// A state is taken once: a second take finds nothing.
func TestStateIsSingleUse(t *testing.T) {
	ctx := context.Background()
	db, table := emulatortest.NewTable(t)
	grants := &zoomauth.Grants{DB: db, Table: table}
	want := zoomauth.PendingState{CustomerID: "acme", Subject: "alice", Expires: time.Now().Add(time.Minute).UTC().Truncate(time.Second)}
	if err := grants.PutState(ctx, "h1", want); err != nil {
		t.Fatal(err)
	}
	// The SDK's retry of a put whose answer was lost stores the same state
	// again: not a conflict. Another state under the same hash is one.
	if err := grants.PutState(ctx, "h1", want); err != nil {
		t.Fatalf("the same state again: %v; want it accepted", err)
	}
	other := want
	other.Subject = "mallory"
	if err := grants.PutState(ctx, "h1", other); !errors.Is(err, zoomauth.ErrChanged) {
		t.Fatalf("another state under the same hash: %v; want ErrChanged", err)
	}
	got, ok, err := grants.TakeState(ctx, "h1")
	if err != nil || !ok || got.CustomerID != want.CustomerID || got.Subject != want.Subject || !got.Expires.Equal(want.Expires) {
		t.Fatalf("take: %+v %v %v; want %+v", got, ok, err, want)
	}
	if _, ok, err := grants.TakeState(ctx, "h1"); ok || err != nil {
		t.Fatalf("second take: %v %v; want nothing", ok, err)
	}
	if err := grants.End(ctx, "never", 0, "x", time.Now()); !errors.Is(err, zoomauth.ErrChanged) {
		t.Fatalf("ending a grant that does not exist: %v; want ErrChanged", err)
	}
}
