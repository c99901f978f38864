package zoomsim_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"testing"

	"numberrelease/shared/harness/testclock"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomsig"
)

func TestUnbind(t *testing.T) {
	const num = "+97239754569"
	tests := []struct {
		name     string
		assignee zoom.Assignee
		path     string
		want     int
	}{
		{"user by id", zoom.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"},
			"/zoom-sim/v2/phone/users/u1/phone_numbers/pn_97239754569", http.StatusNoContent},
		{"user by encoded number", zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"},
			"/zoom-sim/v2/phone/users/u1/phone_numbers/%2B97239754569", http.StatusNoContent},
		{"user by raw number", zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"},
			"/zoom-sim/v2/phone/users/u1/phone_numbers/+97239754569", http.StatusNoContent},
		{"user by number without plus", zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"},
			"/zoom-sim/v2/phone/users/u1/phone_numbers/97239754569", http.StatusNoContent},
		{"common area", zoom.Assignee{ID: "ca1", Name: "Lobby", Type: "commonArea"},
			"/zoom-sim/v2/phone/common_areas/ca1/phone_numbers/pn_97239754569", http.StatusNoContent},
		{"call queue", zoom.Assignee{ID: "cq1", Name: "Support", Type: "callQueue"},
			"/zoom-sim/v2/phone/call_queues/cq1/phone_numbers/pn_97239754569", http.StatusNoContent},
		{"auto receptionist", zoom.Assignee{ID: "ar1", Name: "Main IVR", Type: "autoReceptionist"},
			"/zoom-sim/v2/phone/auto_receptionists/ar1/phone_numbers/pn_97239754569", http.StatusNoContent},
		{"wrong owner type", zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"},
			"/zoom-sim/v2/phone/call_queues/u1/phone_numbers/pn_97239754569", http.StatusNotFound},
		{"wrong owner id", zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"},
			"/zoom-sim/v2/phone/users/u2/phone_numbers/pn_97239754569", http.StatusNotFound},
		{"unknown number", zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"},
			"/zoom-sim/v2/phone/users/u1/phone_numbers/pn_97239754570", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.Put("acct-a", num, &tt.assignee)
			r := e.do(t, http.MethodDelete, tt.path, e.token(t, "acct-a"), "")
			if r.status != tt.want {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.want)
			}
			n, _ := find(e.sim, num)
			got := e.hook.deliveries()
			if tt.want != http.StatusNoContent {
				if code, _ := r.zoomErr(t); code != zoom.CodeNotFound {
					t.Fatalf("code = %d", code)
				}
				if n.Assignee == nil || len(got) != 0 {
					t.Fatalf("failed unbind changed state: assignee %v, %d notifications", n.Assignee, len(got))
				}
				return
			}
			if n.Assignee != nil {
				t.Fatalf("still assigned to %+v", n.Assignee)
			}
			if len(got) != 1 {
				t.Fatalf("%d notifications; want exactly 1", len(got))
			}
			checkNotification(t, got[0], e.clock.Now().Unix(), tt.assignee)
		})
	}
	t.Run("not assigned any more", func(t *testing.T) {
		e := newEnv(t)
		e.sim.Put("acct-a", num, nil)
		if r := e.do(t, http.MethodDelete, "/zoom-sim/v2/phone/users/u1/phone_numbers/pn_97239754569", e.token(t, "acct-a"), ""); r.status != http.StatusNotFound {
			t.Fatalf("status = %d", r.status)
		}
		if n := len(e.hook.deliveries()); n != 0 {
			t.Fatalf("%d notifications", n)
		}
	})
	t.Run("from the Zoom web portal, without an API token", func(t *testing.T) {
		e := newEnv(t)
		e.sim.Put("acct-a", num, &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"})
		if r := e.do(t, http.MethodDelete, "/zoom-sim/v2/phone/users/u1/phone_numbers/%2B97239754569", "", ""); r.status != http.StatusNoContent {
			t.Fatalf("status = %d (%s)", r.status, r.body)
		}
		if n, _ := find(e.sim, num); n.Assignee != nil || len(e.hook.deliveries()) != 1 {
			t.Fatalf("portal unbind: assignee %v, %d notifications", n.Assignee, len(e.hook.deliveries()))
		}
	})
	t.Run("an invalid API token is refused", func(t *testing.T) {
		e := newEnv(t)
		e.sim.Put("acct-a", num, &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"})
		if r := e.do(t, http.MethodDelete, "/zoom-sim/v2/phone/users/u1/phone_numbers/pn_97239754569", "not-a-token", ""); r.status != http.StatusUnauthorized {
			t.Fatalf("status = %d", r.status)
		}
		if n, _ := find(e.sim, num); n.Assignee == nil {
			t.Fatal("refused unbind changed the number")
		}
	})
	t.Run("other account", func(t *testing.T) {
		e := newEnv(t)
		e.sim.Put("acct-b", num, &zoom.Assignee{ID: "u1", Type: "user"})
		if r := e.do(t, http.MethodDelete, "/zoom-sim/v2/phone/users/u1/phone_numbers/pn_97239754569", e.token(t, "acct-a"), ""); r.status != http.StatusNotFound {
			t.Fatalf("status = %d", r.status)
		}
	})
}

// checkNotification verifies the signature and exact shape of one delivery.
func checkNotification(t *testing.T, d delivery, now int64, prev zoom.Assignee) {
	t.Helper()
	if ct := d.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	ts := d.header.Get(zoomsig.HeaderTimestamp)
	if ts != strconv.FormatInt(now, 10) {
		t.Errorf("timestamp = %q; want %d", ts, now)
	}
	clock := testclock.New()
	if err := zoomsig.Verify([]byte(webhookSecret), d.header.Get(zoomsig.HeaderSignature), ts, d.body, clock.Now(), zoomsig.DefaultTolerance); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal(d.body, &body); err != nil {
		t.Fatalf("body %s: %v", d.body, err)
	}
	prevJSON := map[string]any{"id": prev.ID, "name": prev.Name, "type": prev.Type}
	if prev.ExtensionNumber != "" {
		prevJSON["extension_number"] = prev.ExtensionNumber
	}
	want := map[string]any{
		"event":    "number_release.phone_number.unassigned",
		"event_ts": float64(now * 1000),
		"payload": map[string]any{
			"account_id": "acct-a",
			"object": map[string]any{
				"phone_number":      "+97239754569",
				"phone_number_id":   "pn_97239754569",
				"previous_assignee": prevJSON,
			},
		},
	}
	if !reflect.DeepEqual(body, want) {
		t.Fatalf("body = %s\nwant %v", d.body, want)
	}
}

func TestUnbindDeliveryFailureStillUnbinds(t *testing.T) {
	for _, tt := range []struct {
		name string
		url  func(*testing.T) string
	}{
		{"webhook answers 500", func(t *testing.T) string { return newWebhook(t, http.StatusInternalServerError).srv.URL }},
		{"webhook unreachable", func(t *testing.T) string {
			wh := newWebhook(t, http.StatusOK)
			wh.srv.Close()
			return wh.srv.URL
		}},
		{"no webhook configured", func(*testing.T) string { return "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := zoomsim.New(zoomsim.Config{ClientID: clientID, ClientSecret: clientSecret, WebhookURL: tt.url(t)})
			e := &env{sim: sim, clock: testclock.New()}
			e.srv = newServer(t, sim)
			sim.Put("acct-a", "+97239754569", &zoom.Assignee{ID: "u1", Type: "user"})
			if r := e.do(t, http.MethodDelete, "/zoom-sim/v2/phone/users/u1/phone_numbers/pn_97239754569", e.token(t, "acct-a"), ""); r.status != http.StatusNoContent {
				t.Fatalf("status = %d (%s)", r.status, r.body)
			}
			if n, _ := find(sim, "+97239754569"); n.Assignee != nil {
				t.Fatal("still assigned")
			}
		})
	}
}
