package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
)

const lease = time.Minute

func mustReserve(t *testing.T, s *Store, scope, key, hash string) domain.Idempotency {
	t.Helper()
	res, ok, err := s.ReserveIdempotency(context.Background(), scope, key, hash, lease)
	if err != nil || !ok {
		t.Fatalf("reserve %s/%s = %+v, %v, %v; want a reservation", scope, key, res, ok, err)
	}
	return res
}

// TestIdempotencyLifecycle walks a key through its states.
func TestIdempotencyLifecycle(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Now()
	s.now = func() time.Time { return now }

	if _, err := s.GetIdempotency(ctx, "pxc", "k1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown key err = %v", err)
	}
	res := mustReserve(t, s, "pxc", "k1", "h")
	if res.Owner == "" || res.State != domain.IdempotencyInProgress {
		t.Fatalf("reservation = %+v", res)
	}
	// The key is held: another request learns by whom and with which body.
	held, ok, err := s.ReserveIdempotency(ctx, "pxc", "k1", "other-hash", lease)
	if err != nil || ok || held.State != domain.IdempotencyInProgress || held.BodyHash != "h" || held.Owner != res.Owner {
		t.Fatalf("second reserve = %+v, %v, %v; want the first's reservation", held, ok, err)
	}
	if got, err := s.GetIdempotency(ctx, "pxc", "k1"); err != nil || got.State != domain.IdempotencyInProgress {
		t.Fatalf("GetIdempotency = %+v, %v", got, err)
	}
	// Keys are per scope.
	mustReserve(t, s, "other", "k1", "h")

	// Only the holder completes it.
	stranger := res
	stranger.Owner = "someone-else"
	if err := s.CompleteIdempotency(ctx, stranger, 201, []byte(`{"x":1}`)); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("complete by a stranger err = %v; want ErrConflict", err)
	}
	if err := s.CompleteIdempotency(ctx, res, 201, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	held, ok, err = s.ReserveIdempotency(ctx, "pxc", "k1", "h", lease)
	if err != nil || ok || held.State != domain.IdempotencyCompleted || held.Status != 201 || string(held.Body) != `{"a":1}` {
		t.Fatalf("reserve of a completed key = %+v, %v, %v; want the stored answer", held, ok, err)
	}

	// Completed answers last domain.IdempotencyTTL; then the key is free.
	now = now.Add(domain.IdempotencyTTL + time.Second)
	if _, err := s.GetIdempotency(ctx, "pxc", "k1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("expired record err = %v; want ErrNotFound", err)
	}
	mustReserve(t, s, "pxc", "k1", "h2")
}

func TestIdempotencyRelease(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	res := mustReserve(t, s, "pxc", "k2", "h")
	if err := s.ReleaseIdempotency(ctx, res); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIdempotency(ctx, "pxc", "k2"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("released key err = %v; want ErrNotFound", err)
	}
	// Free at once, for any body.
	again := mustReserve(t, s, "pxc", "k2", "other-body")
	// The first holder can no longer touch it.
	if err := s.ReleaseIdempotency(ctx, res); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("release by the old holder err = %v; want ErrConflict", err)
	}
	if got, err := s.GetIdempotency(ctx, "pxc", "k2"); err != nil || got.Owner != again.Owner {
		t.Fatalf("GetIdempotency = %+v, %v; want the new reservation", got, err)
	}
}

// TestIdempotencyLeaseEnds: a reservation whose request died frees the key
// when its lease ends; the late holder then cannot overwrite the new one.
func TestIdempotencyLeaseEnds(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Now()
	s.now = func() time.Time { return now }
	dead := mustReserve(t, s, "pxc", "k3", "h")

	now = now.Add(lease - time.Second)
	if _, ok, err := s.ReserveIdempotency(ctx, "pxc", "k3", "h", lease); ok || err != nil {
		t.Fatalf("reserve during the lease = %v, %v; want held", ok, err)
	}
	now = now.Add(2 * time.Second)
	if _, err := s.GetIdempotency(ctx, "pxc", "k3"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("GetIdempotency after the lease err = %v; want ErrNotFound", err)
	}
	taker := mustReserve(t, s, "pxc", "k3", "h")
	if err := s.CompleteIdempotency(ctx, dead, 201, []byte(`{}`)); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("complete by the lapsed holder err = %v; want ErrConflict", err)
	}
	if err := s.CompleteIdempotency(ctx, taker, 201, []byte(`{"t":1}`)); err != nil {
		t.Fatal(err)
	}
}

// TestIdempotencyScopeCannotBeForged: a scope holding the key delimiter
// names its own record, never another scope's.
func TestIdempotencyScopeCannotBeForged(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	res := mustReserve(t, s, "pxc", "batch#1", "h")
	if err := s.CompleteIdempotency(ctx, res, 201, []byte(`{"secret":1}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetIdempotency(ctx, "pxc#batch", "1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("scope pxc#batch read %+v, %v; want ErrNotFound", got, err)
	}
	mustReserve(t, s, "pxc#batch", "1", "h")
}

// TestIdempotencyRecordsOfBefore: answers stored before reservations
// existed (no state attribute) read as completed.
func TestIdempotencyRecordsOfBefore(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	_, err := spy.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "IDEM#pxc#old"}, "SK": &types.AttributeValueMemberS{Value: "IDEM"},
		"scope": &types.AttributeValueMemberS{Value: "pxc"}, "key": &types.AttributeValueMemberS{Value: "old"},
		"body_hash": &types.AttributeValueMemberS{Value: "h"}, "status": &types.AttributeValueMemberN{Value: "201"},
		"body":       &types.AttributeValueMemberB{Value: []byte(`{"old":1}`)},
		"created_at": &types.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)},
		"expires_at": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(time.Hour).Unix())},
	}})
	if err != nil {
		t.Fatal(err)
	}
	held, ok, err := s.ReserveIdempotency(ctx, "pxc", "old", "h", lease)
	if err != nil || ok || held.State != domain.IdempotencyCompleted || held.Status != 201 || string(held.Body) != `{"old":1}` {
		t.Fatalf("reserve over an old answer = %+v, %v, %v", held, ok, err)
	}
}

// TestIdempotencyReserveIsExclusive: of requests reserving one key at once,
// exactly one gets it. (This relies on conditional writes being atomic, as
// they are on DynamoDB; an emulator that does not serialise them fails it.)
func TestIdempotencyReserveIsExclusive(t *testing.T) {
	s, _ := newStore(t)
	const keys, racers = 50, 4
	for k := range keys {
		key := fmt.Sprintf("together-%d", k)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, errs := 0, []error{}
		start := make(chan struct{})
		for r := range racers {
			wg.Go(func() {
				<-start
				_, ok, err := s.ReserveIdempotency(context.Background(), "pxc", key, fmt.Sprint(r), lease)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if ok {
					won++
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 || won != 1 {
			t.Fatalf("key %s: %d of %d concurrent reservations succeeded (errors %v); want exactly 1", key, won, racers, errs)
		}
	}
}

// putTwiceDB sends every PutItem twice, as the SDK does when the answer to a
// write that succeeded is lost and the call is retried.
type putTwiceDB struct{ DB }

func (d putTwiceDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := d.DB.PutItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return d.DB.PutItem(ctx, in, opts...)
}

// TestIdempotencyRetriedReservation: a retried reservation that meets its
// own first attempt holds the key.
func TestIdempotencyRetriedReservation(t *testing.T) {
	s, spy := newStore(t)
	retried := New(putTwiceDB{spy}, s.table)
	res, ok, err := retried.ReserveIdempotency(context.Background(), "pxc", "k5", "h", lease)
	if err != nil || !ok || res.Owner == "" {
		t.Fatalf("retried reserve = %+v, %v, %v; want the reservation", res, ok, err)
	}
	if err := retried.CompleteIdempotency(context.Background(), res, 201, []byte(`{}`)); err != nil {
		t.Fatalf("retried complete: %v", err)
	}
	if _, ok, _ := s.ReserveIdempotency(context.Background(), "pxc", "k5", "h", lease); ok {
		t.Fatal("the key is free after a retried reservation was completed")
	}
}
