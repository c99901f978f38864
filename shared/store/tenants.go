package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/ident"
	"numberrelease/shared/pause"
	"numberrelease/shared/table"
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

// PutTenants writes customers and provider links as set-up data (tests,
// the demo), in batches of at most 25 items, retrying unprocessed ones.
// Each customer given is written whole, listed, with its Zoom account's
// lookup, and its providers are the links given for it in this call; a
// link to a customer not given here is added to that customer's providers
// if it exists. Onboarding in service goes through PutCustomer and Link,
// which keep each change in one transaction. Customer and provider ids must
// be identifiers (package ident); if one is not, nothing is written.
func (s *Store) PutTenants(ctx context.Context, customers []domain.Customer, links []domain.Link) error {
	if err := checkTenantIDs(customers, links); err != nil {
		return err
	}
	providers := map[string][]string{}
	for _, l := range links {
		if !slices.Contains(providers[l.CustomerID], l.ProviderID) {
			providers[l.CustomerID] = append(providers[l.CustomerID], l.ProviderID)
		}
	}
	given := map[string]bool{}
	var items []map[string]types.AttributeValue
	for _, c := range customers {
		given[c.ID] = true
		av, err := attributevalue.MarshalMap(customerMetaOf(c, providers[c.ID]))
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
	if err := s.batchPut(ctx, items); err != nil {
		return err
	}
	for _, l := range links {
		if given[l.CustomerID] {
			continue
		}
		_, err := s.db.UpdateItem(ctx, addProvider(s.table, l))
		var ccf *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &ccf) {
			return fmt.Errorf("add provider %s to customer %s: %w", l.ProviderID, l.CustomerID, err)
		}
	}
	return nil
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

// GetCustomer reads a customer, with its providers (strongly consistent).
func (s *Store) GetCustomer(ctx context.Context, customerID string) (domain.Customer, error) {
	return s.getCustomer(ctx, customerPK(customerID))
}

// CustomerByZoomAccount finds the customer that owns a Zoom account.
func (s *Store) CustomerByZoomAccount(ctx context.Context, accountID string) (domain.Customer, error) {
	return s.getCustomer(ctx, zoomAccountPK(accountID))
}

func (s *Store) getCustomer(ctx context.Context, pk string) (domain.Customer, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(pk, skMeta), ConsistentRead: aws.Bool(true)})
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
// had: one transaction, so the customer and its lookup never disagree
// (PutCustomer moves it the same way). domain.ErrZoomAccountTaken (a
// domain.ErrConflict) when another customer has that account;
// domain.ErrNotFound when the customer does not exist.
func (s *Store) SetZoomAccount(ctx context.Context, customerID, accountID string) error {
	if err := ident.CheckZoomAccount(accountID); err != nil {
		return fmt.Errorf("zoom account id %q is not valid: %w", accountID, err)
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
		if failedCondition(tce, 1) {
			return fmt.Errorf("customer %s: zoom account %s: %w", customerID, accountID, domain.ErrZoomAccountTaken)
		}
		return fmt.Errorf("set zoom account of %s: %w", customerID, domain.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("set zoom account of %s: %w", customerID, err)
	}
	return nil
}

// PutCustomer writes a customer (name, Zoom account, contact emails; its
// links stay as they are) with every item that serves it, in one
// transaction: the customer's item, which is also its entry in the customer
// list, and the lookup of its Zoom account (the webhook's way from an
// account to its customer), moved from the account it had as SetZoomAccount
// moves it. prev is the customer as read before the write (nil: it did not
// exist); the write lands only if the customer still is as read in what
// the write relies on (it exists or not, the same Zoom account), so the
// right lookup is moved. domain.ErrZoomAccountTaken when another customer
// has the Zoom account; domain.ErrConflict when the customer changed since
// it was read (read it again and retry). Either way nothing is written.
func (s *Store) PutCustomer(ctx context.Context, c domain.Customer, prev *domain.Customer) error {
	if err := ident.Check(c.ID); err != nil {
		return fmt.Errorf("customer id %q is not a valid identifier: %w", c.ID, err)
	}
	if c.ZoomAccountID != "" {
		if err := ident.CheckZoomAccount(c.ZoomAccountID); err != nil {
			return fmt.Errorf("zoom account id %q is not valid: %w", c.ZoomAccountID, err)
		}
	}
	mine := &types.AttributeValueMemberS{Value: c.ID}
	names := map[string]string{"#id": "customer_id", "#name": "name", "#zoom": "zoom_account_id", "#emails": "contact_emails",
		"#lpk": table.AttrGSI1PK, "#lsk": table.AttrGSI1SK, "#pk": table.AttrPK}
	values := map[string]types.AttributeValue{
		":c": mine, ":n": &types.AttributeValueMemberS{Value: c.Name},
		":lpk": &types.AttributeValueMemberS{Value: customerListPK}, ":lsk": &types.AttributeValueMemberS{Value: customerListSK(c.ID)},
	}
	set := []string{"#id = :c", "#name = :n", "#lpk = :lpk", "#lsk = :lsk"}
	var remove []string
	if c.ZoomAccountID != "" {
		set = append(set, "#zoom = :a")
		values[":a"] = &types.AttributeValueMemberS{Value: c.ZoomAccountID}
	} else {
		remove = append(remove, "#zoom")
	}
	if len(c.ContactEmails) > 0 {
		set = append(set, "#emails = :e")
		emails := make([]types.AttributeValue, len(c.ContactEmails))
		for i, e := range c.ContactEmails {
			emails[i] = &types.AttributeValueMemberS{Value: e}
		}
		values[":e"] = &types.AttributeValueMemberL{Value: emails}
	} else {
		remove = append(remove, "#emails")
	}
	update := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		update += " REMOVE " + strings.Join(remove, ", ")
	}
	cond := "attribute_not_exists(#pk)"
	old := ""
	if prev != nil {
		old = prev.ZoomAccountID
		cond = "attribute_exists(#pk) AND attribute_not_exists(#zoom)"
		if old != "" {
			cond = "attribute_exists(#pk) AND #zoom = :old"
			values[":old"] = &types.AttributeValueMemberS{Value: old}
		}
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(s.table), Key: keyOf(customerPK(c.ID), skMeta),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}}
	mineOnly := map[string]types.AttributeValue{":c": mine}
	lookupAt := -1
	if c.ZoomAccountID != "" {
		lookup, err := attributevalue.MarshalMap(customerItemOf(zoomAccountPK(c.ZoomAccountID), c))
		if err != nil {
			return fmt.Errorf("encode zoom account of %s: %w", c.ID, err)
		}
		lookupAt = len(items)
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: lookup,
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR customer_id = :c"),
			ExpressionAttributeValues: mineOnly,
		}})
	}
	if old != "" && old != c.ZoomAccountID {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: keyOf(zoomAccountPK(old), skMeta),
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR customer_id = :c"),
			ExpressionAttributeValues: mineOnly,
		}})
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		if lookupAt >= 0 && failedCondition(tce, lookupAt) {
			return fmt.Errorf("customer %s: zoom account %s: %w", c.ID, c.ZoomAccountID, domain.ErrZoomAccountTaken)
		}
		return fmt.Errorf("put customer %s: it changed meanwhile: %w", c.ID, domain.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("put customer %s: %w", c.ID, err)
	}
	return nil
}

// failedCondition reports whether the transaction's item at i was refused
// by its condition.
func failedCondition(tce *types.TransactionCanceledException, i int) bool {
	r := tce.CancellationReasons
	return len(r) > i && aws.ToString(r[i].Code) == "ConditionalCheckFailed"
}

// Link lets a provider act for a customer: the link, and the provider in the
// customer's providers, in one transaction. Linking again changes nothing.
// domain.ErrNotFound when the customer does not exist (nothing written).
func (s *Store) Link(ctx context.Context, providerID, customerID string) error {
	l := domain.Link{ProviderID: providerID, CustomerID: customerID}
	if err := checkTenantIDs(nil, []domain.Link{l}); err != nil {
		return err
	}
	link, err := attributevalue.MarshalMap(&linkItem{PK: providerPK(providerID), SK: linkSK(customerID), ProviderID: providerID, CustomerID: customerID})
	if err != nil {
		return fmt.Errorf("encode link %s→%s: %w", providerID, customerID, err)
	}
	add := addProvider(s.table, l)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: link}},
		{Update: &types.Update{TableName: add.TableName, Key: add.Key, UpdateExpression: add.UpdateExpression,
			ConditionExpression: add.ConditionExpression, ExpressionAttributeNames: add.ExpressionAttributeNames,
			ExpressionAttributeValues: add.ExpressionAttributeValues}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && failedCondition(tce, 1) {
		return fmt.Errorf("customer %s: %w", customerID, domain.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("link %s→%s: %w", providerID, customerID, err)
	}
	return nil
}

// addProvider adds l's provider to its customer's providers, if the
// customer exists.
func addProvider(tableName string, l domain.Link) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: aws.String(tableName), Key: keyOf(customerPK(l.CustomerID), skMeta),
		UpdateExpression:          aws.String("ADD #providers :p"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#providers": "providers", "#pk": table.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberSS{Value: []string{l.ProviderID}}},
	}
}

// Unlink ends a provider's right to act for a customer: the link, and the
// provider in the customer's providers, in one transaction. Unlinking
// again changes nothing; a link to a customer that does not exist is
// removed alone.
func (s *Store) Unlink(ctx context.Context, providerID, customerID string) error {
	if err := checkTenantIDs(nil, []domain.Link{{ProviderID: providerID, CustomerID: customerID}}); err != nil {
		return err
	}
	link := &types.Delete{TableName: aws.String(s.table), Key: keyOf(providerPK(providerID), linkSK(customerID))}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: link},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: keyOf(customerPK(customerID), skMeta),
			UpdateExpression:          aws.String("DELETE #providers :p"),
			ConditionExpression:       aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames:  map[string]string{"#providers": "providers", "#pk": table.AttrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberSS{Value: []string{providerID}}},
		}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && failedCondition(tce, 1) {
		_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: link.TableName, Key: link.Key})
	}
	if err != nil {
		return fmt.Errorf("unlink %s→%s: %w", providerID, customerID, err)
	}
	return nil
}

// ListCustomers returns one page of every customer, by id, with its
// providers: one Query of the customer list (the ByCustomer index), never
// a Scan, and no read per link. The cursor is opaque and valid for this
// listing only (domain.ErrBadCursor otherwise).
func (s *Store) ListCustomers(ctx context.Context, cursor string, limit int) (domain.CustomerPage, error) {
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	limit = min(limit, domain.MaxPageSize)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(table.IndexCustomer),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": table.AttrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: customerListPK}},
		Limit:                     aws.Int32(int32(limit)),
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, table.AttrGSI1PK, customerListPK)
		if err != nil {
			return domain.CustomerPage{}, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return domain.CustomerPage{}, fmt.Errorf("list customers: %w", err)
	}
	page := domain.CustomerPage{Items: make([]domain.Customer, 0, len(out.Items))}
	for _, raw := range out.Items {
		var it customerItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return domain.CustomerPage{}, fmt.Errorf("decode listed customer: %w", err)
		}
		page.Items = append(page.Items, it.customer())
	}
	if len(out.LastEvaluatedKey) > 0 {
		if page.NextCursor, err = encodeCursor(out.LastEvaluatedKey); err != nil {
			return domain.CustomerPage{}, err
		}
	}
	return page, nil
}

// LinkedCustomers returns the customers linked to a provider, by id: its
// links (one Query, paged through), then the customers' items, 100 keys
// per read. A link to a customer that does not exist is left out.
func (s *Store) LinkedCustomers(ctx context.Context, providerID string) ([]domain.Customer, error) {
	var ids []string
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: providerPK(providerID)}, ":sk": &types.AttributeValueMemberS{Value: "CUST#"}},
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("links of %s: %w", providerID, err)
		}
		for _, raw := range out.Items {
			var it linkItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("decode link of %s: %w", providerID, err)
			}
			ids = append(ids, it.CustomerID)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(customerPK(id), skMeta)
	}
	found := make(map[string]domain.Customer, len(ids))
	if err := s.batchGet(ctx, keys, false, func(raw map[string]types.AttributeValue) error {
		var it customerItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return fmt.Errorf("decode customer: %w", err)
		}
		found[it.ID] = it.customer()
		return nil
	}); err != nil {
		return nil, fmt.Errorf("customers of %s: %w", providerID, err)
	}
	out := make([]domain.Customer, 0, len(found))
	for _, id := range ids {
		if c, ok := found[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}
