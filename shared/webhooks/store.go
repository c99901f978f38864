package webhooks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/table"
)

// KeyPrefix begins the partition key of every item of this package:
//
//	registration  PK=WEBHOOK#<provider>  SK=CONFIG
//	delivery      PK=WEBHOOK#<provider>  SK=DLV#<time, RFC 3339 fixed width>#<webhook-id>#<attempt>  (expires_at TTL)
//
// The functions' IAM grants are limited to these keys (infra/stack).
const KeyPrefix = "WEBHOOK#"

const (
	skConfig       = "CONFIG"
	deliveryPrefix = "DLV#"
	// DeliveryRetention is how long a delivery's record is kept.
	DeliveryRetention = 30 * 24 * time.Hour
	// RecentDeliveries is how many deliveries GET shows.
	RecentDeliveries = 20
	skTime           = "2006-01-02T15:04:05.000000000Z"
)

// DB is the part of DynamoDB the registrations use.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Registration is a provider's webhook as stored. The secret is only ever
// stored sealed (SecretBox).
type Registration struct {
	ProviderID string    `dynamodbav:"provider_id"`
	URL        string    `dynamodbav:"url"`
	Events     []string  `dynamodbav:"events,omitempty"`
	Sealed     []byte    `dynamodbav:"sealed_secret"`
	UpdatedAt  time.Time `dynamodbav:"updated_at"`
}

// Delivery is one attempt as recorded and shown by GET.
type Delivery struct {
	ID         string    `dynamodbav:"webhook_id" json:"id"`
	Type       string    `dynamodbav:"event_type" json:"type"`
	Number     string    `dynamodbav:"number,omitempty" json:"number,omitempty"`
	CustomerID string    `dynamodbav:"customer_id,omitempty" json:"customer_id,omitempty"`
	Attempt    int       `dynamodbav:"attempt" json:"attempt"`
	StatusCode int       `dynamodbav:"status_code,omitempty" json:"status_code,omitempty"`
	Error      string    `dynamodbav:"error,omitempty" json:"error,omitempty"`
	Succeeded  bool      `dynamodbav:"succeeded" json:"succeeded"`
	DurationMS int64     `dynamodbav:"duration_ms" json:"duration_ms"`
	At         time.Time `dynamodbav:"at" json:"at"`
}

// Registrations keeps the registrations and delivery records in the
// service's table.
type Registrations struct {
	DB    DB
	Table string
}

func pk(providerID string) string {
	return KeyPrefix + strings.NewReplacer("%", "%25", "#", "%23").Replace(providerID)
}

func key(pkv, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		table.AttrPK: &types.AttributeValueMemberS{Value: pkv},
		table.AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// Get reads providerID's registration; ok is false when there is none.
func (r *Registrations) Get(ctx context.Context, providerID string) (Registration, bool, error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.Table), Key: key(pk(providerID), skConfig), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Registration{}, false, fmt.Errorf("read webhook of %s: %w", providerID, err)
	}
	if out.Item == nil {
		return Registration{}, false, nil
	}
	var reg Registration
	if err := attributevalue.UnmarshalMap(out.Item, &reg); err != nil {
		return Registration{}, false, fmt.Errorf("decode webhook of %s: %w", providerID, err)
	}
	return reg, true, nil
}

// Put writes (or replaces) a registration.
func (r *Registrations) Put(ctx context.Context, reg Registration) error {
	item, err := attributevalue.MarshalMap(reg)
	if err != nil {
		return fmt.Errorf("encode webhook of %s: %w", reg.ProviderID, err)
	}
	for k, v := range key(pk(reg.ProviderID), skConfig) {
		item[k] = v
	}
	if _, err := r.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.Table), Item: item}); err != nil {
		return fmt.Errorf("write webhook of %s: %w", reg.ProviderID, err)
	}
	return nil
}

// Delete removes providerID's registration; existed says whether there was
// one. Delivery records expire on their own.
func (r *Registrations) Delete(ctx context.Context, providerID string) (existed bool, err error) {
	out, err := r.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(r.Table), Key: key(pk(providerID), skConfig),
		ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return false, fmt.Errorf("delete webhook of %s: %w", providerID, err)
	}
	return len(out.Attributes) > 0, nil
}

// Record writes one attempt's record (kept DeliveryRetention).
func (r *Registrations) Record(ctx context.Context, providerID string, d Delivery) error {
	item, err := attributevalue.MarshalMap(d)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	sk := deliveryPrefix + d.At.UTC().Format(skTime) + "#" + d.ID + "#" + strconv.Itoa(d.Attempt)
	for k, v := range key(pk(providerID), sk) {
		item[k] = v
	}
	item[table.AttrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(d.At.Add(DeliveryRetention).Unix(), 10)}
	if _, err := r.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.Table), Item: item}); err != nil {
		return fmt.Errorf("record delivery %s to %s: %w", d.ID, providerID, err)
	}
	return nil
}

// Recent returns providerID's last n delivery records, newest first.
func (r *Registrations) Recent(ctx context.Context, providerID string, n int) ([]Delivery, error) {
	out, err := r.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(r.Table),
		KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :dlv)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": table.AttrPK, "#sk": table.AttrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  &types.AttributeValueMemberS{Value: pk(providerID)},
			":dlv": &types.AttributeValueMemberS{Value: deliveryPrefix},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(n)),
	})
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", providerID, err)
	}
	ds := make([]Delivery, 0, len(out.Items))
	for _, it := range out.Items {
		var d Delivery
		if err := attributevalue.UnmarshalMap(it, &d); err != nil {
			return nil, fmt.Errorf("decode delivery of %s: %w", providerID, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}
