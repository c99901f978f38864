package main

import (
	"testing"

	"numberrelease/shared/harness/devstack"
)

// TestListenAddr: make run listens on the loopback interface unless HOST
// asks for another address, which is then reported as exposed.
func TestListenAddr(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		want        string
		wantExposed bool
		wantErr     bool
	}{
		{name: "default", want: "127.0.0.1:8080"},
		{name: "PORT", env: map[string]string{"PORT": "9090"}, want: "127.0.0.1:9090"},
		{name: "HOST localhost", env: map[string]string{"HOST": "localhost"}, want: "localhost:8080"},
		{name: "HOST IPv6 loopback", env: map[string]string{"HOST": "::1", "PORT": "9090"}, want: "[::1]:9090"},
		{name: "HOST every interface", env: map[string]string{"HOST": "0.0.0.0"}, want: "0.0.0.0:8080", wantExposed: true},
		{name: "HOST every IPv6 interface", env: map[string]string{"HOST": "[::]", "PORT": "9090"}, want: "[::]:9090", wantExposed: true},
		{name: "HOST one interface", env: map[string]string{"HOST": "192.0.2.7"}, want: "192.0.2.7:8080", wantExposed: true},
		{name: "PORT not a number", env: map[string]string{"PORT": "http"}, wantErr: true},
		{name: "HOST a name", env: map[string]string{"HOST": "example.com"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, exposed, err := listenAddr(devstack.Defaults().Addr, func(k string) string { return tt.env[k] })
			if tt.wantErr {
				if err == nil {
					t.Fatalf("listenAddr = %q; want an error", addr)
				}
				return
			}
			if err != nil || addr != tt.want || exposed != tt.wantExposed {
				t.Fatalf("listenAddr = %q, exposed %v, %v; want %q, exposed %v", addr, exposed, err, tt.want, tt.wantExposed)
			}
		})
	}
}
