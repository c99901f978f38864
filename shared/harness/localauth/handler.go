package localauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/ident"
	"numberrelease/shared/jsonhttp"
)

const (
	// localTokenTTL is the lifetime of tokens minted by POST /local/token.
	localTokenTTL = time.Hour
	// maxTokenRequestBody caps the POST /local/token body.
	maxTokenRequestBody = 64 << 10
)

// tokenRequest is the body of POST /local/token.
type tokenRequest struct {
	Kind       string `json:"kind"`
	TenantID   string `json:"tenant_id"`
	ProviderID string `json:"provider_id"`
	Sub        string `json:"sub"`
}

// tokenResponse is the body of a successful POST /local/token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// Handler serves GET /local/jwks.json and POST /local/token. Errors are
// application/problem+json.
func (l *Issuer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case JWKSPath:
			if r.Method != http.MethodGet {
				methodNotAllowed(w, r, http.MethodGet)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(l.jwks)
		case TokenPath:
			if r.Method != http.MethodPost {
				methodNotAllowed(w, r, http.MethodPost)
				return
			}
			l.serveToken(w, r)
		default:
			jsonhttp.WriteProblem(w, r, apperr.New(apperr.NotFound, "no local auth route %s", r.URL.Path))
		}
	})
}

// serveToken mints a token for the principal described by the body.
func (l *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	body, err := jsonhttp.ReadBody(w, r, maxTokenRequestBody)
	if err != nil {
		jsonhttp.WriteProblem(w, r, err)
		return
	}
	req, err := decodeTokenRequest(body)
	if err != nil {
		jsonhttp.WriteProblem(w, r, err)
		return
	}
	p, err := req.principal()
	if err != nil {
		jsonhttp.WriteProblem(w, r, err)
		return
	}
	token, err := l.Issue(p, localTokenTTL)
	if err != nil {
		slog.ErrorContext(r.Context(), "local token: issue failed", "error", err)
		jsonhttp.WriteProblem(w, r, err) // not an *apperr.Error: rendered as internal
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(tokenResponse{
		AccessToken: token,
		TokenType:   "Bearer",
		ExpiresIn:   int(localTokenTTL / time.Second),
	})
}

// decodeTokenRequest reads exactly one JSON object, naming the bad field when
// a value has the wrong type.
func decodeTokenRequest(body []byte) (tokenRequest, error) {
	var req tokenRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	err := dec.Decode(&req)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		return req, nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return req, apperr.New(apperr.Invalid, "request body is empty; expected a JSON object with kind")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return req, apperr.New(apperr.Invalid, "%s must be a string", typeErr.Field)
	case errors.As(err, &typeErr):
		return req, apperr.New(apperr.Invalid, "request body must be a JSON object")
	}
	return req, apperr.New(apperr.Invalid, "request body is not valid JSON")
}

// principal validates the request and applies the subject defaults. Ids
// must be identifiers (package ident), as the Verifier requires.
func (req tokenRequest) principal() (auth.Principal, error) {
	switch req.Kind {
	case "customer":
		if strings.TrimSpace(req.TenantID) == "" {
			return auth.Principal{}, apperr.New(apperr.Invalid, "tenant_id is required for kind customer")
		}
		sub := req.Sub
		if strings.TrimSpace(sub) == "" {
			sub = "local-admin"
		}
		if err := identField("tenant_id", req.TenantID); err != nil {
			return auth.Principal{}, err
		}
		if err := identField("sub", sub); err != nil {
			return auth.Principal{}, err
		}
		return auth.Principal{Role: auth.RoleCustomerAdmin, Subject: sub, TenantID: req.TenantID}, nil
	case "provider":
		if strings.TrimSpace(req.ProviderID) == "" {
			return auth.Principal{}, apperr.New(apperr.Invalid, "provider_id is required for kind provider")
		}
		if err := identField("provider_id", req.ProviderID); err != nil {
			return auth.Principal{}, err
		}
		sub := req.Sub
		if strings.TrimSpace(sub) == "" {
			sub = "provider:" + req.ProviderID
		}
		return auth.Principal{Role: auth.RoleProvider, Subject: sub, ProviderID: req.ProviderID}, nil
	case "operator":
		if strings.TrimSpace(req.Sub) == "" {
			return auth.Principal{}, apperr.New(apperr.Invalid, "sub is required for kind operator (the operator's own name)")
		}
		if err := identField("sub", req.Sub); err != nil {
			return auth.Principal{}, err
		}
		return auth.Principal{Role: auth.RoleOperator, Subject: req.Sub}, nil
	case "":
		return auth.Principal{}, apperr.New(apperr.Invalid, `kind is required: "customer", "provider" or "operator"`)
	}
	return auth.Principal{}, apperr.New(apperr.Invalid, `kind must be "customer", "provider" or "operator"`)
}

// identField refuses a request field that is not an identifier (400).
func identField(name, value string) error {
	if err := ident.Check(value); err != nil {
		return apperr.New(apperr.Invalid, "%s is not a valid identifier: %v", name, err)
	}
	return nil
}

// methodNotAllowed answers 405 naming the one allowed method.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	jsonhttp.WriteProblem(w, r, apperr.New(apperr.MethodNotAllowed, "use %s", allowed))
}
