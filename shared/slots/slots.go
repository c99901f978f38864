// Package slots caps how many invocations of a function do a piece of work
// at once, with a lease semaphore in DynamoDB: the application-level
// concurrency cap of release-tasks (docs/ARCHITECTURE.md), which needs no
// reserved Lambda concurrency and which the emulator enforces with the very
// same code.
//
// # The items
//
// A semaphore of size N named name is N items of the project's one table:
// PK "SLOT#<name>", SK "1" … "N". A slot is held while its lease_until (Unix
// milliseconds) lies in the future; owner names the holder (a random token
// per acquisition). An item that was never written is a free slot: nothing
// is created up front, and changing N needs no migration (slots above a
// smaller N are simply never tried again; DynamoDB's TTL, expires_at a day
// after the lease, deletes them).
//
// # Acquire and release
//
// Acquire first reads the semaphore's items (one strongly consistent Query
// of its partition, at most N small items) and, when every slot is leased,
// returns ErrBusy at once: a refused acquisition costs one read and no
// write, which matters when hundreds of waiting releases retry. Otherwise
// it tries the slots the read found free, in a random order, each with one
// conditional UpdateItem (attribute_not_exists(lease_until) OR lease_until
// < :now) that sets the lease (now + Lease) and the owner; the first write
// that succeeds wins, and when all of them lose a race it returns ErrBusy.
// It never waits: the caller (the state machine) retries later with
// backoff and jitter. Any other table error is returned wrapped, for the
// caller to treat as the table being unavailable.

// The release is one conditional UpdateItem (owner = the token) removing
// the lease, so a holder whose lease ran out and was taken over cannot free
// its successor's slot. A holder that crashes, times out or never releases
// frees its slot when its lease ends: Lease must outlast the longest
// invocation (the function's timeout), with a margin for clock skew between
// hosts.
//
// Random order spreads concurrent acquirers over the slots, so that two of
// them rarely race for the same one; a lost race only costs trying the next.
package slots

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/table"
)

const (
	// MaxSize bounds a semaphore's size: every slot may be tried by one
	// refused acquisition.
	MaxSize = 1000
	// keyPrefix starts the partition key of a semaphore's items.
	keyPrefix = "SLOT#"
	// attribute names of a slot item.
	attrLeaseUntil = "lease_until"
	attrOwner      = "owner"
	// itemTTL is how long a slot item outlives its last lease before
	// DynamoDB's TTL may delete it.
	itemTTL = 24 * time.Hour
	// releaseTimeout bounds the release write, which runs even when the
	// caller's context has ended.
	releaseTimeout = 5 * time.Second
)

// ErrBusy is Acquire's answer when every slot is leased.
var ErrBusy = errors.New("every slot is leased")

// ErrNotHeld is the release's answer when the slot is no longer the
// caller's: its lease ended and another caller took it over.
var ErrNotHeld = errors.New("the slot's lease ended and was taken over")

// API is the DynamoDB calls the semaphore makes; *dynamodb.Client has
// them.
type API interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Config configures a semaphore.
type Config struct {
	Client API
	// Table is the project's table (shared/table's schema).
	Table string
	// Name names the semaphore (the function it caps, e.g. release-tasks).
	Name string
	// Size is N, the most holders at once: 1 to MaxSize.
	Size int
	// Lease is how long an acquisition holds its slot unless released
	// sooner: longer than the longest invocation.
	Lease time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Semaphore is a lease semaphore in DynamoDB, shared by every process that
// uses the same table and name. It is safe for concurrent use.
type Semaphore struct {
	client API
	table  string
	name   string
	size   int
	lease  time.Duration
	now    func() time.Time
}

// New validates cfg and returns the semaphore.
func New(cfg Config) (*Semaphore, error) {
	var problems []error
	if cfg.Client == nil || cfg.Table == "" || cfg.Name == "" {
		problems = append(problems, errors.New("Client, Table and Name are required"))
	}
	if cfg.Size < 1 || cfg.Size > MaxSize {
		problems = append(problems, fmt.Errorf("size %d: want 1 to %d", cfg.Size, MaxSize))
	}
	if cfg.Lease < time.Second {
		problems = append(problems, fmt.Errorf("lease %s: want at least 1s", cfg.Lease))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("slots %s: %w", cfg.Name, err)
	}
	s := &Semaphore{client: cfg.Client, table: cfg.Table, name: cfg.Name, size: cfg.Size, lease: cfg.Lease, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Lease is a held slot: which one, and the holder's token.
type Lease struct {
	Slot  int    `json:"slot"`
	Owner string `json:"owner"`
}

// Take takes a free slot (or one whose lease has ended) and returns its
// lease. It does not wait: when every slot is leased it returns an error
// wrapping ErrBusy; a table error is returned wrapped.
func (s *Semaphore) Take(ctx context.Context) (Lease, error) {
	free, err := s.free(ctx)
	if err != nil {
		return Lease{}, fmt.Errorf("slots %s: read the slots: %w", s.name, err)
	}
	owner := rand.Text()
	mrand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	for _, k := range free {
		err := s.take(ctx, k, owner)
		var refused *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &refused):
			continue
		case err != nil:
			return Lease{}, fmt.Errorf("slots %s: take slot %d: %w", s.name, k, err)
		}
		return Lease{Slot: k, Owner: owner}, nil
	}
	return Lease{}, fmt.Errorf("slots %s: %w (%d of %d)", s.name, ErrBusy, s.size, s.size)
}

// Release ends the lease, if its holder still holds it; ErrNotHeld,
// wrapped, when it ended and another caller took the slot over (the slot
// is then left alone).
func (s *Semaphore) Release(ctx context.Context, l Lease) error {
	return s.release(ctx, l.Slot, l.Owner)
}

// free returns the slots (1 to N) that no lease holds now, as one
// strongly consistent read of the semaphore's partition sees them.
func (s *Semaphore) free(ctx context.Context) ([]int, error) {
	now := s.now().UnixMilli()
	held := map[int]bool{}
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ProjectionExpression:     aws.String("#sk, #until"),
		ExpressionAttributeNames: map[string]string{"#pk": table.AttrPK, "#sk": table.AttrSK, "#until": attrLeaseUntil},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: keyPrefix + s.name},
		},
		ConsistentRead: aws.Bool(true),
	}
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, item := range out.Items {
			sk, _ := item[table.AttrSK].(*types.AttributeValueMemberS)
			until, _ := item[attrLeaseUntil].(*types.AttributeValueMemberN)
			if sk == nil || until == nil {
				continue
			}
			k, err1 := strconv.Atoi(sk.Value)
			ms, err2 := strconv.ParseInt(until.Value, 10, 64)
			if err1 == nil && err2 == nil && ms >= now {
				held[k] = true
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var free []int
	for k := 1; k <= s.size; k++ {
		if !held[k] {
			free = append(free, k)
		}
	}
	return free, nil
}

// take leases slot k to owner if it is free or its lease has ended.
func (s *Semaphore) take(ctx context.Context, k int, owner string) error {
	now := s.now()
	until := now.Add(s.lease)
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      Key(s.name, k),
		UpdateExpression:         aws.String("SET #until = :until, #owner = :owner, #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(#until) OR #until < :now"),
		ExpressionAttributeNames: map[string]string{"#until": attrLeaseUntil, "#owner": attrOwner, "#ttl": table.AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": millis(until),
			":now":   millis(now),
			":owner": &types.AttributeValueMemberS{Value: owner},
			":ttl":   &types.AttributeValueMemberN{Value: strconv.FormatInt(until.Add(itemTTL).Unix(), 10)},
		},
	})
	return err
}

// release ends owner's lease of slot k, if it still holds it.
func (s *Semaphore) release(ctx context.Context, k int, owner string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       Key(s.name, k),
		UpdateExpression:          aws.String("REMOVE #until, #owner"),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#until": attrLeaseUntil, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: owner}},
	})
	var refused *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &refused):
		return fmt.Errorf("slots %s: release slot %d: %w", s.name, k, ErrNotHeld)
	case err != nil:
		return fmt.Errorf("slots %s: release slot %d: %w", s.name, k, err)
	}
	return nil
}

// Key is the key of slot k (1 to N) of the semaphore name.
func Key(name string, k int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		table.AttrPK: &types.AttributeValueMemberS{Value: keyPrefix + name},
		table.AttrSK: &types.AttributeValueMemberS{Value: strconv.Itoa(k)},
	}
}

func millis(t time.Time) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}
