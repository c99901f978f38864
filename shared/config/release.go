package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

// Release is how releases reach Zoom, as release-tasks and the local
// system read it from their environment.
type Release struct {
	Mode        domain.ReleaseMode
	CarrierCode int
	// CarrierAccountID is the carrier's own Zoom account, whose
	// Server-to-Server OAuth app the Zoom credentials are (carrier mode).
	CarrierAccountID string
	// Limits are the Zoom account's own per-second limits.
	Limits zoom.Limits
	// Share is the per cent of Limits the service uses (DefaultZoomRateShare).
	Share int
}

// Budget is the part of the Zoom account's limits the service paces itself
// to: Share per cent of Limits. Zoom counts every app of an account against
// the same limits, so the rest stays for the customer's other integrations.
func (r Release) Budget() zoom.Limits { return r.Limits.Share(r.Share) }

// DefaultZoomRateShare is the per cent of a Zoom account's limits the
// service uses unless configured otherwise.
const DefaultZoomRateShare = 50

// ReadRelease reads RELEASE_MODE (customer | carrier; default customer),
// CARRIER_CODE (the carrier's Provider Exchange code; 0 or empty: none;
// required in carrier mode), ZOOM_CARRIER_ACCOUNT_ID (the carrier's own Zoom
// account id; required in carrier mode), ZOOM_RATE_LIMITS (ParseZoomLimits;
// default pro) and ZOOM_RATE_SHARE (ParseZoomShare; default 50) through
// getenv. The error names the variable that is wrong.
func ReadRelease(getenv func(string) string) (Release, error) {
	var r Release
	var err error
	if r.Mode, err = ParseReleaseMode(getenv("RELEASE_MODE")); err != nil {
		return r, fmt.Errorf("RELEASE_MODE: %w", err)
	}
	if raw := strings.TrimSpace(getenv("CARRIER_CODE")); raw != "" {
		if r.CarrierCode, err = strconv.Atoi(raw); err != nil || r.CarrierCode < 0 {
			return r, fmt.Errorf("CARRIER_CODE=%q is not a whole number (0 or empty: none)", raw)
		}
	}
	if r.Mode == domain.ModeCarrier && r.CarrierCode == 0 {
		return r, errors.New("RELEASE_MODE=carrier needs CARRIER_CODE, the carrier's Provider Exchange code")
	}
	r.CarrierAccountID = strings.TrimSpace(getenv("ZOOM_CARRIER_ACCOUNT_ID"))
	if err := CheckZoomAccountID(r.CarrierAccountID); r.CarrierAccountID != "" && err != nil {
		return r, fmt.Errorf("ZOOM_CARRIER_ACCOUNT_ID: %w", err)
	}
	if r.Mode == domain.ModeCarrier && r.CarrierAccountID == "" {
		return r, errors.New("RELEASE_MODE=carrier needs ZOOM_CARRIER_ACCOUNT_ID, the carrier's own Zoom account id " +
			"(the account of the Server-to-Server OAuth app whose credentials release-tasks holds)")
	}
	if r.Limits, err = ParseZoomLimits(getenv("ZOOM_RATE_LIMITS")); err != nil {
		return r, fmt.Errorf("ZOOM_RATE_LIMITS: %w", err)
	}
	if r.Share, err = ParseZoomShare(getenv("ZOOM_RATE_SHARE")); err != nil {
		return r, fmt.Errorf("ZOOM_RATE_SHARE: %w", err)
	}
	return r, nil
}

// ZoomBudget reads ZOOM_RATE_LIMITS and ZOOM_RATE_SHARE through getenv and
// returns the part of the Zoom account's limits the service may use.
func ZoomBudget(getenv func(string) string) (zoom.Limits, error) {
	limits, err := ParseZoomLimits(getenv("ZOOM_RATE_LIMITS"))
	if err != nil {
		return zoom.Limits{}, fmt.Errorf("ZOOM_RATE_LIMITS: %w", err)
	}
	share, err := ParseZoomShare(getenv("ZOOM_RATE_SHARE"))
	if err != nil {
		return zoom.Limits{}, fmt.Errorf("ZOOM_RATE_SHARE: %w", err)
	}
	return limits.Share(share), nil
}

// ParseZoomShare reads the per cent of a Zoom account's limits the service
// uses: "" (DefaultZoomRateShare) or a whole number from 1 to 100.
func ParseZoomShare(s string) (int, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return DefaultZoomRateShare, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, fmt.Errorf("zoom rate share %q: want a whole per cent from 1 to 100", s)
	}
	return n, nil
}

// CheckZoomAccountID reports a Zoom account id that cannot be one: empty,
// or holding spaces or control characters (Zoom's ids are short strings of
// letters, digits, '-' and '_').
func CheckZoomAccountID(id string) error {
	if id == "" {
		return errors.New("empty account id")
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("account id %q holds a space or control character", id)
		}
	}
	return nil
}

// ParseReleaseMode reads a release mode: "" or "customer", or "carrier"
// (any case, spaces around ignored).
func ParseReleaseMode(s string) (domain.ReleaseMode, error) {
	switch m := domain.ReleaseMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", domain.ModeCustomer:
		return domain.ModeCustomer, nil
	case domain.ModeCarrier:
		return domain.ModeCarrier, nil
	}
	return "", fmt.Errorf("release mode %q: must be customer or carrier", s)
}

// ParseZoomLimits reads a Zoom account's per-second API limits: "" or
// "pro" (zoom.ProLimits), "business" (zoom.BusinessLimits), or explicit
// per-second values such as "light=20,medium=10,heavy=5" (labels left out
// keep the Pro value).
func ParseZoomLimits(s string) (zoom.Limits, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "pro":
		return zoom.ProLimits(), nil
	case "business", "business+", "enterprise":
		return zoom.BusinessLimits(), nil
	}
	var l zoom.Limits
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || n < 1 || n > 10000 {
			return zoom.Limits{}, fmt.Errorf("zoom rate limits %q: %q is not label=calls-per-second (1–10000)", s, part)
		}
		switch strings.TrimSpace(k) {
		case "light":
			l.Light = n
		case "medium":
			l.Medium = n
		case "heavy":
			l.Heavy = n
		default:
			return zoom.Limits{}, fmt.Errorf("zoom rate limits %q: unknown label %q (light, medium, heavy)", s, k)
		}
	}
	return l.OrPro(), nil
}
