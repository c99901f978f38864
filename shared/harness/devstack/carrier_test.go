package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/demo"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

// TestCarrierModeUsesTheCarriersAccount starts the local system in carrier
// mode and approves the demo's two numbers: the simulator knows the
// carrier's own account, the unassigned number is removed from the
// customer's Zoom account through the Provider Exchange, the assigned one
// waits for its unbind, and Zoom is only ever asked with the carrier's
// account (Light calls: the carrier's view and the Provider Exchange; none
// of the customer-account calls, which are Medium). After the unbind the
// release completes: the seed scenario, with no customer authorization at
// all.
func TestCarrierModeUsesTheCarriersAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the AWS emulator (moto, Python); skipped in -short mode")
	}
	cfg := Defaults()
	cfg.Addr, cfg.Stage, cfg.Recheck = "127.0.0.1:0", "", time.Second
	cfg.ReleaseMode, cfg.CarrierCode = domain.ModeCarrier, 4242
	cfg.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if got := s.Sim.Carriers(); len(got) != 1 || got[0] != (zoomsim.AdminCarrier{AccountID: DefaultCarrierAccount, CarrierCode: 4242}) {
		t.Fatalf("the simulator's carriers: %+v; want %s with code 4242", got, DefaultCarrierAccount)
	}

	token := post(t, s.URL+"/local/token", "", `{"kind":"customer","tenant_id":"acme","sub":"alice"}`, http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(token, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token %s: %v", token, err)
	}
	post(t, s.URL+"/v1/numbers/release", tok.AccessToken,
		`{"numbers":["`+demo.Unassigned+`","`+demo.Assigned+`"]}`, http.StatusAccepted)

	free, busy := "+"+demo.Unassigned, "+"+demo.Assigned
	deadline := time.Now().Add(time.Minute)
	for {
		f, err1 := s.Store.GetNumber(ctx, "acme", free)
		b, err2 := s.Store.GetNumber(ctx, "acme", busy)
		if err1 == nil && err2 == nil && f.Status == domain.Released && b.Status == domain.WaitingForUnassign {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute: %s is %s (%q), %s is %s (%q); want RELEASED and WAITING_FOR_UNASSIGN",
				free, f.Status, f.Message, busy, b.Status, b.Message)
		}
		time.Sleep(100 * time.Millisecond)
	}
	inZoom := map[string]bool{}
	for _, n := range s.Sim.Numbers() {
		inZoom[n.Number] = true
	}
	if inZoom[free] || !inZoom[busy] {
		t.Fatalf("in the simulated Zoom: %v; want %s removed and %s kept", inZoom, free, busy)
	}
	if calls := s.Sim.Stats().Calls; calls[zoom.Medium] != 0 || calls[zoom.Light] < 3 {
		t.Fatalf("Zoom calls %v; want Light ones only (two checks and a removal at least)", calls)
	}

	// The rest of the seed: the customer unbinds the number in Zoom (the
	// console's unbind notifies us), and the release completes by itself.
	req, err := http.NewRequest(http.MethodDelete, s.URL+"/zoom-sim/v2/phone/users/u-dana/phone_numbers/"+busy, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("unbind %s: %d", busy, resp.StatusCode)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		b, err := s.Store.GetNumber(ctx, "acme", busy)
		if err == nil && b.Status == domain.Released {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the unbind %s is %s (%q); want RELEASED", busy, b.Status, b.Message)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Only the carrier's credentials were used: no customer ever
	// authorized the app, and every call went to the carrier's account.
	if g := s.Sim.Grants(); len(g) != 0 {
		t.Fatalf("customer authorizations in carrier mode: %+v; want none", g)
	}
	if calls := s.Sim.Stats().Calls; calls[zoom.Medium] != 0 {
		t.Fatalf("Zoom calls %v after the unbind; want Light ones only", calls)
	}
}

// post sends body to url (with a bearer token unless ""), expects status
// and returns the answer's body.
func post(t *testing.T, url, token, body string, status int) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("POST %s: %d %s; want %d", url, resp.StatusCode, b, status)
	}
	return b
}
