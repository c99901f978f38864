package apispec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Route is one operation of the document: an HTTP method on a path
// template ("/v1/numbers/{number}").
type Route struct {
	Method, Path string
}

// localPrefixes are the paths only the local runner serves (the local
// token issuer, the Zoom simulator, its health check); they are documented
// for local use and never deployed.
var localPrefixes = []string{"/local", "/zoom-sim", "/healthz"}

// Deployed returns the document's operations that the deployed API serves,
// sorted by path then method: every operation but the local runner's.
func Deployed() ([]Route, error) {
	doc, err := openapi3.NewLoader().LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("apispec: parse openapi.yaml: %w", err)
	}
	var routes []Route
	for _, path := range doc.Paths.InMatchingOrder() {
		if IsLocal(path) {
			continue
		}
		for method := range doc.Paths.Value(path).Operations() {
			routes = append(routes, Route{Method: method, Path: path})
		}
	}
	slices.SortFunc(routes, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return routes, nil
}

// IsLocal reports whether a path belongs to the local runner only.
func IsLocal(path string) bool {
	for _, p := range localPrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}
