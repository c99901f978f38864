package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/table"
)

// ErrNotHistory is returned by HistoryFromRecord for stream records that
// are not the insert of a history item.
var ErrNotHistory = errors.New("not the insert of a history item")

// HistoryFromRecord reads the history entry a table stream record inserts
// (NEW_IMAGE). Every status change writes one, in the same transaction as
// the change, so the stream's history inserts are the service's status
// changes, each exactly as recorded. It returns ErrNotHistory (test with
// errors.Is) for any other record, and another error for a history item
// that cannot be read.
func HistoryFromRecord(rec events.DynamoDBEventRecord) (domain.HistoryEntry, error) {
	img := rec.Change.NewImage
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) || img == nil {
		return domain.HistoryEntry{}, ErrNotHistory
	}
	sk, ok := img[table.AttrSK]
	if !ok || sk.DataType() != events.DataTypeString || !strings.HasPrefix(sk.String(), historyPrefix) {
		return domain.HistoryEntry{}, ErrNotHistory
	}
	item, err := fromStreamMap(img)
	if err != nil {
		return domain.HistoryEntry{}, fmt.Errorf("history item %s: %w", sk.String(), err)
	}
	var h historyItem
	if err := attributevalue.UnmarshalMap(item, &h); err != nil {
		return domain.HistoryEntry{}, fmt.Errorf("decode history item %s %s: %w", h.PK, sk.String(), err)
	}
	if h.CustomerID == "" || h.Number == "" || h.To == "" || h.Version <= 0 {
		return domain.HistoryEntry{}, fmt.Errorf("history item %s %s lacks customer_id, number, to or version", h.PK, h.SK)
	}
	return h.entry(), nil
}

// fromStreamMap converts a stream image from the Lambda event shape to the
// SDK's attribute values, so attributevalue can decode it.
func fromStreamMap(m map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := fromStream(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func fromStream(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			av, err := fromStream(e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := fromStreamMap(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %v", v.DataType())
}
