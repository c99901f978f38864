package apispec

import (
	"slices"
	"testing"
)

func TestDeployed(t *testing.T) {
	routes, err := Deployed()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []Route{
		{"POST", "/provider/v1/release-requests"},
		{"GET", "/v1/numbers/{number}"},
		{"GET", "/v1/zoom/connection"},
		{"POST", "/v1/zoom/connection/authorize"},
		{"POST", "/zoom/webhook"},
	} {
		if !slices.Contains(routes, want) {
			t.Errorf("deployed routes lack %v: %v", want, routes)
		}
	}
	for _, r := range routes {
		if IsLocal(r.Path) {
			t.Errorf("local-only route %v is deployed", r)
		}
	}
}
