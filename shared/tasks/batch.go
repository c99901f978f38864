package tasks

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

// storeParallelism bounds the reads and writes of one batch that run at
// once: a batch holds up to a few hundred numbers, each read once and
// written once or twice.
const storeParallelism = 8

// removal is one number of a batch on its way through ReleaseBatch.
type removal struct {
	in       Input
	holdable bool
	cur      domain.Number
	account  string
	// why is the history's reason once Zoom no longer has the number.
	why string
	err error
}

// ReleaseBatch removes the numbers the Release states of many executions
// handed to the release queue, together: it claims each number (a
// conditional write, as release does), removes them on the Zoom side per
// Zoom account in batches of the delete's maximum (zoom.MaxRemoveIDs ids in
// the customer's account, zoom.MaxPeeringNumbers numbers through the
// Provider Exchange, as the carrier), and
// marks each RELEASED. It returns one result per input, in order: nil
// (RELEASED), or an error named for the state machine (Zoom.Assigned: Zoom
// kept a number that was assigned again, so the workflow checks again;
// Release.Superseded; Zoom.Throttled; ...). One number's trouble never
// fails another's.
//
// A number this attempt already released (a message delivered twice) is
// answered as released again, without a call.
//
// holdable (nil: none) marks the inputs that may wait for the next batch
// (ErrHeld): when an account has more than one number in the batch, a
// last, partial delete made only of holdable numbers is held back, so that
// it fills up with the numbers that arrive next instead of costing a call
// of its own. A lone number is never held.
func (t *Tasks) ReleaseBatch(ctx context.Context, ins []Input, holdable []bool) []error {
	rs := make([]*removal, len(ins))
	for i, in := range ins {
		rs[i] = &removal{in: in, holdable: i < len(holdable) && holdable[i]}
	}
	// Read each number, and claim those Zoom still has to remove.
	t.each(rs, func(r *removal) { r.err = t.claim(ctx, r) })
	// Remove them in Zoom, per account.
	byAccount := map[string][]*removal{}
	var accounts []string
	for _, r := range rs {
		if r.err == nil && r.why == "" {
			if byAccount[r.account] == nil {
				accounts = append(accounts, r.account)
			}
			byAccount[r.account] = append(byAccount[r.account], r)
		}
	}
	for _, account := range accounts {
		t.removeAll(ctx, account, byAccount[account])
	}
	// Record the outcome.
	t.each(rs, func(r *removal) { r.err = t.settle(ctx, r) })
	out := make([]error, len(rs))
	for i, r := range rs {
		out[i] = r.err
	}
	return out
}

// each runs f on every removal, storeParallelism at a time.
func (t *Tasks) each(rs []*removal, f func(*removal)) {
	sem := make(chan struct{}, storeParallelism)
	var wg sync.WaitGroup
	for _, r := range rs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(r)
		})
	}
	wg.Wait()
}

// ErrHeld is ReleaseBatch's answer for a number held back for the next
// batch: nothing was asked of Zoom and nothing written since its claim.
var ErrHeld = errors.New("held back to fill the next delete")

func all(rs []*removal, f func(*removal) bool) bool {
	for _, r := range rs {
		if !f(r) {
			return false
		}
	}
	return true
}

// errReleased marks a removal this attempt had already released.
var errReleased = errors.New("already released by this attempt")

// claim reads r's number and, when Zoom has to remove it, claims it: a
// number waiting for its unbind becomes RELEASING again and the removal is
// marked started, so that a cancel or reject landing later is refused (and
// one landing first wins: the claim loses its condition and the execution
// stops, Zoom untouched). It sets r.why when Zoom has nothing to remove.
func (t *Tasks) claim(ctx context.Context, r *removal) error {
	cur, own, err := t.owned(ctx, r.in)
	if err != nil {
		return err
	}
	if !own {
		if cur.Status == domain.Released && cur.Attempt == r.in.Attempt {
			r.cur = cur
			return errReleased
		}
		return stateErr(ErrSuperseded, "%s is %s; nothing to release", r.in.Number, cur.Status)
	}
	r.cur = cur
	switch {
	case r.in.ZoomID == "" && t.cfg.Mode == domain.ModeCarrier:
		r.why = "released: not in Zoom as this carrier's number (the carrier's view of Zoom does not list it)"
		return nil
	case r.in.ZoomID == "":
		r.why = "released: no longer in the customer's Zoom account"
		return nil
	case t.cfg.Mode == domain.ModeCarrier:
		// Removed through the Provider Exchange with a token of the
		// carrier's own Zoom account.
		if t.cfg.CarrierCode <= 0 || t.cfg.CarrierAccountID == "" {
			return stateErr(ErrMisconfigured, "carrier release mode without a carrier code or the carrier's Zoom account id")
		}
		r.account = t.cfg.CarrierAccountID
	default:
		if r.account, err = t.zoomAccount(ctx, cur.CustomerID); err != nil {
			return err
		}
	}
	if cur.Status == domain.Releasing && cur.RemovalStarted {
		return nil
	}
	r.cur, err = t.updateFrom(ctx, r.in, &cur, "unassigned in Zoom: removing it", func(c domain.Number) domain.Number {
		next := c
		next.Status = domain.Releasing
		next.RemovalStarted = true
		next.Message, next.TaskToken, next.Assignee = "", "", nil
		return next
	})
	return err
}

// settle records what happened to r in Zoom: RELEASED, or, when Zoom kept
// a number assigned again meanwhile, the removal marked not started (it
// may be cancelled again while the workflow waits for the unbind).
func (t *Tasks) settle(ctx context.Context, r *removal) error {
	var named messages.InvokeResponse_Error
	switch {
	case errors.Is(r.err, errReleased):
		return nil
	case errors.Is(r.err, ErrHeld):
		return ErrHeld
	case errors.As(r.err, &named) && (named.Type == ErrZoomAssigned || named.Type == ErrZoomNotConnected) && r.cur.RemovalStarted:
		// Zoom removed nothing: it kept the number (assigned again), or
		// it was never asked (no authorization to ask with).
		why := "assigned again in Zoom before removal"
		if named.Type == ErrZoomNotConnected {
			why = "Zoom not connected: nothing removed"
		}
		if _, werr := t.updateFrom(ctx, r.in, &r.cur, why, func(c domain.Number) domain.Number {
			next := c
			next.RemovalStarted = false
			return next
		}); werr != nil {
			return werr
		}
		return r.err
	case r.err != nil:
		return r.err
	}
	_, err := t.updateFrom(ctx, r.in, &r.cur, r.why, func(cur domain.Number) domain.Number {
		next := cur
		next.Status = domain.Released
		next.Message = "released"
		next.TaskToken, next.Assignee, next.RemovalStarted = "", nil, false
		return next
	})
	return err
}

// removeAll removes rs from the Zoom account in the configured mode, in
// batches of the endpoint's maximum, and sets each one's why or err.
func (t *Tasks) removeAll(ctx context.Context, account string, rs []*removal) {
	size := zoom.MaxRemoveIDs
	remove := t.removeByID
	if t.cfg.Mode == domain.ModeCarrier {
		size, remove = zoom.MaxPeeringNumbers, t.removePeering
	}
	for start := 0; start < len(rs); start += size {
		chunk := rs[start:min(start+size, len(rs))]
		if len(rs) > 1 && len(chunk) < size && all(chunk, func(r *removal) bool { return r.holdable }) {
			for _, r := range chunk {
				r.err = ErrHeld
			}
			continue
		}
		zctx, cancel := context.WithTimeout(ctx, t.cfg.ZoomTimeout)
		remove(zctx, account, chunk)
		cancel()
	}
}

// removeByID removes numbers from the customer's Zoom account by the ids
// their checks found, in one call. Zoom refuses the whole call when one
// of them is assigned again; then each is removed on its own, so that
// only that one waits for its unbind.
func (t *Tasks) removeByID(ctx context.Context, account string, rs []*removal) {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.in.ZoomID
	}
	err := t.zoom.RemoveNumbers(ctx, account, ids)
	if zoom.KindOf(err) == zoom.Assigned && len(rs) > 1 {
		for _, r := range rs {
			t.removeByID(ctx, account, []*removal{r})
		}
		return
	}
	for _, r := range rs {
		switch {
		case err == nil:
			r.why = "released: removed from the customer's Zoom account"
		case zoom.KindOf(err) == zoom.NotFound:
			r.why = "released: no longer in the customer's Zoom account"
		case zoom.KindOf(err) == zoom.Assigned:
			r.err = stateErr(ErrZoomAssigned, "%s was assigned again in Zoom before it could be released: %v", r.in.Number, err)
		default:
			r.err = zoomErr("remove numbers from Zoom", err)
		}
	}
}

// removePeering removes numbers through Zoom's Provider Exchange as the
// carrier, in one call; Zoom answers for each number it kept.
func (t *Tasks) removePeering(ctx context.Context, account string, rs []*removal) {
	numbers := make([]string, len(rs))
	for i, r := range rs {
		numbers[i] = r.cur.Number
	}
	failures, err := t.zoom.RemovePeeringNumbers(ctx, account, t.cfg.CarrierCode, numbers)
	kept := map[string]zoom.PeeringFailure{}
	for _, f := range failures {
		kept[f.Number] = f
	}
	for _, r := range rs {
		f, failed := kept[r.cur.Number]
		switch {
		case err != nil:
			r.err = zoomErr("remove peering numbers through Zoom's Provider Exchange", err)
		case failed && f.Kind == zoom.Assigned:
			r.err = stateErr(ErrZoomAssigned, "%s is assigned in Zoom again: %s", r.cur.Number, f.Reason)
		case failed:
			r.err = stateErr(ErrZoomRejected, "Zoom did not remove %s for carrier %d: %s", r.cur.Number, t.cfg.CarrierCode, f.Reason)
		default:
			r.why = fmt.Sprintf("released: removed from Zoom by the carrier (Provider Exchange, carrier code %d)", t.cfg.CarrierCode)
		}
	}
}
