package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/release"
	"numberrelease/shared/store"
)

// IdempotencyStore remembers the answers given to Idempotency-Keys.
type IdempotencyStore interface {
	GetIdempotency(ctx context.Context, scope, key string) (store.Idempotency, error)
	PutIdempotency(ctx context.Context, rec store.Idempotency) error
}

var _ IdempotencyStore = (*store.Store)(nil)

// MaxIdempotencyKeyLength bounds the Idempotency-Key header.
const MaxIdempotencyKeyLength = 255

// createReleaseRequest records a provider's request. With an Idempotency-Key,
// the same key and body replay the first answer; the same key with another
// body is refused (422). Only successful answers are remembered: a refused
// request changed nothing, so sending it again re-evaluates it.
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
	hash := bodyHash(body)
	if key != "" {
		if replayed, err := a.replay(w, r, p.ProviderID, key, hash); replayed || err != nil {
			if err != nil {
				a.problem(w, r, err)
			}
			return
		}
	}
	out, err := a.svc.RequestRelease(r.Context(), p, in)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	resp, err := json.Marshal(out)
	if err != nil {
		a.problem(w, r, fmt.Errorf("encode response: %w", err))
		return
	}
	if key != "" {
		err := a.idem.PutIdempotency(r.Context(), store.Idempotency{
			Scope: p.ProviderID, Key: key, BodyHash: hash, Status: http.StatusCreated, Body: resp,
		})
		if errors.Is(err, store.ErrConflict) {
			// A concurrent request with the same key finished first: answer as it did.
			if replayed, err := a.replay(w, r, p.ProviderID, key, hash); replayed || err != nil {
				if err != nil {
					a.problem(w, r, err)
				}
				return
			}
		} else if err != nil {
			// The request is recorded; only the replay record is missing, and a
			// retry converges because open numbers are reported, not re-asked.
			a.log.ErrorContext(r.Context(), "store idempotency record", "request_id", requestID(r.Context()), "err", err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(resp)
}

// replay answers from a remembered record, if there is one for the key.
func (a *API) replay(w http.ResponseWriter, r *http.Request, scope, key, hash string) (bool, error) {
	rec, err := a.idem.GetIdempotency(r.Context(), scope, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read idempotency record: %w", err)
	}
	if rec.BodyHash != hash {
		return false, apperr.New(apperr.IdempotencyMismatch, "Idempotency-Key %q was already used with a different request body", key)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
	return true, nil
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
