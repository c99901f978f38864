package zoomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomsig"
)

// unbindHandler serves DELETE /zoom-sim/v2/phone/{owners}/{ownerId}/
// phone_numbers/{phoneNumberId} for owners of assignee type ownerType. The
// number may be named by id or E.164 (with or without '+', URL-encoded or
// not). It unassigns the number, sends the signed unassign notification,
// and answers 204 whether or not the notification was delivered.
func (s *Sim) unbindHandler(ownerType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		account := accountOf(r.Context())
		ownerID := r.PathValue("ownerId")
		s.mu.Lock()
		e := s.lookupLocked(account, r.PathValue("phoneNumberId"))
		if e == nil || e.assignee == nil || e.assignee.Type != ownerType || e.assignee.ID != ownerID {
			s.mu.Unlock()
			msg := "Phone number does not exist."
			if e != nil {
				msg = fmt.Sprintf("Phone number is not assigned to this %s.", ownerType)
			}
			writeZoomError(w, http.StatusNotFound, zoom.CodeNotFound, msg)
			return
		}
		prev := *e.assignee
		e.assignee = nil
		ev := zoom.UnassignedEvent{
			Event:   zoom.EventNumberUnassigned,
			EventTS: s.now().UnixMilli(),
			Payload: zoom.UnassignedPayload{
				AccountID: e.accountID,
				Object:    zoom.UnassignedObject{PhoneNumber: e.number, PhoneNumberID: e.id, PreviousAssignee: prev},
			},
		}
		s.mu.Unlock()
		if err := s.notify(r.Context(), ev); err != nil {
			slog.WarnContext(r.Context(), "zoomsim: unassign notification not delivered",
				"number", ev.Payload.Object.PhoneNumber, "error", err)
		} else {
			slog.DebugContext(r.Context(), "zoomsim: unassign notification delivered", "number", ev.Payload.Object.PhoneNumber)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// notify POSTs ev (an event in Zoom's envelope), signed with zoomsig, to the
// webhook URL (if any), within notifyTimeout and independently of the
// caller's cancellation. With a VerificationToken configured it also sends
// Zoom's legacy authorization header.
func (s *Sim) notify(ctx context.Context, ev any) error {
	if s.cfg.WebhookURL == "" {
		return nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode notification: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build notification request: %w", err)
	}
	ts := s.now()
	req.Header.Set("Content-Type", webhookContentType)
	req.Header.Set(zoomsig.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(zoomsig.HeaderSignature, zoomsig.Sign(s.cfg.WebhookSecret, ts, body))
	req.Header.Set("User-Agent", "Zoom Marketplace/1.0a")
	if s.cfg.VerificationToken != "" {
		req.Header.Set("Authorization", s.cfg.VerificationToken)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post notification: webhook answered %d", resp.StatusCode)
	}
	return nil
}
