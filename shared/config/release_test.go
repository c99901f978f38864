package config

import (
	"strings"
	"testing"

	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

func TestReadRelease(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Release
		wantErr string
	}{
		{name: "defaults", want: Release{Mode: domain.ModeCustomer, Limits: zoom.ProLimits(), Share: 50}},
		{name: "carrier", env: map[string]string{"RELEASE_MODE": "carrier", "CARRIER_CODE": " 4242 ", "ZOOM_CARRIER_ACCOUNT_ID": " aBc-12_x ",
			"ZOOM_RATE_LIMITS": "light=5,medium=3,heavy=1", "ZOOM_RATE_SHARE": "100"},
			want: Release{Mode: domain.ModeCarrier, CarrierCode: 4242, CarrierAccountID: "aBc-12_x", Limits: zoom.Limits{Light: 5, Medium: 3, Heavy: 1}, Share: 100}},
		{name: "bad share", env: map[string]string{"ZOOM_RATE_SHARE": "0"}, wantErr: "ZOOM_RATE_SHARE"},
		{name: "carrier without code", env: map[string]string{"RELEASE_MODE": "carrier", "ZOOM_CARRIER_ACCOUNT_ID": "c"}, wantErr: "needs CARRIER_CODE"},
		{name: "carrier with code 0", env: map[string]string{"RELEASE_MODE": "carrier", "CARRIER_CODE": "0", "ZOOM_CARRIER_ACCOUNT_ID": "c"}, wantErr: "needs CARRIER_CODE"},
		{name: "carrier without its Zoom account", env: map[string]string{"RELEASE_MODE": "carrier", "CARRIER_CODE": "4242"}, wantErr: "needs ZOOM_CARRIER_ACCOUNT_ID"},
		{name: "carrier with a blank Zoom account", env: map[string]string{"RELEASE_MODE": "carrier", "CARRIER_CODE": "4242", "ZOOM_CARRIER_ACCOUNT_ID": "  "},
			wantErr: "needs ZOOM_CARRIER_ACCOUNT_ID"},
		{name: "a Zoom account id with a space", env: map[string]string{"ZOOM_CARRIER_ACCOUNT_ID": "a b"}, wantErr: `ZOOM_CARRIER_ACCOUNT_ID: account id "a b"`},
		{name: "unknown mode", env: map[string]string{"RELEASE_MODE": "account"}, wantErr: "RELEASE_MODE"},
		{name: "negative code", env: map[string]string{"CARRIER_CODE": "-3"}, wantErr: `CARRIER_CODE="-3"`},
		{name: "bad limits", env: map[string]string{"ZOOM_RATE_LIMITS": "fast"}, wantErr: "ZOOM_RATE_LIMITS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadRelease(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ReadRelease = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseReleaseMode(t *testing.T) {
	tests := []struct {
		mode    string
		want    domain.ReleaseMode
		wantErr bool
	}{
		{"", domain.ModeCustomer, false}, {"customer", domain.ModeCustomer, false}, {" Carrier ", domain.ModeCarrier, false}, {"partner", "", true},
	}
	for _, tt := range tests {
		got, err := ParseReleaseMode(tt.mode)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseReleaseMode(%q) = %q, %v", tt.mode, got, err)
		}
	}
}

func TestParseZoomLimits(t *testing.T) {
	tests := []struct {
		in      string
		want    zoom.Limits
		wantErr bool
	}{
		{"", zoom.ProLimits(), false},
		{"Pro", zoom.ProLimits(), false},
		{"business", zoom.BusinessLimits(), false},
		{"medium=8", zoom.Limits{Light: 20, Medium: 8, Heavy: 5}, false},
		{"light=30, medium=15,heavy=7", zoom.Limits{Light: 30, Medium: 15, Heavy: 7}, false},
		{"medium=0", zoom.Limits{}, true},
		{"medium", zoom.Limits{}, true},
		{"huge=3", zoom.Limits{}, true},
		{"enterprise-plus", zoom.Limits{}, true},
	}
	for _, tt := range tests {
		got, err := ParseZoomLimits(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseZoomLimits(%q) = %+v, %v; want %+v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestZoomBudget(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    zoom.Limits
		wantErr string
	}{
		{name: "half of pro by default", want: zoom.Limits{Light: 10, Medium: 5, Heavy: 2}},
		{name: "a quarter of business", env: map[string]string{"ZOOM_RATE_LIMITS": "business", "ZOOM_RATE_SHARE": "25%"}, want: zoom.Limits{Light: 10, Medium: 5, Heavy: 2}},
		{name: "all of it", env: map[string]string{"ZOOM_RATE_SHARE": " 100 "}, want: zoom.ProLimits()},
		{name: "never below one call a second", env: map[string]string{"ZOOM_RATE_SHARE": "1"}, want: zoom.Limits{Light: 1, Medium: 1, Heavy: 1}},
		{name: "over 100", env: map[string]string{"ZOOM_RATE_SHARE": "150"}, wantErr: "ZOOM_RATE_SHARE"},
		{name: "not a number", env: map[string]string{"ZOOM_RATE_SHARE": "half"}, wantErr: `"half"`},
		{name: "bad limits", env: map[string]string{"ZOOM_RATE_LIMITS": "fast"}, wantErr: "ZOOM_RATE_LIMITS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ZoomBudget(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ZoomBudget = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
