// Package apispec holds the service's OpenAPI 3 document: the API contract
// carriers and customers read (openapi.yaml). The harness checks the API's
// answers against it (shared/harness/apicheck).
package apispec

import (
	"bytes"
	_ "embed"
)

//go:embed openapi.yaml
var document []byte

// ContentType is the media type to serve Document with.
const ContentType = "application/yaml"

// Document returns the raw OpenAPI document (YAML), for serving at /openapi.yaml.
func Document() []byte {
	return bytes.Clone(document)
}
