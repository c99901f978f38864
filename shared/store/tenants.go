package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/ident"
	"numberrelease/shared/pause"
)

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
// batches of at most 25 items, retrying unprocessed ones. Customer and
// provider ids must be identifiers (package ident); if one is not, nothing
// is written.
func (s *Store) PutTenants(ctx context.Context, customers []domain.Customer, links []domain.Link) error {
	if err := checkTenantIDs(customers, links); err != nil {
		return err
	}
	var items []map[string]types.AttributeValue
	for _, c := range customers {
		av, err := attributevalue.MarshalMap(customerItemOf(customerPK(c.ID), c))
		if err != nil {
			return fmt.Errorf("encode customer %s: %w", c.ID, err)
		}
		items = append(items, av)
		if c.ZoomAccountID != "" {
			av, err := attributevalue.MarshalMap(customerItemOf(zoomAccountPK(c.ZoomAccountID), c))
			if err != nil {
				return fmt.Errorf("encode zoom account of %s: %w", c.ID, err)
			}
			items = append(items, av)
		}
	}
	for _, l := range links {
		av, err := attributevalue.MarshalMap(&linkItem{PK: providerPK(l.ProviderID), SK: linkSK(l.CustomerID), ProviderID: l.ProviderID, CustomerID: l.CustomerID})
		if err != nil {
			return fmt.Errorf("encode link %s→%s: %w", l.ProviderID, l.CustomerID, err)
		}
		items = append(items, av)
	}
	return s.batchPut(ctx, items)
}

func checkTenantIDs(customers []domain.Customer, links []domain.Link) error {
	for _, c := range customers {
		if err := ident.Check(c.ID); err != nil {
			return fmt.Errorf("customer id %q is not a valid identifier: %w", c.ID, err)
		}
	}
	for _, l := range links {
		if err := ident.Check(l.ProviderID); err != nil {
			return fmt.Errorf("link: provider id %q is not a valid identifier: %w", l.ProviderID, err)
		}
		if err := ident.Check(l.CustomerID); err != nil {
			return fmt.Errorf("link: customer id %q is not a valid identifier: %w", l.CustomerID, err)
		}
	}
	return nil
}

// GetCustomer reads a customer.
func (s *Store) GetCustomer(ctx context.Context, customerID string) (domain.Customer, error) {
	return s.getCustomer(ctx, customerPK(customerID))
}

// CustomerByZoomAccount finds the customer that owns a Zoom account.
func (s *Store) CustomerByZoomAccount(ctx context.Context, accountID string) (domain.Customer, error) {
	return s.getCustomer(ctx, zoomAccountPK(accountID))
}

func (s *Store) getCustomer(ctx context.Context, pk string) (domain.Customer, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(pk, skMeta)})
	if err != nil {
		return domain.Customer{}, fmt.Errorf("get customer %s: %w", pk, err)
	}
	if out.Item == nil {
		return domain.Customer{}, fmt.Errorf("customer %s: %w", pk, domain.ErrNotFound)
	}
	var it customerItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Customer{}, fmt.Errorf("decode customer %s: %w", pk, err)
	}
	return it.customer(), nil
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
				if err := pause.For(ctx, s.backoff(attempt)); err != nil {
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

// SetZoomAccount records the Zoom account a customer connected (learned
// from Zoom at Connect Zoom), moving its lookup item from the account it
// had: one transaction, so the customer and its lookup never disagree.
// domain.ErrConflict when another customer has that account;
// domain.ErrNotFound when the customer does not exist.
func (s *Store) SetZoomAccount(ctx context.Context, customerID, accountID string) error {
	if err := ident.Check(accountID); err != nil {
		return fmt.Errorf("zoom account id %q is not a valid identifier: %w", accountID, err)
	}
	c, err := s.GetCustomer(ctx, customerID)
	if err != nil {
		return err
	}
	old := c.ZoomAccountID
	c.ZoomAccountID = accountID
	lookup, err := attributevalue.MarshalMap(customerItemOf(zoomAccountPK(accountID), c))
	if err != nil {
		return fmt.Errorf("encode zoom account of %s: %w", customerID, err)
	}
	mine := map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: customerID}}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: keyOf(customerPK(customerID), skMeta),
			UpdateExpression:    aws.String("SET zoom_account_id = :a"),
			ConditionExpression: aws.String("customer_id = :c AND (attribute_not_exists(zoom_account_id) OR zoom_account_id = :old)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":a": &types.AttributeValueMemberS{Value: accountID}, ":c": mine[":c"], ":old": &types.AttributeValueMemberS{Value: old},
			},
		}},
		{Put: &types.Put{
			TableName: aws.String(s.table), Item: lookup,
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR customer_id = :c"),
			ExpressionAttributeValues: mine,
		}},
	}
	if old != "" && old != accountID {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: keyOf(zoomAccountPK(old), skMeta),
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR customer_id = :c"),
			ExpressionAttributeValues: mine,
		}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		// The second item is the lookup: its condition fails when another
		// customer holds the account.
		if r := tce.CancellationReasons; len(r) > 1 && aws.ToString(r[1].Code) == "ConditionalCheckFailed" {
			return fmt.Errorf("zoom account %s belongs to another customer: %w", accountID, domain.ErrConflict)
		}
		return fmt.Errorf("set zoom account of %s: %w", customerID, domain.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("set zoom account of %s: %w", customerID, err)
	}
	return nil
}
