// Package env reads a function's configuration from its environment once, at
// start, and names every missing variable at once.
package env

import (
	"fmt"
	"os"
	"strings"
)

// Require returns the values of the named variables, or an error naming all
// that are unset or empty.
func Require(names ...string) (map[string]string, error) {
	vals := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		v := strings.TrimSpace(os.Getenv(n))
		if v == "" {
			missing = append(missing, n)
			continue
		}
		vals[n] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))
	}
	return vals, nil
}
