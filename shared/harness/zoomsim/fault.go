package zoomsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"numberrelease/shared/zoom"
)

// apiPrefix is where faults apply.
const apiPrefix = "/zoom-sim/v2/"

// maxLatencyMS bounds an injected latency (one minute).
const maxLatencyMS = 60_000

// Fault affects the next Count API calls (paths under /zoom-sim/v2 that
// start with PathPrefix, when set): each is delayed by Latency, then fails
// with Status (when set) or is served normally (a latency-only fault).
// Count -1 means until cleared; a Fault with neither Status nor Latency, or
// Count 0, clears. A 429 or 5xx carries Retry-After when RetryAfter is
// positive.
type Fault struct {
	Status     int
	Count      int
	PathPrefix string
	RetryAfter time.Duration
	Latency    time.Duration
}

// active reports whether f does anything.
func (f Fault) active() bool { return (f.Status != 0 || f.Latency > 0) && f.Count != 0 }

// SetFault replaces the current fault.
func (s *Sim) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !f.active() {
		f = Fault{}
	}
	s.fault = f
}

// takeFault consumes one use of the fault if it applies to path.
func (s *Sim) takeFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if !f.active() || !strings.HasPrefix(path, apiPrefix) || !strings.HasPrefix(path, f.PathPrefix) {
		return Fault{}, false
	}
	if s.fault.Count > 0 {
		s.fault.Count--
		if s.fault.Count == 0 {
			s.fault = Fault{}
		}
	}
	return f, true
}

// withFaults answers API calls with the injected fault while one applies.
func (s *Sim) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := s.takeFault(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done(): // the caller gave up
				t.Stop()
				return
			}
		}
		switch {
		case f.Status == 0:
			next.ServeHTTP(w, r)
		case f.Status == http.StatusTooManyRequests:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			}
			writeZoomError(w, f.Status, zoom.CodeRateLimited,
				"You have reached the maximum per-second rate limit for this API. Try again later.")
		case f.Status >= 500:
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
			}
			writeZoomError(w, f.Status, f.Status, fmt.Sprintf("%s (simulated fault).", http.StatusText(f.Status)))
		default:
			writeZoomError(w, f.Status, f.Status, fmt.Sprintf("%s (simulated fault).", http.StatusText(f.Status)))
		}
	})
}

// faultBody is the JSON form of a Fault on the admin endpoint.
type faultBody struct {
	Status            int    `json:"status"`
	Count             *int   `json:"count,omitempty"`
	PathPrefix        string `json:"path_prefix,omitempty"`
	RetryAfterSeconds int    `json:"retry_after_seconds"`
	LatencyMS         int    `json:"latency_ms"`
}

// handleFaultGet is GET /zoom-sim/admin/faults: the current fault, if any.
func (s *Sim) handleFaultGet(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	count := f.Count
	writeJSON(w, http.StatusOK, "application/json", faultBody{
		Status: f.Status, Count: &count, PathPrefix: f.PathPrefix, RetryAfterSeconds: int(f.RetryAfter / time.Second),
		LatencyMS: int(f.Latency / time.Millisecond),
	})
}

// handleFaultSet is POST /zoom-sim/admin/faults with
// {"status","count","path_prefix","retry_after_seconds","latency_ms"};
// count defaults to 1, -1 means until cleared; status may be left out (0)
// when latency_ms delays calls without failing them.
func (s *Sim) handleFaultSet(w http.ResponseWriter, r *http.Request) {
	var in faultBody
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	count := 1
	if in.Count != nil {
		count = *in.Count
	}
	var bad []fieldProblem
	if (in.Status < 400 || in.Status > 599) && (in.Status != 0 || in.LatencyMS <= 0) {
		bad = append(bad, fieldProblem{Field: "status", Reason: "must be an HTTP error status (400-599), or absent with latency_ms"})
	}
	if in.LatencyMS < 0 || in.LatencyMS > maxLatencyMS {
		bad = append(bad, fieldProblem{Field: "latency_ms", Reason: fmt.Sprintf("must be 0 to %d", maxLatencyMS)})
	}
	if count < -1 || count == 0 {
		bad = append(bad, fieldProblem{Field: "count", Reason: "must be -1 (until cleared) or at least 1"})
	}
	if in.PathPrefix != "" && !strings.HasPrefix(in.PathPrefix, "/zoom-sim/v2") {
		bad = append(bad, fieldProblem{Field: "path_prefix", Reason: "must start with /zoom-sim/v2"})
	}
	if in.RetryAfterSeconds < 0 {
		bad = append(bad, fieldProblem{Field: "retry_after_seconds", Reason: "must not be negative"})
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid fields", bad...)
		return
	}
	s.SetFault(Fault{Status: in.Status, Count: count, PathPrefix: in.PathPrefix,
		RetryAfter: time.Duration(in.RetryAfterSeconds) * time.Second, Latency: time.Duration(in.LatencyMS) * time.Millisecond})
	w.WriteHeader(http.StatusNoContent)
}

// handleFaultClear is DELETE /zoom-sim/admin/faults.
func (s *Sim) handleFaultClear(w http.ResponseWriter, _ *http.Request) {
	s.SetFault(Fault{})
	w.WriteHeader(http.StatusNoContent)
}
