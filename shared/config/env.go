package config

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
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

// Seconds reads vars[name] as a positive whole number of seconds, e.g. a
// value returned by Require. The error names the variable.
func Seconds(vars map[string]string, name string) (time.Duration, error) {
	v := strings.TrimSpace(vars[name])
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64/int64(time.Second) {
		return 0, fmt.Errorf("environment variable %s=%q is not a positive whole number of seconds", name, v)
	}
	return time.Duration(n) * time.Second, nil
}

// OptionalSeconds reads the variable name through getenv as Seconds does;
// unset or empty is 0 (the caller's default).
func OptionalSeconds(getenv func(string) string, name string) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0, nil
	}
	return Seconds(map[string]string{name: v}, name)
}

// PositiveInt reads vars[name] as a whole number of at least 1, e.g. a
// value returned by Require. The error names the variable.
func PositiveInt(vars map[string]string, name string) (int, error) {
	v := strings.TrimSpace(vars[name])
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("environment variable %s=%q is not a whole number of at least 1", name, v)
	}
	return n, nil
}

// Concurrency reads vars[name] as a concurrency cap: a whole number from 1
// to MaxReleaseTasksConcurrency. The error names the variable.
func Concurrency(vars map[string]string, name string) (int, error) {
	v := strings.TrimSpace(vars[name])
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxReleaseTasksConcurrency {
		return 0, fmt.Errorf("environment variable %s=%q is not a whole number from 1 to %d", name, v, MaxReleaseTasksConcurrency)
	}
	return n, nil
}
