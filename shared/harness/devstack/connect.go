package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"numberrelease/shared/auth"
	"numberrelease/shared/zoom"
)

// connectSubject is the admin the local Connect Zoom shortcut acts as.
const connectSubject = "zoom-sim-connect"

// createTokensKey makes the KMS key that seals the customers' Zoom tokens,
// as the stack does (ZOOM_TOKENS_KEY_ARN).
func (s *Stack) createTokensKey(ctx context.Context, awsCfg aws.Config) error {
	s.kms = kms.NewFromConfig(awsCfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	out, err := s.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("number-release zoom tokens (local)")})
	if err != nil {
		return fmt.Errorf("create the zoom tokens key: %w", err)
	}
	s.tokensKey = aws.ToString(out.KeyMetadata.Arn)
	return nil
}

// zoomApp is the simulator's OAuth app as the service sees it.
func (s *Stack) zoomApp() *zoom.App {
	return &zoom.App{OAuthURL: s.URL + "/zoom-sim/oauth/token", APIBase: s.URL + "/zoom-sim/v2",
		ClientID: simClientID, ClientSecret: simClientSecret}
}

// ConnectZoom connects customerID's Zoom to accountID the way its admin
// would: Connect Zoom in the customer app (POST /v1/zoom/connection/
// authorize), approval in Zoom (the simulator's consent page, which sends
// the browser back with a code and the state), and the customer app
// handing both to POST /v1/zoom/connection. It returns that call's status
// and body.
func (s *Stack) ConnectZoom(ctx context.Context, customerID, accountID string) (int, []byte, error) {
	bearer, err := s.Issuer.Issue(auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: customerID, Subject: connectSubject}, 10*time.Minute)
	if err != nil {
		return 0, nil, fmt.Errorf("admin token for %s: %w", customerID, err)
	}
	hc := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status, body, err := s.call(ctx, hc, http.MethodPost, s.URL+"/v1/zoom/connection/authorize", bearer, nil)
	if err != nil || status != http.StatusOK {
		return status, body, err
	}
	var start struct {
		URL string `json:"authorize_url"`
	}
	if err := json.Unmarshal(body, &start); err != nil || start.URL == "" {
		return 0, nil, fmt.Errorf("connect zoom: authorize answered %s", body)
	}
	// The simulator's consent page approves for the account it is told.
	consent, err := url.Parse(start.URL)
	if err != nil {
		return 0, nil, fmt.Errorf("connect zoom: authorize URL: %w", err)
	}
	q := consent.Query()
	q.Set("account_id", accountID)
	consent.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, consent.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("connect zoom: consent: %w", err)
	}
	consentBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, consentBody, nil
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return 0, nil, fmt.Errorf("connect zoom: redirect: %w", err)
	}
	cb, _ := json.Marshal(map[string]string{"code": back.Query().Get("code"), "state": back.Query().Get("state")})
	return s.call(ctx, hc, http.MethodPost, s.URL+"/v1/zoom/connection", bearer, cb)
}

func (s *Stack) call(ctx context.Context, hc *http.Client, method, u, bearer string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// handleAuthorize is POST /zoom-sim/admin/authorize {"customer_id",
// "account_id"}: ConnectZoom, answered with the service's own answer to
// the callback (200 and the connection, or its problem).
func (s *Stack) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CustomerID string `json:"customer_id"`
		AccountID  string `json:"account_id"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	var missing []string
	if err := dec.Decode(&in); err != nil {
		writeLocalProblem(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if strings.TrimSpace(in.CustomerID) == "" {
		missing = append(missing, "customer_id")
	}
	if strings.TrimSpace(in.AccountID) == "" {
		missing = append(missing, "account_id")
	}
	if len(missing) > 0 {
		writeLocalProblem(w, http.StatusBadRequest, strings.Join(missing, " and ")+": required")
		return
	}
	status, body, err := s.ConnectZoom(r.Context(), in.CustomerID, in.AccountID)
	if err != nil {
		writeLocalProblem(w, http.StatusBadGateway, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "application/problem+json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeLocalProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
