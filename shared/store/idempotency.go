package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
)

// An Idempotency-Key's record moves through the states of
// domain.IdempotencyState (README "Table design"): ReserveIdempotency,
// CompleteIdempotency and ReleaseIdempotency are conditional PutItems, so
// concurrent requests on real DynamoDB serialise on the item.
//
// A key is free when it has no record or its record's expires_at has passed:
// a reservation whose request died, a released one, an answer past its TTL.
// DynamoDB deletes expired items lazily (moto never does), so expired
// records are treated as absent.

// releasedGrace dates a released reservation's expiry this far in the past,
// so instances whose clocks run a little behind also see the key free.
const releasedGrace = time.Minute

// ReserveIdempotency claims a free key for one request for lease. It
// returns the new reservation and true; or, when the key is held, the
// record holding it (in progress or completed) and false.
func (s *Store) ReserveIdempotency(ctx context.Context, scope, key, bodyHash string, lease time.Duration) (domain.Idempotency, bool, error) {
	now := s.now().UTC()
	rec := domain.Idempotency{
		Scope: scope, Key: key, BodyHash: bodyHash, State: domain.IdempotencyInProgress,
		Owner: rand.Text(), CreatedAt: now, ExpiresAt: now.Add(lease),
	}
	av, err := s.idempotencyItem(rec)
	if err != nil {
		return domain.Idempotency{}, false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(PK) OR expires_at <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return domain.Idempotency{}, false, fmt.Errorf("reserve idempotency key: the key is held but its record was not returned")
		}
		held, err := decodeIdempotency(ccf.Item)
		if err != nil {
			return domain.Idempotency{}, false, err
		}
		// The SDK retries a call whose answer was lost; a retry of our own
		// successful put meets our own reservation.
		return held, held.Owner == rec.Owner, nil
	}
	if err != nil {
		return domain.Idempotency{}, false, fmt.Errorf("reserve idempotency key: %w", err)
	}
	return rec, true, nil
}

// CompleteIdempotency stores the answer of a reservation, to be replayed
// for domain.IdempotencyTTL. domain.ErrConflict if res no longer holds the key (its lease
// ended and another request reserved it).
func (s *Store) CompleteIdempotency(ctx context.Context, res domain.Idempotency, status int, body []byte) error {
	res.State, res.Status, res.Body = domain.IdempotencyCompleted, status, body
	res.ExpiresAt = s.now().UTC().Add(domain.IdempotencyTTL)
	return s.putOwned(ctx, res, "complete")
}

// ReleaseIdempotency gives up a reservation, so the key is free at once.
// domain.ErrConflict if res no longer holds the key.
func (s *Store) ReleaseIdempotency(ctx context.Context, res domain.Idempotency) error {
	res.Status, res.Body = 0, nil
	res.ExpiresAt = s.now().UTC().Add(-releasedGrace)
	return s.putOwned(ctx, res, "release")
}

// putOwned overwrites the record only while res's owner holds it.
func (s *Store) putOwned(ctx context.Context, res domain.Idempotency, what string) error {
	av, err := s.idempotencyItem(res)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av,
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: res.Owner}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s idempotency key: the reservation is no longer held: %w", what, domain.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("%s idempotency key: %w", what, err)
	}
	return nil
}

// GetIdempotency returns the live record of a key (in progress or
// completed), or domain.ErrNotFound when the key is free.
func (s *Store) GetIdempotency(ctx context.Context, scope, key string) (domain.Idempotency, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(idempotencyPK(scope, key), skIdempotency), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Idempotency{}, fmt.Errorf("get idempotency record: %w", err)
	}
	if out.Item == nil {
		return domain.Idempotency{}, domain.ErrNotFound
	}
	rec, err := decodeIdempotency(out.Item)
	if err != nil {
		return domain.Idempotency{}, err
	}
	if !rec.ExpiresAt.After(s.now()) {
		return domain.Idempotency{}, domain.ErrNotFound
	}
	return rec, nil
}

func (s *Store) idempotencyItem(rec domain.Idempotency) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(idempotencyItemOf(rec))
	if err != nil {
		return nil, fmt.Errorf("encode idempotency record: %w", err)
	}
	return av, nil
}

// expiresAt is t as the table's TTL attribute: Unix seconds, rounded up so
// a record never lapses before its time.
func expiresAt(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

func decodeIdempotency(raw map[string]types.AttributeValue) (domain.Idempotency, error) {
	var it idempotencyItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return domain.Idempotency{}, fmt.Errorf("decode idempotency record: %w", err)
	}
	return it.record(), nil
}
