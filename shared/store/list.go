package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/table"
)

// ListNumbers returns one page of a customer's numbers from an index (never a
// Scan), ordered by status then number. The cursor is opaque to callers and
// only valid for the same listing: one minted for another customer,
// provider, set of statuses or prefix is refused.
//
// A listing reads one key range of the index per status, in the order of
// the statuses' names (which is the index's own order, so a listing of
// several statuses is the unfiltered listing without the others), and fills
// a page from as many ranges as it takes; the cursor says which range it
// stopped in and where. RELEASED numbers have an index partition of their
// own (keys.go), so a range of RELEASED reads that partition. Without
// statuses or prefix, the listing is one range: the whole partition of
// every status but RELEASED.
func (s *Store) ListNumbers(ctx context.Context, q domain.ListQuery) (domain.Page, error) {
	index, pkAttr, skAttr := table.IndexCustomer, table.AttrGSI1PK, table.AttrGSI1SK
	if q.ProviderID != "" {
		index, pkAttr, skAttr = table.IndexProvider, table.AttrGSI2PK, table.AttrGSI2SK
	}
	ranges := listRanges(q)
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	limit = min(limit, domain.MaxPageSize)

	at, start := 0, map[string]types.AttributeValue(nil)
	listing := listingOf(q)
	if q.Cursor != "" {
		var err error
		if at, start, err = decodeListCursor(q.Cursor, listing, ranges, pkAttr, skAttr); err != nil {
			return domain.Page{}, err
		}
	}
	page := domain.Page{Items: make([]domain.Number, 0, limit)}
	for at < len(ranges) && len(page.Items) < limit {
		r := ranges[at]
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(index),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: r.pk}},
			Limit:                     aws.Int32(int32(limit - len(page.Items))),
			ExclusiveStartKey:         start,
		}
		if r.skPrefix != "" {
			in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :sk)")
			in.ExpressionAttributeNames["#sk"] = skAttr
			in.ExpressionAttributeValues[":sk"] = &types.AttributeValueMemberS{Value: r.skPrefix}
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return domain.Page{}, fmt.Errorf("list numbers of %s: %w", q.CustomerID, err)
		}
		for _, raw := range out.Items {
			var it numberItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return domain.Page{}, fmt.Errorf("decode listed number: %w", err)
			}
			page.Items = append(page.Items, it.number())
		}
		start = out.LastEvaluatedKey
		if len(start) == 0 {
			at++ // this range is read to its end
		}
	}
	if at < len(ranges) {
		var err error
		if page.NextCursor, err = encodeListCursor(listing, ranges[at], start); err != nil {
			return domain.Page{}, err
		}
	}
	return page, nil
}

// listRange is one key range of an index a listing reads: a partition and,
// unless the whole partition is read, the prefix of its sort keys.
type listRange struct {
	status   domain.Status // None: every status but RELEASED
	pk       string
	skPrefix string
}

// listRanges is the key ranges a listing reads, in order.
func listRanges(q domain.ListQuery) []listRange {
	pkOf := func(st domain.Status) string {
		if q.ProviderID != "" {
			return providerIndexPK(q.ProviderID, q.CustomerID, st)
		}
		return customerIndexPK(q.CustomerID, st)
	}
	statuses := q.ListedStatuses()
	if statuses == nil {
		if q.Prefix == "" {
			return []listRange{{status: domain.None, pk: pkOf(domain.None)}}
		}
		for _, st := range domain.Statuses {
			if st != domain.Released {
				statuses = append(statuses, st)
			}
		}
		slices.Sort(statuses)
	}
	ranges := make([]listRange, len(statuses))
	for i, st := range statuses {
		ranges[i] = listRange{status: st, pk: pkOf(st), skPrefix: indexSK(st, q.Prefix)}
	}
	return ranges
}

// listingOf names a listing's filters, so that a cursor is refused by a
// listing with other filters.
func listingOf(q domain.ListQuery) string {
	names := make([]string, 0, len(q.Statuses)+1)
	for _, st := range q.ListedStatuses() {
		names = append(names, string(st))
	}
	return strings.Join(names, ",") + "|" + q.Prefix
}

// cursor is where the next page of a listing starts: a range of it (by
// status, with its partition) and, unless the range is to be read from its
// start, the index key of the last number listed.
type cursor struct {
	Listing   string            `json:"l"`
	Status    string            `json:"s"`
	Partition string            `json:"p"`
	Key       map[string]string `json:"k,omitempty"`
}

func encodeListCursor(listing string, r listRange, key map[string]types.AttributeValue) (string, error) {
	c := cursor{Listing: listing, Status: string(r.status), Partition: r.pk}
	if len(key) > 0 {
		c.Key = make(map[string]string, len(key))
		for k, v := range key {
			sv, ok := v.(*types.AttributeValueMemberS)
			if !ok {
				return "", fmt.Errorf("encode cursor: key attribute %s is not a string", k)
			}
			c.Key[k] = sv.Value
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeListCursor accepts only a cursor of this listing whose index partition
// is one being listed and whose key lies in its range, so a cursor cannot
// be used to read another tenant's numbers (or make an out-of-range query).
// It returns the range to go on in and the key to start after (nil: the
// range's start).
func decodeListCursor(raw, listing string, ranges []listRange, pkAttr, skAttr string) (int, map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return 0, nil, domain.ErrBadCursor
	}
	var c cursor
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Listing != listing {
		return 0, nil, domain.ErrBadCursor
	}
	at := slices.IndexFunc(ranges, func(r listRange) bool { return string(r.status) == c.Status })
	if at < 0 || ranges[at].pk != c.Partition {
		return 0, nil, domain.ErrBadCursor
	}
	if c.Key == nil {
		return at, nil, nil
	}
	if len(c.Key) != 4 || c.Key[pkAttr] != c.Partition || !strings.HasPrefix(c.Key[skAttr], ranges[at].skPrefix) {
		return 0, nil, domain.ErrBadCursor
	}
	key := make(map[string]types.AttributeValue, len(c.Key))
	for k, v := range c.Key {
		switch k {
		case table.AttrPK, table.AttrSK, pkAttr, skAttr:
		default:
			return 0, nil, domain.ErrBadCursor
		}
		key[k] = &types.AttributeValueMemberS{Value: v}
	}
	return at, key, nil
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
// listed, so a cursor cannot be used to read another tenant's items.
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
