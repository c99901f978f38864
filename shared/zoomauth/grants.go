// Package zoomauth is each customer's authorization of the Zoom app: the
// Connect Zoom flow (authorization code grant, state bound to the admin and
// the tenant), the tokens it yields, kept in the table sealed with a KMS
// key, refreshed by one caller at a time under a lease (Zoom rotates the
// refresh token on every use, so two refreshes of one token would end the
// authorization), and the end of an authorization (Disconnect, Zoom's
// app_deauthorized event, a refresh token Zoom refuses).
package zoomauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/table"
)

// Grant is one Zoom account's authorization of the app, as stored.
type Grant struct {
	AccountID  string `dynamodbav:"account_id"`
	CustomerID string `dynamodbav:"customer_id"`
	Connected  bool   `dynamodbav:"connected"`
	// Version counts the writes of tokens and status; every write is
	// conditional on the version read.
	Version int `dynamodbav:"version"`
	// Sealed is the access and refresh token, sealed (Sealer); empty once
	// not connected.
	Sealed        []byte    `dynamodbav:"sealed,omitempty"`
	AccessExpires time.Time `dynamodbav:"access_expires"`
	ConnectedAt   time.Time `dynamodbav:"connected_at"`
	ConnectedBy   string    `dynamodbav:"connected_by,omitempty"`
	ChangedAt     time.Time `dynamodbav:"changed_at"`
	// Reason says why the account is not connected.
	Reason string `dynamodbav:"reason,omitempty"`
	// LeaseOwner holds the right to refresh until LeaseUntil (Unix ms).
	LeaseOwner string `dynamodbav:"lease_owner,omitempty"`
	LeaseUntil int64  `dynamodbav:"lease_until,omitempty"`
}

// ErrChanged is a conditional write that lost: the grant changed since it
// was read (refreshed, connected again, ended) or its lease is held.
var ErrChanged = errors.New("zoom authorization changed meanwhile")

// Grants keeps the grants in the service's table:
//
//	grant        PK=ZGRANT#<zoom account>        SK=GRANT
//	oauth state  PK=OAUTHSTATE#<sha-256 of state> SK=STATE (expires_at TTL)
type Grants struct {
	DB    *dynamodb.Client
	Table string
}

const (
	skGrant = "GRANT"
	skState = "STATE"
)

func grantKey(accountID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		table.AttrPK: &types.AttributeValueMemberS{Value: "ZGRANT#" + accountID},
		table.AttrSK: &types.AttributeValueMemberS{Value: skGrant},
	}
}

// Get reads the grant of accountID; ok is false when there is none.
func (g *Grants) Get(ctx context.Context, accountID string) (Grant, bool, error) {
	out, err := g.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(g.Table), Key: grantKey(accountID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Grant{}, false, fmt.Errorf("read zoom authorization of %s: %w", accountID, err)
	}
	if out.Item == nil {
		return Grant{}, false, nil
	}
	var gr Grant
	if err := attributevalue.UnmarshalMap(out.Item, &gr); err != nil {
		return Grant{}, false, fmt.Errorf("decode zoom authorization of %s: %w", accountID, err)
	}
	return gr, true, nil
}

// Put writes gr as version prev+1 if the stored grant is still at version
// prev (0: none stored). ErrChanged otherwise.
func (g *Grants) Put(ctx context.Context, gr Grant, prev int) error {
	gr.Version = prev + 1
	gr.LeaseOwner, gr.LeaseUntil = "", 0
	item, err := attributevalue.MarshalMap(gr)
	if err != nil {
		return fmt.Errorf("encode zoom authorization: %w", err)
	}
	for k, v := range grantKey(gr.AccountID) {
		item[k] = v
	}
	cond := "attribute_not_exists(PK)"
	values := map[string]types.AttributeValue(nil)
	if prev > 0 {
		cond = "version = :prev"
		values = map[string]types.AttributeValue{":prev": num(prev)}
	}
	_, err = g.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(g.Table), Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: values,
	})
	return conditional(err, "write zoom authorization of "+gr.AccountID)
}

// TakeLease gives owner the right to refresh the grant at version until
// until, if nobody else holds it. ErrChanged when the grant moved on or
// the lease is held.
func (g *Grants) TakeLease(ctx context.Context, accountID string, version int, owner string, now, until time.Time) error {
	_, err := g.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(g.Table), Key: grantKey(accountID),
		UpdateExpression:    aws.String("SET lease_owner = :o, lease_until = :u"),
		ConditionExpression: aws.String("version = :v AND connected = :t AND (attribute_not_exists(lease_until) OR lease_until < :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o": &types.AttributeValueMemberS{Value: owner}, ":u": num64(until.UnixMilli()),
			":v": num(version), ":t": &types.AttributeValueMemberBOOL{Value: true}, ":now": num64(now.UnixMilli()),
		},
	})
	return conditional(err, "take the refresh lease of "+accountID)
}

// Rotate stores refreshed tokens under owner's lease and frees it.
func (g *Grants) Rotate(ctx context.Context, accountID string, version int, owner string, sealed []byte, expires, now time.Time) error {
	_, err := g.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(g.Table), Key: grantKey(accountID),
		UpdateExpression:    aws.String("SET sealed = :s, access_expires = :e, version = :next, changed_at = :now REMOVE lease_owner, lease_until"),
		ConditionExpression: aws.String("version = :v AND lease_owner = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s": &types.AttributeValueMemberB{Value: sealed}, ":e": timeAV(expires), ":next": num(version + 1),
			":now": timeAV(now), ":v": num(version), ":o": &types.AttributeValueMemberS{Value: owner},
		},
	})
	return conditional(err, "store refreshed tokens of "+accountID)
}

// FreeLease gives up owner's lease without a change (the refresh failed
// for a reason that may pass).
func (g *Grants) FreeLease(ctx context.Context, accountID, owner string) error {
	_, err := g.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(g.Table), Key: grantKey(accountID),
		UpdateExpression:          aws.String("REMOVE lease_owner, lease_until"),
		ConditionExpression:       aws.String("lease_owner = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: owner}},
	})
	return conditional(err, "free the refresh lease of "+accountID)
}

// End marks the grant of accountID not connected with reason, dropping its
// tokens, if it is still at version (0: whatever its version). A grant
// that does not exist is left absent.
func (g *Grants) End(ctx context.Context, accountID string, version int, reason string, now time.Time) error {
	cond := "attribute_exists(PK)"
	values := map[string]types.AttributeValue{
		":f": &types.AttributeValueMemberBOOL{Value: false}, ":r": &types.AttributeValueMemberS{Value: reason},
		":now": timeAV(now), ":one": num(1),
	}
	if version > 0 {
		cond += " AND version = :v"
		values[":v"] = num(version)
	}
	_, err := g.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(g.Table), Key: grantKey(accountID),
		UpdateExpression:          aws.String("SET connected = :f, reason = :r, changed_at = :now, version = version + :one REMOVE sealed, lease_owner, lease_until"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	})
	return conditional(err, "end zoom authorization of "+accountID)
}

func conditional(err error, op string) error {
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return fmt.Errorf("%s: %w", op, ErrChanged)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

func num(n int) types.AttributeValue { return num64(int64(n)) }
func num64(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func timeAV(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberS{Value: t.UTC().Format(time.RFC3339Nano)}
}

func stateKey(hash string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		table.AttrPK: &types.AttributeValueMemberS{Value: "OAUTHSTATE#" + hash},
		table.AttrSK: &types.AttributeValueMemberS{Value: skState},
	}
}

// PutState stores a Connect Zoom state by its hash (never the state
// itself), with a TTL so DynamoDB deletes unused ones.
func (g *Grants) PutState(ctx context.Context, hash string, s PendingState) error {
	item, err := attributevalue.MarshalMap(s)
	if err != nil {
		return fmt.Errorf("encode oauth state: %w", err)
	}
	for k, v := range stateKey(hash) {
		item[k] = v
	}
	item[table.AttrTTL] = num64(s.Expires.Add(time.Hour).Unix())
	_, err = g.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(g.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	// The SDK sends a call again when its answer was lost; the retry of a
	// put that landed meets this very state, which is not a conflict.
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var held PendingState
		if attributevalue.UnmarshalMap(ccf.Item, &held) == nil && held.CustomerID == s.CustomerID &&
			held.Subject == s.Subject && held.Expires.Equal(s.Expires) {
			return nil
		}
	}
	return conditional(err, "store oauth state")
}

// TakeState deletes the state and returns what it held: a state is used
// once, even by two callbacks at the same moment.
func (g *Grants) TakeState(ctx context.Context, hash string) (PendingState, bool, error) {
	out, err := g.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(g.Table), Key: stateKey(hash), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return PendingState{}, false, fmt.Errorf("take oauth state: %w", err)
	}
	if out.Attributes == nil {
		return PendingState{}, false, nil
	}
	var s PendingState
	if err := attributevalue.UnmarshalMap(out.Attributes, &s); err != nil {
		return PendingState{}, false, fmt.Errorf("decode oauth state: %w", err)
	}
	return s, true, nil
}
