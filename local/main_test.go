package main

import (
	"strings"
	"testing"

	"numberrelease/shared/devstack"
	"numberrelease/shared/tasks"
	"numberrelease/shared/zoom"
)

func TestReleaseConfig(t *testing.T) {
	tests := []struct {
		name               string
		mode, code, limits string
		wantMode           tasks.ReleaseMode
		wantCode           int
		wantLimits         zoom.Limits
		wantErr            string
	}{
		{name: "defaults", wantMode: tasks.ModeCustomer, wantLimits: zoom.ProLimits()},
		{name: "carrier", mode: "carrier", code: "4242", limits: "light=5,medium=3,heavy=1",
			wantMode: tasks.ModeCarrier, wantCode: 4242, wantLimits: zoom.Limits{Light: 5, Medium: 3, Heavy: 1}},
		{name: "carrier without code", mode: "carrier", wantErr: "needs CARRIER_CODE"},
		{name: "unknown mode", mode: "account", wantErr: "RELEASE_MODE"},
		{name: "bad code", mode: "carrier", code: "-3", wantErr: `CARRIER_CODE="-3"`},
		{name: "bad limits", limits: "fast", wantErr: "ZOOM_RATE_LIMITS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("RELEASE_MODE", tt.mode)
			t.Setenv("CARRIER_CODE", tt.code)
			t.Setenv("ZOOM_RATE_LIMITS", tt.limits)
			cfg := devstack.Defaults()
			err := releaseConfig(&cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ReleaseMode != tt.wantMode || cfg.CarrierCode != tt.wantCode || cfg.ZoomLimits != tt.wantLimits {
				t.Errorf("got mode %s, code %d, limits %v; want %s, %d, %v",
					cfg.ReleaseMode, cfg.CarrierCode, cfg.ZoomLimits, tt.wantMode, tt.wantCode, tt.wantLimits)
			}
		})
	}
}
