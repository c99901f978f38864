package config

import (
	"strings"
	"testing"
	"time"
)

func TestRequire(t *testing.T) {
	t.Setenv("NR_A", "a")
	t.Setenv("NR_B", " ")
	tests := []struct {
		name    string
		names   []string
		wantErr string
	}{
		{"present", []string{"NR_A"}, ""},
		{"blank and unset named together", []string{"NR_A", "NR_B", "NR_C"}, "missing environment variables: NR_B, NR_C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Require(tt.names...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got["NR_A"] != "a" {
				t.Fatalf("Require = %v, %v", got, err)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	vars := map[string]string{
		"ONE": "1", "DAY": "86400", "SPACED": " 30 ", "ZERO": "0", "NEG": "-5",
		"FRACTION": "1.5", "UNIT": "30s", "EMPTY": "", "HUGE": "9223372037",
	}
	tests := []struct {
		name string
		want time.Duration // 0 means an error
	}{
		{"ONE", time.Second},
		{"DAY", 24 * time.Hour},
		{"SPACED", 30 * time.Second},
		{"ZERO", 0},
		{"NEG", 0},
		{"FRACTION", 0},
		{"UNIT", 0},
		{"EMPTY", 0},
		{"MISSING", 0},
		{"HUGE", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Seconds(vars, tt.name)
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("Seconds = %v; want an error", got)
				}
				if !strings.Contains(err.Error(), tt.name) {
					t.Fatalf("error %q does not name %s", err, tt.name)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Seconds = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPositiveInt(t *testing.T) {
	vars := map[string]string{"TEN": "10", "SPACED": " 3 ", "ZERO": "0", "NEG": "-1", "WORD": "ten", "FRACTION": "2.5"}
	tests := []struct {
		name string
		want int // 0 means an error
	}{
		{"TEN", 10}, {"SPACED", 3}, {"ZERO", 0}, {"NEG", 0}, {"WORD", 0}, {"FRACTION", 0}, {"MISSING", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PositiveInt(vars, tt.name)
			if tt.want == 0 {
				if err == nil || !strings.Contains(err.Error(), tt.name) {
					t.Fatalf("PositiveInt = %d, %v; want an error naming %s", got, err, tt.name)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("PositiveInt = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestConcurrency(t *testing.T) {
	vars := map[string]string{"TEN": "10", "MAX": "1000", "OVER": "1001", "ZERO": "0", "WORD": "ten"}
	tests := []struct {
		name string
		want int // 0 means an error
	}{
		{"TEN", 10}, {"MAX", 1000}, {"OVER", 0}, {"ZERO", 0}, {"WORD", 0}, {"MISSING", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Concurrency(vars, tt.name)
			if tt.want == 0 {
				if err == nil || !strings.Contains(err.Error(), tt.name) {
					t.Fatalf("Concurrency = %d, %v; want an error naming %s", got, err, tt.name)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Concurrency = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
