package emulator_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The tests here prove that moto_server.py makes the emulator's DynamoDB
// lock as DynamoDB does: a write, with its condition, and a transaction, with
// all its items, happen at once with respect to every other write and read.
// moto alone applies them step by step from concurrent threads.

const (
	racers = 8  // goroutines racing in each round
	rounds = 40 // rounds of each race
)

func num(n int) types.AttributeValue { return &types.AttributeValueMemberN{Value: strconv.Itoa(n)} }

// race runs f(i) for i in [0, n) at once and returns the errors, by i.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// winners counts the nil errors; any error other than a refused condition
// (or a cancelled transaction) fails the test.
func winners(t *testing.T, errs []error) int {
	t.Helper()
	n := 0
	for _, err := range errs {
		var ccf *types.ConditionalCheckFailedException
		var tce *types.TransactionCanceledException
		switch {
		case err == nil:
			n++
		case errors.As(err, &ccf), errors.As(err, &tce):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	return n
}

func getItem(t *testing.T, db *dynamodb.Client, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pk, "META"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem %s: %v", pk, err)
	}
	return out.Item
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func attrN(item map[string]types.AttributeValue, name string) int {
	if s, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.Atoi(s.Value)
		return n
	}
	return -1
}

// TestConcurrentConditionalWritesToOneItem: of racers conditional writes to
// one item whose conditions exclude each other, exactly one succeeds, every
// round.
func TestConcurrentConditionalWritesToOneItem(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, db *dynamodb.Client, table string)
		// write is racer i's attempt in round r.
		write func(ctx context.Context, db *dynamodb.Client, table string, r, i int) error
		// check verifies the items after round r.
		check func(t *testing.T, db *dynamodb.Client, table string, r int)
	}{
		{
			name: "UpdateItem on a version",
			setup: func(t *testing.T, db *dynamodb.Client, table string) {
				item := key("NUM#+15551238001", "META")
				item["version"] = num(0)
				putItem(t, db, table, item)
			},
			write: func(ctx context.Context, db *dynamodb.Client, table string, r, i int) error {
				_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName:                 aws.String(table),
					Key:                       key("NUM#+15551238001", "META"),
					UpdateExpression:          aws.String("SET version = :next, winner = :me"),
					ConditionExpression:       aws.String("version = :cur"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":cur": num(r), ":next": num(r + 1), ":me": num(i)},
				})
				return err
			},
			check: func(t *testing.T, db *dynamodb.Client, table string, r int) {
				if v := attrN(getItem(t, db, table, "NUM#+15551238001"), "version"); v != r+1 {
					t.Fatalf("round %d: version %d, want %d", r, v, r+1)
				}
			},
		},
		{
			name: "PutItem if absent",
			write: func(ctx context.Context, db *dynamodb.Client, table string, r, i int) error {
				item := key(fmt.Sprintf("NUM#+1555124%04d", r), "META")
				item["winner"] = num(i)
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
					TableName: aws.String(table), Item: item,
					ConditionExpression: aws.String("attribute_not_exists(PK)"),
				})
				return err
			},
			check: func(t *testing.T, db *dynamodb.Client, table string, r int) {
				if getItem(t, db, table, fmt.Sprintf("NUM#+1555124%04d", r)) == nil {
					t.Fatalf("round %d: no item", r)
				}
			},
		},
		{
			name: "TransactWriteItems on a version",
			setup: func(t *testing.T, db *dynamodb.Client, table string) {
				item := key("NUM#+15551238002", "META")
				item["version"] = num(0)
				putItem(t, db, table, item)
			},
			write: func(ctx context.Context, db *dynamodb.Client, table string, r, i int) error {
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Update: &types.Update{
						TableName:                 aws.String(table),
						Key:                       key("NUM#+15551238002", "META"),
						UpdateExpression:          aws.String("SET version = :next"),
						ConditionExpression:       aws.String("version = :cur"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":cur": num(r), ":next": num(r + 1)},
					}},
					{Put: &types.Put{TableName: aws.String(table), Item: key(fmt.Sprintf("WIN#%d#%d", r, i), "META")}},
				}})
				return err
			},
			check: func(t *testing.T, db *dynamodb.Client, table string, r int) {
				if v := attrN(getItem(t, db, table, "NUM#+15551238002"), "version"); v != r+1 {
					t.Fatalf("round %d: version %d, want %d", r, v, r+1)
				}
				// All or nothing: only the winner's marker was written.
				marks := 0
				for i := range racers {
					if getItem(t, db, table, fmt.Sprintf("WIN#%d#%d", r, i)) != nil {
						marks++
					}
				}
				if marks != 1 {
					t.Fatalf("round %d: %d winners' markers, want 1", r, marks)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, table := moto.NewTable(t)
			if tt.setup != nil {
				tt.setup(t, db, table)
			}
			for r := range rounds {
				ctx := ctxT(t)
				errs := race(racers, func(i int) error { return tt.write(ctx, db, table, r, i) })
				// Two successes would be the bug. None is possible: the
				// SDK retries a write whose answer it lost (a connection
				// the server closed), and the retry finds the condition
				// already false; the check below still requires that one
				// write landed.
				n := winners(t, errs)
				if n > 1 {
					t.Fatalf("round %d: %d of %d conditional writes succeeded, want exactly 1", r, n, racers)
				}
				if n == 0 {
					t.Logf("round %d: every racer was refused; the winner's retry must have been (checked next)", r)
				}
				tt.check(t, db, table, r)
			}
		})
	}
}

// TestConcurrentCounter: concurrent ADD on one item, each answered with the
// new value, return every count from 1 to n once.
func TestConcurrentCounter(t *testing.T) {
	const perRacer = 10
	db, table := moto.NewTable(t)
	counts := make([][]int, racers)
	errs := race(racers, func(i int) error {
		for range perRacer {
			ctx := ctxT(t)
			out, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(table),
				Key:                       key("COUNTER", "META"),
				UpdateExpression:          aws.String("ADD n :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
				ReturnValues:              types.ReturnValueUpdatedNew,
			})
			if err != nil {
				return err
			}
			counts[i] = append(counts[i], attrN(out.Attributes, "n"))
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(slices.Concat(counts...)))
	want := make([]int, racers*perRacer)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(got, want) {
		t.Errorf("counts returned %v, want 1..%d each once", got, len(want))
	}
	if n := attrN(getItem(t, db, table, "COUNTER"), "n"); n != len(want) {
		t.Errorf("final count %d, want %d", n, len(want))
	}
}

// TestTransactionsExcludingEachOther: a transaction and another transaction
// or a single write, whose conditions on one item exclude each other, never
// both succeed.
func TestTransactionsExcludingEachOther(t *testing.T) {
	const pk = "NUM#+15551238003"
	// claim moves the item from OPEN to owner with a transaction that also
	// writes the owner's marker; the plain variant uses UpdateItem.
	claim := func(ctx context.Context, db *dynamodb.Client, table string, r int, owner string, plain bool) error {
		update := types.Update{
			TableName:                 aws.String(table),
			Key:                       key(pk, "META"),
			UpdateExpression:          aws.String("SET #s = :owner"),
			ConditionExpression:       aws.String("#s = :open"),
			ExpressionAttributeNames:  map[string]string{"#s": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner), ":open": str(fmt.Sprintf("OPEN#%d", r))},
		}
		if plain {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: update.TableName, Key: update.Key, UpdateExpression: update.UpdateExpression,
				ConditionExpression: update.ConditionExpression, ExpressionAttributeNames: update.ExpressionAttributeNames,
				ExpressionAttributeValues: update.ExpressionAttributeValues,
			})
			return err
		}
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: key(fmt.Sprintf("MARK#%d#%s", r, owner), "META")}},
			{Update: &update},
		}})
		return err
	}
	tests := []struct {
		name       string
		plainRival bool
	}{
		{name: "transaction against transaction"},
		{name: "transaction against UpdateItem", plainRival: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, table := moto.NewTable(t)
			for r := range rounds {
				ctx := ctxT(t)
				item := key(pk, "META")
				item["status"] = str(fmt.Sprintf("OPEN#%d", r))
				putItem(t, db, table, item)
				errs := race(2, func(i int) error {
					return claim(ctx, db, table, r, []string{"A", "B"}[i], i == 1 && tt.plainRival)
				})
				if n := winners(t, errs); n != 1 {
					t.Fatalf("round %d: %d of 2 claims succeeded (errors %v), want exactly 1", r, n, errs)
				}
				owner := attrS(getItem(t, db, table, pk), "status")
				if markA := getItem(t, db, table, fmt.Sprintf("MARK#%d#A", r)) != nil; markA != (owner == "A") {
					t.Fatalf("round %d: owner %s but A's marker written = %v", r, owner, markA)
				}
			}
		})
	}
}

// TestReadsSeeTransactionsWhole: while transactions write two items
// together, or write one and are then cancelled, GetItem never sees one
// without the other, nor a cancelled write.
func TestReadsSeeTransactionsWhole(t *testing.T) {
	const (
		first, second = "NUM#+15551238004", "NUM#+15551238005"
		writes        = 150
	)
	db, table := moto.NewTable(t)
	for _, pk := range []string{first, second} {
		item := key(pk, "META")
		item["version"] = num(0)
		putItem(t, db, table, item)
	}
	done := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		defer close(done)
		for v := 1; v <= writes; v++ {
			ctx := ctxT(t)
			committed := func(pk string) types.TransactWriteItem {
				item := key(pk, "META")
				item["version"] = num(v)
				return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: item}}
			}
			if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: []types.TransactWriteItem{committed(first), committed(second)},
			}); err != nil {
				errs <- fmt.Errorf("commit %d: %w", v, err)
				return
			}
			dirty := key(first, "META")
			dirty["version"] = num(-1)
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String(table), Item: dirty}},
				{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: key("ABSENT", "META"), ConditionExpression: aws.String("attribute_exists(PK)")}},
			}})
			var tce *types.TransactionCanceledException
			if !errors.As(err, &tce) {
				errs <- fmt.Errorf("cancelled transaction %d: err %v, want TransactionCanceledException", v, err)
				return
			}
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if reads == 0 {
				t.Fatal("no read overlapped the writes")
			}
			return
		default:
		}
		// first is written before second in every transaction: reading
		// first, then second, a newer first than second is a transaction
		// seen in part.
		a := attrN(getItem(t, db, table, first), "version")
		b := attrN(getItem(t, db, table, second), "version")
		reads++
		if a < 0 {
			t.Fatalf("read %d saw the write of a cancelled transaction", reads)
		}
		if a > b {
			t.Fatalf("read %d saw version %d of %s but %d of %s: a transaction in part", reads, a, first, b, second)
		}
	}
}

// TestClientRequestToken: a TransactWriteItems repeated with its token
// succeeds without writing again; with other parameters it is refused; a
// cancelled one is not remembered.
func TestClientRequestToken(t *testing.T) {
	const counter = "TOKEN-COUNTER"
	add := func(table string, by int) *dynamodb.TransactWriteItemsInput {
		return &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
			TableName:                 aws.String(table),
			Key:                       key(counter, "META"),
			UpdateExpression:          aws.String("ADD n :by"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":by": num(by)},
		}}}}
	}
	// Tokens live in the server for 10 minutes: each run names its own.
	run := strings.ToLower(rand.Text()[:8])
	withToken := func(in *dynamodb.TransactWriteItemsInput, token string) *dynamodb.TransactWriteItemsInput {
		in.ClientRequestToken = aws.String(token + "-" + run)
		return in
	}
	tests := []struct {
		name string
		// calls are made in order; the item exists from call createAt on.
		calls    func(table string) []*dynamodb.TransactWriteItemsInput
		createAt int
		wantErrs []string // per call: "" = success, else the error type
		wantN    int
	}{
		{
			name: "same token, same request",
			calls: func(tb string) []*dynamodb.TransactWriteItemsInput {
				return []*dynamodb.TransactWriteItemsInput{withToken(add(tb, 1), "t1"), withToken(add(tb, 1), "t1")}
			},
			wantErrs: []string{"", ""}, wantN: 1,
		},
		{
			name: "same token, other request",
			calls: func(tb string) []*dynamodb.TransactWriteItemsInput {
				return []*dynamodb.TransactWriteItemsInput{withToken(add(tb, 1), "t2"), withToken(add(tb, 5), "t2")}
			},
			wantErrs: []string{"", "IdempotentParameterMismatchException"}, wantN: 1,
		},
		{
			name: "other tokens",
			calls: func(tb string) []*dynamodb.TransactWriteItemsInput {
				return []*dynamodb.TransactWriteItemsInput{withToken(add(tb, 1), "t3"), withToken(add(tb, 1), "t4")}
			},
			wantErrs: []string{"", ""}, wantN: 2,
		},
		{
			name: "the SDK's own tokens",
			calls: func(tb string) []*dynamodb.TransactWriteItemsInput {
				return []*dynamodb.TransactWriteItemsInput{add(tb, 1), add(tb, 1)}
			},
			wantErrs: []string{"", ""}, wantN: 2,
		},
		{
			name: "a cancelled transaction is run again",
			calls: func(tb string) []*dynamodb.TransactWriteItemsInput {
				return []*dynamodb.TransactWriteItemsInput{withToken(add(tb, 1), "t5"), withToken(add(tb, 1), "t5")}
			},
			createAt: 1, wantErrs: []string{"TransactionCanceledException", ""}, wantN: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, table := moto.NewTable(t)
			for i, in := range tt.calls(table) {
				if i == tt.createAt {
					item := key(counter, "META")
					item["n"] = num(0)
					putItem(t, db, table, item)
				}
				_, err := db.TransactWriteItems(ctxT(t), in)
				if got := errorType(err); got != tt.wantErrs[i] {
					t.Fatalf("call %d: error %v, want %q", i, err, tt.wantErrs[i])
				}
			}
			if n := attrN(getItem(t, db, table, counter), "n"); n != tt.wantN {
				t.Errorf("n = %d, want %d", n, tt.wantN)
			}
		})
	}
}

// errorType is the AWS error code of err, "" for nil.
func errorType(err error) string {
	if err == nil {
		return ""
	}
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return err.Error()
}
