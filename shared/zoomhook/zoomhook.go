// Package zoomhook serves POST /zoom/webhook: Zoom's webhook envelope and
// signature scheme (package zoomsig; Zoom's documentation "Using webhooks").
//
// Every request is verified before anything else is looked at: the raw body
// (at most MaxBodyBytes) must carry a valid x-zm-signature for its
// x-zm-request-timestamp, and the timestamp must be within the tolerance of
// now, so a captured request cannot be replayed later. Then:
//
//   - endpoint.url_validation is answered with the plainToken and its
//     encryptedToken (Zoom's challenge, repeated every 72 h);
//   - EventUnassigned ("a number was unassigned in Zoom") is handed to a Hinter
//     and answered 204;
//   - any other event is acknowledged with 204 and ignored.
//
// # Delivery and idempotency
//
// Zoom redelivers a notification that is not answered 2xx within 3 s (after
// 5, 20 and 60 minutes) and gives no event id, so the same notification can
// arrive more than once, late, or never. The handler therefore does no
// retries of its own and bounds the Hinter with HintTimeout; a Hinter error
// is answered 500 so Zoom delivers again later. Making a redelivered hint
// harmless is the Hinter's job: it must be idempotent. That is natural here,
// because a notification is only a hint: the release workflow re-checks the
// assignment through Zoom's API (and on a timer, for hints that never come)
// before it releases anything.
package zoomhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/number"
	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomsig"
)

// Path is where the handler is served; only POST is accepted there.
const Path = "/zoom/webhook"

// Events the handler acts on.
const (
	// EventURLValidation is Zoom's endpoint validation challenge.
	EventURLValidation = "endpoint.url_validation"
	// EventUnassigned is the project's own event (Zoom publishes none for a
	// number's assignment changing), sent in Zoom's envelope and signature
	// format by the number-management app that performs the unbind (and by
	// the local Zoom simulator). Its payload is
	//
	//	{"account_id": "<zoom account>", "object": {"phone_number": "+97239754569",
	//	 "phone_number_id"?: "<zoom id>", "previous_assignee"?: {"id","name","type",...}}}
	EventUnassigned = "number_release.phone_number.unassigned"
)

// MaxBodyBytes bounds a webhook body; larger ones are refused with 413.
const MaxBodyBytes = 64 << 10

// DefaultHintTimeout bounds the Hinter so Zoom gets its answer within its 3 s.
const DefaultHintTimeout = 2500 * time.Millisecond

// Hinter acts on a verified "number unassigned" notification. It is a hint:
// the workflow re-checks Zoom before releasing anything. Unassigned must be
// idempotent: the same hint may be delivered more than once.
type Hinter interface {
	Unassigned(ctx context.Context, accountID, e164 string) error
}

// Deauthorizer acts on Zoom's app_deauthorized event: the account's
// authorization of the app is over. It must be idempotent.
type Deauthorizer interface {
	Deauthorized(ctx context.Context, accountID string) error
}

// Config configures the handler.
type Config struct {
	// Deauthorizer, when set, receives verified app_deauthorized events
	// (customer mode); without it they are acknowledged and ignored.
	Deauthorizer Deauthorizer
	// Secret is the Zoom app's webhook secret token.
	Secret []byte
	// SecretFunc supplies the secret token when Secret is empty, e.g.
	// (*secrets.Cached).Bytes loading it from Secrets Manager on first use. An error is
	// answered 503 so Zoom delivers again later.
	SecretFunc func(ctx context.Context) ([]byte, error)
	// Tolerance is how far x-zm-request-timestamp may be from now
	// (default zoomsig.DefaultTolerance).
	Tolerance time.Duration
	// HintTimeout bounds one Hinter call (default DefaultHintTimeout).
	HintTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives one line per request (default slog.Default()).
	Log *slog.Logger
}

// Envelope is Zoom's webhook envelope, as far as this service reads it.
type Envelope struct {
	Event string `json:"event"`
	// EventTS is the event's time in Unix milliseconds.
	EventTS int64   `json:"event_ts"`
	Payload Payload `json:"payload"`
}

// Payload is the envelope's payload.
type Payload struct {
	AccountID string `json:"account_id,omitempty"`
	// PlainToken is set on endpoint.url_validation only.
	PlainToken string `json:"plainToken,omitempty"`
	Object     Object `json:"object"`
}

// Object is the payload's object of an EventUnassigned notification.
type Object struct {
	PhoneNumber      string          `json:"phone_number,omitempty"`
	PhoneNumberID    string          `json:"phone_number_id,omitempty"`
	PreviousAssignee json.RawMessage `json:"previous_assignee,omitempty"`
}

// URLValidationResponse answers endpoint.url_validation.
type URLValidationResponse struct {
	PlainToken     string `json:"plainToken"`
	EncryptedToken string `json:"encryptedToken"`
}

type handler struct {
	cfg    Config
	hinter Hinter
	log    *slog.Logger
}

// New returns the handler of POST /zoom/webhook. Other paths are answered
// 404 and other methods 405, as RFC 9457 problems.
func New(cfg Config, h Hinter) http.Handler {
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = zoomsig.DefaultTolerance
	}
	if cfg.HintTimeout <= 0 {
		cfg.HintTimeout = DefaultHintTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &handler{cfg: cfg, hinter: h, log: log}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = jsonhttp.EnsureRequestID(r, "")
	w.Header().Set("X-Content-Type-Options", jsonhttp.NoSniff)
	switch {
	case r.URL.Path != Path:
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.NotFound, "no such resource: %s", r.URL.Path))
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.MethodNotAllowed, "%s is not served at %s; allowed: POST", r.Method, Path))
	default:
		h.serve(w, r)
	}
}

// serve handles one POST: read, verify, then act.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := h.log.With("request_id", jsonhttp.RequestID(ctx), "zoom_tracking_id", r.Header.Get("x-zm-trackingid"))

	body, err := jsonhttp.ReadBody(w, r, MaxBodyBytes)
	if err != nil {
		log.WarnContext(ctx, "zoom webhook refused", "reason", err.Error())
		jsonhttp.WriteProblem(w, r, err)
		return
	}

	secret, err := h.secret(ctx)
	if err != nil {
		log.ErrorContext(ctx, "zoom webhook secret unavailable", "err", err)
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.Unavailable, "the webhook cannot be verified right now; retry later"))
		return
	}
	// The signature is over the raw body; nothing is parsed before it holds.
	if err := zoomsig.Verify(secret, r.Header.Get(zoomsig.HeaderSignature), r.Header.Get(zoomsig.HeaderTimestamp),
		body, h.cfg.Now(), h.cfg.Tolerance); err != nil {
		// The reason and the timestamp are logged, never the signature.
		log.WarnContext(ctx, "zoom webhook refused", "reason", err.Error(),
			"timestamp", r.Header.Get(zoomsig.HeaderTimestamp))
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.Unauthenticated, "the Zoom webhook signature is missing, invalid or stale"))
		return
	}

	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		log.WarnContext(ctx, "zoom webhook refused", "reason", "malformed JSON", "err", err)
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.Invalid, "%s", jsonhttp.DescribeDecodeError(err, &env)))
		return
	}
	if env.Event == "" {
		log.WarnContext(ctx, "zoom webhook refused", "reason", "no event")
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.Invalid, `"event" is required: Zoom's envelope names its event`))
		return
	}
	log = log.With("event", env.Event)

	switch env.Event {
	case EventURLValidation:
		h.urlValidation(w, r, log, secret, env)
	case EventUnassigned:
		h.unassigned(w, r, log, env)
	case zoom.EventAppDeauthorized:
		h.deauthorized(w, r, log, env)
	default:
		log.InfoContext(ctx, "zoom webhook ignored", "reason", "event not handled", "account_id", env.Payload.AccountID)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *handler) secret(ctx context.Context) ([]byte, error) {
	if len(h.cfg.Secret) > 0 {
		return h.cfg.Secret, nil
	}
	if h.cfg.SecretFunc == nil {
		return nil, errors.New("zoomhook: no webhook secret configured")
	}
	s, err := h.cfg.SecretFunc(ctx)
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, errors.New("zoomhook: the webhook secret is empty")
	}
	return s, nil
}

func (h *handler) urlValidation(w http.ResponseWriter, r *http.Request, log *slog.Logger, secret []byte, env Envelope) {
	if env.Payload.PlainToken == "" {
		log.WarnContext(r.Context(), "zoom webhook refused", "reason", "url validation without plainToken")
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.Invalid, "payload.plainToken is required for %s", EventURLValidation))
		return
	}
	log.InfoContext(r.Context(), "zoom endpoint validated")
	jsonhttp.Write(w, http.StatusOK, URLValidationResponse{
		PlainToken:     env.Payload.PlainToken,
		EncryptedToken: zoomsig.EncryptedToken(secret, env.Payload.PlainToken),
	})
}

// unassigned hands a verified hint to the Hinter. A hint that can never be
// acted on (no account, no valid number) is acknowledged with 200 so Zoom
// does not deliver it again, and logged.
func (h *handler) unassigned(w http.ResponseWriter, r *http.Request, log *slog.Logger, env Envelope) {
	ctx := r.Context()
	raw := env.Payload.Object.PhoneNumber
	log = log.With("account_id", env.Payload.AccountID, "phone_number", raw)
	if env.Payload.AccountID == "" {
		log.WarnContext(ctx, "zoom webhook ignored", "reason", "payload.account_id missing")
		jsonhttp.Write(w, http.StatusOK, ignored{Ignored: "payload.account_id is missing"})
		return
	}
	e164, err := number.Parse(raw)
	if err != nil {
		log.WarnContext(ctx, "zoom webhook ignored", "reason", "phone number not valid", "err", err)
		jsonhttp.Write(w, http.StatusOK, ignored{Ignored: "payload.object.phone_number is not a valid phone number"})
		return
	}
	hctx, cancel := context.WithTimeout(ctx, h.cfg.HintTimeout)
	defer cancel()
	if err := h.hinter.Unassigned(hctx, env.Payload.AccountID, e164); err != nil {
		// 500 whatever the Hinter's error, so that Zoom delivers it again.
		log.ErrorContext(ctx, "zoom unassign hint failed; Zoom will deliver it again", "number", e164, "err", err)
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.Internal, "the notification could not be handled now; it is accepted when delivered again"))
		return
	}
	log.InfoContext(ctx, "zoom unassign hint accepted", "number", e164)
	w.WriteHeader(http.StatusNoContent)
}

// deauthorized hands a verified app_deauthorized event to the
// Deauthorizer; 500 on its failure, so that Zoom delivers it again.
func (h *handler) deauthorized(w http.ResponseWriter, r *http.Request, log *slog.Logger, env Envelope) {
	ctx := r.Context()
	log = log.With("account_id", env.Payload.AccountID)
	switch {
	case h.cfg.Deauthorizer == nil:
		log.InfoContext(ctx, "zoom webhook ignored", "reason", "no customer authorizations in this release mode")
		w.WriteHeader(http.StatusNoContent)
		return
	case env.Payload.AccountID == "":
		log.WarnContext(ctx, "zoom webhook ignored", "reason", "payload.account_id missing")
		jsonhttp.Write(w, http.StatusOK, ignored{Ignored: "payload.account_id is missing"})
		return
	}
	hctx, cancel := context.WithTimeout(ctx, h.cfg.HintTimeout)
	defer cancel()
	if err := h.cfg.Deauthorizer.Deauthorized(hctx, env.Payload.AccountID); err != nil {
		log.ErrorContext(ctx, "zoom app_deauthorized not recorded; Zoom will deliver it again", "err", err)
		jsonhttp.WriteProblem(w, r, apperr.New(apperr.Internal, "the notification could not be handled now; it is accepted when delivered again"))
		return
	}
	log.InfoContext(ctx, "zoom app_deauthorized recorded")
	w.WriteHeader(http.StatusNoContent)
}

type ignored struct {
	Ignored string `json:"ignored"`
}
