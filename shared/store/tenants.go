package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type customerItem struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
	Customer
}

type linkItem struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
	Link
}

type idempotencyItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
	Idempotency
}

// IsLinked reports whether a provider may act for a customer.
func (s *Store) IsLinked(ctx context.Context, providerID, customerID string) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(providerPK(providerID), linkSK(customerID)),
	})
	if err != nil {
		return false, fmt.Errorf("link %s→%s: %w", providerID, customerID, err)
	}
	return out.Item != nil, nil
}

// PutTenants writes customers and provider links (set-up and demo data), in
// batches of at most 25 items, retrying unprocessed ones.
func (s *Store) PutTenants(ctx context.Context, customers []Customer, links []Link) error {
	var items []map[string]types.AttributeValue
	for _, c := range customers {
		av, err := attributevalue.MarshalMap(customerItem{PK: customerPK(c.ID), SK: skMeta, Customer: c})
		if err != nil {
			return fmt.Errorf("encode customer %s: %w", c.ID, err)
		}
		items = append(items, av)
		if c.ZoomAccountID != "" {
			av, err := attributevalue.MarshalMap(customerItem{PK: zoomAccountPK(c.ZoomAccountID), SK: skMeta, Customer: c})
			if err != nil {
				return fmt.Errorf("encode zoom account of %s: %w", c.ID, err)
			}
			items = append(items, av)
		}
	}
	for _, l := range links {
		av, err := attributevalue.MarshalMap(linkItem{PK: providerPK(l.ProviderID), SK: linkSK(l.CustomerID), Link: l})
		if err != nil {
			return fmt.Errorf("encode link %s→%s: %w", l.ProviderID, l.CustomerID, err)
		}
		items = append(items, av)
	}
	return s.batchPut(ctx, items)
}

// GetCustomer reads a customer.
func (s *Store) GetCustomer(ctx context.Context, customerID string) (Customer, error) {
	return s.getCustomer(ctx, customerPK(customerID))
}

// CustomerByZoomAccount finds the customer that owns a Zoom account.
func (s *Store) CustomerByZoomAccount(ctx context.Context, accountID string) (Customer, error) {
	return s.getCustomer(ctx, zoomAccountPK(accountID))
}

func (s *Store) getCustomer(ctx context.Context, pk string) (Customer, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(pk, skMeta)})
	if err != nil {
		return Customer{}, fmt.Errorf("get customer %s: %w", pk, err)
	}
	if out.Item == nil {
		return Customer{}, fmt.Errorf("customer %s: %w", pk, ErrNotFound)
	}
	var it customerItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Customer{}, fmt.Errorf("decode customer %s: %w", pk, err)
	}
	return it.Customer, nil
}

func (s *Store) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	for start := 0; start < len(items); start += maxBatchWrite {
		var reqs []types.WriteRequest
		for _, it := range items[start:min(start+maxBatchWrite, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > maxBatchRetries {
				return fmt.Errorf("batch write: items still unprocessed after %d retries", maxBatchRetries)
			}
			if attempt > 0 {
				if err := sleep(ctx, s.backoff(attempt)); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("batch write: %w", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// GetIdempotency returns the answer remembered for a key, or ErrNotFound.
func (s *Store) GetIdempotency(ctx context.Context, scope, key string) (Idempotency, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(idempotencyPK(scope, key), skIdempotency), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Idempotency{}, fmt.Errorf("get idempotency record: %w", err)
	}
	if out.Item == nil {
		return Idempotency{}, ErrNotFound
	}
	var it idempotencyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Idempotency{}, fmt.Errorf("decode idempotency record: %w", err)
	}
	// DynamoDB deletes expired items lazily (moto never does): an expired
	// record is treated as absent.
	if it.ExpiresAt <= s.now().Unix() {
		return Idempotency{}, ErrNotFound
	}
	return it.Idempotency, nil
}

// PutIdempotency remembers an answer; ErrConflict if another request stored
// one for the same key first (an expired record may be replaced).
func (s *Store) PutIdempotency(ctx context.Context, rec Idempotency) error {
	now := s.now()
	rec.CreatedAt = now.UTC()
	av, err := attributevalue.MarshalMap(idempotencyItem{
		PK: idempotencyPK(rec.Scope, rec.Key), SK: skIdempotency,
		ExpiresAt: now.Add(IdempotencyTTL).Unix(), Idempotency: rec,
	})
	if err != nil {
		return fmt.Errorf("encode idempotency record: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR expires_at <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("put idempotency record: %w", err)
	}
	return nil
}
