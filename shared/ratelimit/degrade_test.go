package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsratelimit "github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/pause"
	"numberrelease/shared/ratelimit"
	"numberrelease/shared/table"
	"numberrelease/shared/zoom"
)

// The tests in this file run in testing/synctest bubbles: time is virtual,
// so a table that takes seconds per write costs the test nothing, and the
// assertions are about what the limiter does, not how fast the machine is.

// errHang makes a slowStore write hang until its context ends.
var errHang = errors.New("no answer")

// slowStore is an UpdateItemAPI whose ADD is atomic, as DynamoDB's is, and
// whose writes take latency(write number): half on the way to the table
// (where the ADD is applied), half back. While fail (when set) returns an
// error for a write's sending time, the write fails with it after the same
// latency instead, or hangs until its context ends (errHang).
type slowStore struct {
	latency func(write int64) time.Duration
	fail    func(sent time.Time) error

	writes atomic.Int64 // UpdateItem calls
	mu     sync.Mutex
	counts map[int64]int64 // window → count
	last   int64           // window of the last ADD applied
}

func newSlowStore(latency func(int64) time.Duration, fail func(time.Time) error) *slowStore {
	return &slowStore{latency: latency, fail: fail, counts: map[int64]int64{}}
}

func fixed(d time.Duration) func(int64) time.Duration { return func(int64) time.Duration { return d } }

func (s *slowStore) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	i := s.writes.Add(1)
	var failure error
	if s.fail != nil {
		failure = s.fail(time.Now())
	}
	if errors.Is(failure, errHang) {
		<-ctx.Done()
		return nil, opError(&aws.RequestCanceledError{Err: ctx.Err()})
	}
	half := s.latency(i) / 2
	if err := pause.For(ctx, half); err != nil {
		return nil, opError(&aws.RequestCanceledError{Err: err})
	}
	if failure != nil {
		if err := pause.For(ctx, half); err != nil {
			return nil, opError(&aws.RequestCanceledError{Err: err})
		}
		return nil, opError(failure)
	}
	window, err := strconv.ParseInt(in.Key[table.AttrSK].(*types.AttributeValueMemberS).Value, 10, 64)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.counts[window]++
	n := s.counts[window]
	s.last = window
	s.mu.Unlock()
	if err := pause.For(ctx, half); err != nil {
		return nil, opError(&aws.RequestCanceledError{Err: err})
	}
	return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{
		"n": &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)},
	}}, nil
}

// granted returns the slots the table granted (the first limit ADDs of
// each window) and the windows from first to last that granted fewer.
func (s *slowStore) granted(limit int64, first, last int64) (slots int64, short []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.counts {
		slots += min(n, limit)
	}
	for w := first; w <= last; w++ {
		if s.counts[w] < limit {
			short = append(short, w)
		}
	}
	return slots, short
}

func (s *slowStore) lastWindow() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// opError wraps err as the SDK does.
func opError(err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "UpdateItem", Err: err}
}

// admissions records when each Wait returned nil, that is when its Zoom
// call is made.
type admissions struct {
	mu  sync.Mutex
	per map[int64]int // Unix second → calls
	all []time.Time
}

func (a *admissions) add(at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.per == nil {
		a.per = map[int64]int{}
	}
	a.per[at.Unix()]++
	a.all = append(a.all, at)
}

// overLimit returns the whole-second windows with more than limit calls.
func (a *admissions) overLimit(limit int) map[int64]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	over := map[int64]int{}
	for sec, n := range a.per {
		if n > limit {
			over[sec] = n
		}
	}
	return over
}

func newLimiter(t *testing.T, store ratelimit.UpdateItemAPI, limits zoom.Limits) *ratelimit.DynamoDB {
	t.Helper()
	l, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: store, Table: "t", Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSlowTableLoneCallerIsAdmitted is the case: with about a
// second per DynamoDB write nobody was admitted (every answer came after
// its window, and the next write again). A lone caller on an idle account
// is admitted within the maximum wait, its call made in the window its slot
// belongs to and before the guard; a warm process aims its one write right.
func TestSlowTableLoneCallerIsAdmitted(t *testing.T) {
	tests := []struct {
		name      string
		latency   time.Duration
		coldWrite int64 // most writes the first Wait of a process may take
	}{
		{"1.1 s per write", 1100 * time.Millisecond, 2},
		// Beyond the 2 s write timeout: one write is abandoned, one
		// answers too late (and teaches the latency), one is aimed right.
		{"3 s per write", 3 * time.Second, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := newSlowStore(fixed(tt.latency), nil)
				l := newLimiter(t, store, zoom.Limits{Medium: 10})
				time.Sleep(300 * time.Millisecond) // ask mid-window
				for _, pass := range []struct {
					name      string
					maxWrites int64
				}{{"cold process", tt.coldWrite}, {"warm process", 1}} {
					before, start := store.writes.Load(), time.Now()
					if err := l.Wait(context.Background(), "acct", zoom.Medium); err != nil {
						t.Fatalf("%s: Wait: %v; want a slot within the maximum wait", pass.name, err)
					}
					now, writes := time.Now(), store.writes.Load()-before
					t.Logf("%s: admitted after %s with %d writes", pass.name, now.Sub(start), writes)
					if now.Sub(start) > ratelimit.DefaultMaxWait {
						t.Errorf("%s: admitted after %s; maximum wait %s", pass.name, now.Sub(start), ratelimit.DefaultMaxWait)
					}
					slot := store.lastWindow()
					if now.Unix() != slot || now.Sub(time.Unix(slot, 0)) > time.Second-ratelimit.DefaultGuard {
						t.Errorf("%s: call made at %s into second %d; the slot is in second %d, usable for %s",
							pass.name, now.Sub(time.Unix(now.Unix(), 0)), now.Unix(), slot, time.Second-ratelimit.DefaultGuard)
					}
					if writes > pass.maxWrites {
						t.Errorf("%s: %d writes; want at most %d", pass.name, writes, pass.maxWrites)
					}
					time.Sleep(5*time.Second + 300*time.Millisecond)
				}
			})
		})
	}
}

// simTransport hands the Zoom client's requests to the simulator in
// process, each after transit (the time a request takes to reach Zoom).
type simTransport struct {
	h       http.Handler
	transit time.Duration
}

func (s simTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(s.transit)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestSlowTableManyCallersKeepTheRate: 200 (or 20) callers (executions, each
// retrying a Throttled after its RetryAfter, as the workflow does) make
// Zoom lookups for a minute through the real client, paced by the limiter,
// against the simulator enforcing the same limit in whole-second windows.
// With a table taking 200 ms (or more) per write the admitted rate stays
// at least half the limit, and Zoom never counts more than the limit in a
// second (it answers no 429).
func TestSlowTableManyCallersKeepTheRate(t *testing.T) {
	const (
		limit   = 10
		horizon = time.Minute
		transit = 30 * time.Millisecond // well inside the 100 ms guard
	)
	varying := []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, 1500 * time.Millisecond, 120 * time.Millisecond, 800 * time.Millisecond}
	tests := []struct {
		name    string
		callers int
		latency func(int64) time.Duration
	}{
		{"200 callers, 200 ms per write", 200, fixed(200 * time.Millisecond)},
		{"200 callers, 1.1 s per write", 200, fixed(1100 * time.Millisecond)},
		{"200 callers, 50 ms to 1.5 s per write", 200, func(i int64) time.Duration { return varying[i%int64(len(varying))] }},
		// Fewer callers than a queue of full windows: each one's write aims
		// at a window that has room, so its answer must come in time for it.
		{"20 callers, 1.1 s per write", 20, fixed(1100 * time.Millisecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				limits := zoom.Limits{Light: limit} // lookups are Light calls
				sim := zoomsim.New(zoomsim.Config{ClientID: "id", ClientSecret: "secret", RateLimits: &zoomsim.RateLimits{Limits: limits}})
				sim.Put("acct", "+97239754571", nil)
				store := newSlowStore(tt.latency, nil)
				client, err := zoom.New(zoom.Config{APIBase: "http://zoom.test/zoom-sim/v2", OAuthURL: "http://zoom.test/zoom-sim/oauth/token",
					ClientID: "id", ClientSecret: "secret", Limiter: newLimiter(t, store, limits),
					HTTPClient: &http.Client{Transport: simTransport{h: sim.Handler(), transit: transit}}})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				var wg sync.WaitGroup
				var throttled atomic.Int64
				for i := range tt.callers {
					wg.Go(func() {
						for time.Since(start) < horizon {
							_, err := client.FindNumber(context.Background(), "acct", "+97239754571")
							if err == nil {
								continue
							}
							var ze *zoom.Error
							if !errors.As(err, &ze) || ze.Kind != zoom.Throttled {
								t.Errorf("caller %d: %v; want success or Throttled", i, err)
								return
							}
							throttled.Add(1)
							time.Sleep(ze.RetryAfter + time.Duration(i%20)*50*time.Millisecond)
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				st := sim.Stats()
				calls := st.Calls[zoom.Light]
				rate := float64(calls) / elapsed.Seconds()
				t.Logf("%d Zoom calls in %s (%.1f/s, limit %d/s), peak %d in a second, %d answered 429; %d Throttled; %d writes (%.2f per call)",
					calls, elapsed.Round(time.Millisecond), rate, limit, st.PeakPerSecond[zoom.Light], st.RateLimited,
					throttled.Load(), store.writes.Load(), float64(store.writes.Load())/float64(max(calls, 1)))
				slots, short := store.granted(limit, start.Unix(), start.Add(horizon).Unix())
				t.Logf("slots granted %d, used %d; windows short of the limit %v", slots, calls, short)
				if st.RateLimited != 0 || st.PeakPerSecond[zoom.Light] > limit {
					t.Errorf("Zoom answered %d 429s, peak %d calls in a second; limit %d", st.RateLimited, st.PeakPerSecond[zoom.Light], limit)
				}
				if rate < limit/2 {
					t.Errorf("admitted %.1f calls per second; want at least %d (half the limit)", rate, limit/2)
				}
				// Near one or two writes per call; a storm of retries on the
				// hot RATE# item would show here.
				if perCall := float64(store.writes.Load()) / float64(max(calls, 1)); perCall > 4 {
					t.Errorf("%.2f writes per admitted call; want at most 4", perCall)
				}
			})
		})
	}
}

// throttle is a DynamoDB throttling error as the SDK returns it after its
// own retries.
func throttle(err error) error { return &retry.MaxAttemptsError{Attempt: 3, Err: err} }

// httpStatus is err as an HTTP response error with status.
func httpStatus(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

// TestThrottledTableRecovers: while the table throttles the limiter's
// writes (the hot RATE# item), fails or does not answer, callers back off
// and try again within their maximum wait; once it recovers they are
// admitted, within the limit. No caller gets an error other than
// Throttled, and one that runs out of time gets Throttled, naming the table.
func TestThrottledTableRecovers(t *testing.T) {
	const limit, callers = 10, 20
	pte := throttle(httpStatus(400, &types.ProvisionedThroughputExceededException{Message: aws.String("The level of configured provisioned throughput for the table was exceeded.")}))
	tests := []struct {
		name         string
		failure      error
		failFor      time.Duration
		wantAdmitted bool // all callers admitted in their first Wait
	}{
		{"ProvisionedThroughputExceeded for 3 s", pte, 3 * time.Second, true},
		{"ThrottlingException for 3 s", throttle(httpStatus(400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Throughput exceeds the current capacity for one or more global secondary indexes."})), 3 * time.Second, true},
		{"RequestLimitExceeded for 3 s", throttle(httpStatus(400, &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Throughput exceeds the current throughput limit for your account."})), 3 * time.Second, true},
		{"the SDK's retry quota used up for 3 s", fmt.Errorf("failed to get rate limit token, %w", errors.Join(httpStatus(400, &types.ProvisionedThroughputExceededException{}), awsratelimit.QuotaExceededError{Available: 0, Requested: 5})), 3 * time.Second, true},
		{"InternalServerError for 3 s", throttle(httpStatus(500, &types.InternalServerError{Message: aws.String("Internal server error")})), 3 * time.Second, true},
		{"no answer for 4 s", errHang, 4 * time.Second, true},
		{"throttled beyond the maximum wait", pte, 15 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				recovered := time.Now().Add(tt.failFor)
				store := newSlowStore(fixed(10*time.Millisecond), func(sent time.Time) error {
					if sent.Before(recovered) {
						return tt.failure
					}
					return nil
				})
				l := newLimiter(t, store, zoom.Limits{Medium: limit})
				var adm admissions
				var wg sync.WaitGroup
				errs := make([]error, callers)
				for i := range callers {
					wg.Go(func() {
						if errs[i] = l.Wait(context.Background(), "acct", zoom.Medium); errs[i] == nil {
							adm.add(time.Now())
						}
					})
				}
				wg.Wait()
				for i, err := range errs {
					var ze *zoom.Error
					switch {
					case err == nil:
					case !errors.As(err, &ze) || ze.Kind != zoom.Throttled:
						t.Fatalf("caller %d: %v; want a slot or Throttled", i, err)
					case ze.RetryAfter <= 0 || !strings.Contains(ze.Message, "rate-limit table"):
						t.Errorf("caller %d: %v; want a RetryAfter and the table's error", i, err)
					}
				}
				if over := adm.overLimit(limit); len(over) > 0 {
					t.Errorf("windows over the limit of %d: %v", limit, over)
				}
				for _, at := range adm.all {
					if at.Before(recovered) {
						t.Errorf("admitted at %s, before the table recovered at %s", at, recovered)
					}
				}
				t.Logf("%d of %d admitted, %d writes", len(adm.all), callers, store.writes.Load())
				if tt.wantAdmitted && len(adm.all) != callers {
					t.Errorf("%d of %d callers admitted; want all (%d calls at %d/s fit in the maximum wait after recovery)", len(adm.all), callers, callers, limit)
				}
				if !tt.wantAdmitted {
					if len(adm.all) != 0 {
						t.Errorf("%d admitted while the table failed", len(adm.all))
					}
					time.Sleep(time.Until(recovered))
					if err := l.Wait(context.Background(), "acct", zoom.Medium); err != nil {
						t.Errorf("Wait after the table recovered: %v", err)
					}
				}
			})
		})
	}
}
