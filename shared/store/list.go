package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/table"
)

// ListNumbers returns one page of a customer's numbers from an index (never a
// Scan), ordered by status then number. The cursor is opaque to callers and
// only valid for the same listing: one minted for another customer or
// provider is refused.
func (s *Store) ListNumbers(ctx context.Context, q domain.ListQuery) (domain.Page, error) {
	index, pkAttr, skAttr := table.IndexCustomer, table.AttrGSI1PK, table.AttrGSI1SK
	pk := customerIndexPK(q.CustomerID, q.Status)
	if q.ProviderID != "" {
		index, pkAttr, skAttr = table.IndexProvider, table.AttrGSI2PK, table.AttrGSI2SK
		pk = providerIndexPK(q.ProviderID, q.CustomerID, q.Status)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	limit = min(limit, domain.MaxPageSize)

	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		Limit:                     aws.Int32(int32(limit)),
	}
	if q.Status != domain.None && q.Status != domain.Released {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :st)")
		in.ExpressionAttributeNames["#sk"] = skAttr
		in.ExpressionAttributeValues[":st"] = &types.AttributeValueMemberS{Value: string(q.Status) + "#"}
	}
	if q.Cursor != "" {
		start, err := decodeCursor(q.Cursor, pkAttr, pk)
		if err != nil {
			return domain.Page{}, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return domain.Page{}, fmt.Errorf("list numbers of %s: %w", q.CustomerID, err)
	}
	page := domain.Page{Items: make([]domain.Number, 0, len(out.Items))}
	for _, raw := range out.Items {
		var it numberItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return domain.Page{}, fmt.Errorf("decode listed number: %w", err)
		}
		page.Items = append(page.Items, it.number())
	}
	if len(out.LastEvaluatedKey) > 0 {
		if page.NextCursor, err = encodeCursor(out.LastEvaluatedKey); err != nil {
			return domain.Page{}, err
		}
	}
	return page, nil
}

func encodeCursor(key map[string]types.AttributeValue) (string, error) {
	flat := make(map[string]string, len(key))
	for k, v := range key {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("encode cursor: key attribute %s is not a string", k)
		}
		flat[k] = sv.Value
	}
	b, err := json.Marshal(flat)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeCursor accepts only a cursor whose index partition is the one being
// listed, so a cursor cannot be used to read another tenant's numbers.
func decodeCursor(cursor, pkAttr, pk string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, domain.ErrBadCursor
	}
	var flat map[string]string
	if err := json.Unmarshal(b, &flat); err != nil || flat[pkAttr] != pk || len(flat) != 4 {
		return nil, domain.ErrBadCursor
	}
	key := make(map[string]types.AttributeValue, len(flat))
	for k, v := range flat {
		switch k {
		case table.AttrPK, table.AttrSK, table.AttrGSI1PK, table.AttrGSI1SK, table.AttrGSI2PK, table.AttrGSI2SK:
		default:
			return nil, domain.ErrBadCursor
		}
		key[k] = &types.AttributeValueMemberS{Value: v}
	}
	return key, nil
}
