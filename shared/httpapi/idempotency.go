package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/pause"
	"numberrelease/shared/release"
)

// IdempotencyStore keeps Idempotency-Key records: a reservation while one
// request does the work, then the answer it gave (domain.IdempotencyState).
type IdempotencyStore interface {
	ReserveIdempotency(ctx context.Context, scope, key, bodyHash string, lease time.Duration) (domain.Idempotency, bool, error)
	GetIdempotency(ctx context.Context, scope, key string) (domain.Idempotency, error)
	CompleteIdempotency(ctx context.Context, res domain.Idempotency, status int, body []byte) error
	ReleaseIdempotency(ctx context.Context, res domain.Idempotency) error
}

// MaxIdempotencyKeyLength bounds the Idempotency-Key header.
const MaxIdempotencyKeyLength = 255

// idempotencyTiming is how long a reservation holds its key and how a
// duplicate waits for the answer.
type idempotencyTiming struct {
	// lease ends a reservation whose request never finished (crashed,
	// timed out), so the key is not blocked for its whole TTL. The API
	// Lambda times out after 15 s (and API Gateway gives up at 29 s), so a
	// reservation 60 s old belongs to a request that is no longer running.
	lease time.Duration
	// wait is how long a duplicate of a request still in progress waits for
	// its answer before it is told 409 idempotency_in_progress; it is far
	// more than a request normally takes, and leaves most of the Lambda's
	// 15 s for the duplicate's own answer.
	wait time.Duration
	// poll is the pause between two reads of the record while waiting.
	poll time.Duration
}

var idemTiming = idempotencyTiming{lease: 60 * time.Second, wait: 5 * time.Second, poll: 200 * time.Millisecond}

// createReleaseRequest records a provider's request. With an
// Idempotency-Key the key is reserved before any work, so of concurrent
// requests with one key only one does the work:
//   - same key, same body: the first answer is replayed (a duplicate that
//     arrives while the first still works waits for it, up to
//     idemTiming.wait, then gets 409 idempotency_in_progress with
//     Retry-After);
//   - same key, another body: 422, and nothing is done.
//
// Only successful answers are remembered: when the work is refused (4xx) or
// fails (5xx), the reservation is released, so the key can be sent again,
// with a corrected body if need be. A refusal wrote nothing, except for a
// large request that lost a race midway (409 conflict; the transactions
// before it stay), which sending it again with the same key completes. The
// caller's right to act for the body's customer is checked before anything
// is replayed.
func (a *API) createReleaseRequest(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	key := r.Header.Get("Idempotency-Key")
	if err := validIdempotencyKey(key, r.Header.Values("Idempotency-Key")); err != nil {
		a.problem(w, r, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in release.RequestInput
	if err := decodeJSON(body, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	if key == "" {
		resp, err := a.requestRelease(r.Context(), p, in)
		if err != nil {
			a.problem(w, r, err)
			return
		}
		writeAnswer(w, http.StatusCreated, resp, false)
		return
	}
	if err := a.svc.AuthorizeRequest(r.Context(), p, in); err != nil {
		a.problem(w, r, err)
		return
	}
	res, answer, err := a.reserve(r.Context(), p.ProviderID, key, bodyHash(body))
	if err != nil {
		if apperr.CodeOf(err) == apperr.IdempotencyInProgress {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(idemTiming.wait.Seconds())))))
		}
		a.problem(w, r, err)
		return
	}
	if answer != nil {
		writeAnswer(w, answer.Status, answer.Body, true)
		return
	}
	resp, err := a.requestRelease(r.Context(), p, in)
	// The outcome is recorded even if the caller has gone away meanwhile.
	ctx := context.WithoutCancel(r.Context())
	if err != nil {
		if rerr := a.idem.ReleaseIdempotency(ctx, res); rerr != nil {
			// The key stays reserved until the lease ends.
			a.log.ErrorContext(ctx, "release idempotency key", "request_id", jsonhttp.RequestID(ctx), "err", rerr)
		}
		a.problem(w, r, err)
		return
	}
	if err := a.idem.CompleteIdempotency(ctx, res, http.StatusCreated, resp); err != nil {
		// The request is recorded; only its replay record is missing, and a
		// retry converges because open numbers are reported, not re-asked.
		a.log.ErrorContext(ctx, "store idempotency answer", "request_id", jsonhttp.RequestID(ctx), "err", err)
	}
	writeAnswer(w, http.StatusCreated, resp, false)
}

// requestRelease does the work and encodes its answer.
func (a *API) requestRelease(ctx context.Context, p auth.Principal, in release.RequestInput) ([]byte, error) {
	out, err := a.svc.RequestRelease(ctx, p, in)
	if err != nil {
		return nil, err
	}
	resp, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return resp, nil
}

// writeAnswer sends a JSON answer, marked when it is a stored one replayed.
func writeAnswer(w http.ResponseWriter, status int, body []byte, replayed bool) {
	w.Header().Set("Content-Type", "application/json")
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// reserve claims key for this request and returns the reservation, or the
// stored answer to replay when the same body was answered already. Another
// body is refused (422); the same body still in progress is waited for, up
// to idemTiming.wait, then refused (409). A reservation that is released or
// whose lease ends while waiting is taken over.
func (a *API) reserve(ctx context.Context, scope, key, hash string) (domain.Idempotency, *domain.Idempotency, error) {
	deadline := time.Now().Add(idemTiming.wait)
	for {
		rec, ok, err := a.idem.ReserveIdempotency(ctx, scope, key, hash, idemTiming.lease)
		if err != nil {
			return domain.Idempotency{}, nil, err
		}
		if ok {
			return rec, nil, nil
		}
		for {
			if rec.BodyHash != hash {
				return domain.Idempotency{}, nil, apperr.New(apperr.IdempotencyMismatch, "Idempotency-Key %q was already used with a different request body", key)
			}
			if rec.State == domain.IdempotencyCompleted {
				return domain.Idempotency{}, &rec, nil
			}
			if !time.Now().Before(deadline) {
				return domain.Idempotency{}, nil, apperr.New(apperr.IdempotencyInProgress,
					"a request with Idempotency-Key %q is still in progress; send it again later to get its answer", key)
			}
			if err := pause.For(ctx, idemTiming.poll); err != nil {
				return domain.Idempotency{}, nil, err
			}
			rec, err = a.idem.GetIdempotency(ctx, scope, key)
			if errors.Is(err, domain.ErrNotFound) {
				break // released, or its lease ended: try to reserve it
			}
			if err != nil {
				return domain.Idempotency{}, nil, err
			}
		}
	}
}

func validIdempotencyKey(key string, all []string) error {
	if len(all) > 1 {
		return apperr.New(apperr.Invalid, "send one Idempotency-Key header, not %d", len(all))
	}
	if len(all) == 1 && key == "" {
		return apperr.New(apperr.Invalid, "Idempotency-Key is empty")
	}
	if len(key) > MaxIdempotencyKeyLength {
		return apperr.New(apperr.Invalid, "Idempotency-Key is %d characters; at most %d are allowed", len(key), MaxIdempotencyKeyLength)
	}
	for _, c := range key {
		if c < 0x21 || c > 0x7e {
			return apperr.New(apperr.Invalid, "Idempotency-Key may contain only visible ASCII characters")
		}
	}
	return nil
}

// bodyHash fingerprints a JSON body regardless of insignificant white space.
func bodyHash(body []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		buf.Reset()
		buf.Write(body)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}
