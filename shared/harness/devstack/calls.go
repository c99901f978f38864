package devstack

import (
	"context"
	"maps"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"numberrelease/shared/tasks"
)

// Call names one AWS API operation: the SDK's service ID ("DynamoDB",
// "SFN", "EventBridge", "DynamoDB Streams", ...) and operation name.
type Call struct {
	Service, Operation string
}

// CallCounter counts the AWS calls the local system makes (Config.AWSCalls):
// every operation of every SDK client devstack wires, the HTTP attempts
// behind them (more than the operations when the SDK retries), and the
// invocations of the release-tasks function that Step Functions makes
// through the Lambda front, by action. Those invocations are Step
// Functions' calls, not the project's: they never pass through its SDK.
// The zero value is ready; it is safe for concurrent use.
type CallCounter struct {
	mu     sync.Mutex
	counts CallCounts
}

// CallCounts is a snapshot of a CallCounter.
type CallCounts struct {
	// Calls counts SDK operations, one per client method call.
	Calls map[Call]int
	// Attempts counts the HTTP requests sent for them, SDK retries
	// included.
	Attempts map[Call]int
	// Invokes counts release-tasks invocations by action (check, wait,
	// release, expire, fail).
	Invokes map[string]int
}

// Snapshot returns the counts so far.
func (c *CallCounter) Snapshot() CallCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CallCounts{Calls: maps.Clone(c.counts.Calls), Attempts: maps.Clone(c.counts.Attempts), Invokes: maps.Clone(c.counts.Invokes)}
}

// Since returns the counts made after the earlier snapshot before.
func (s CallCounts) Since(before CallCounts) CallCounts {
	return CallCounts{Calls: diff(s.Calls, before.Calls), Attempts: diff(s.Attempts, before.Attempts), Invokes: diff(s.Invokes, before.Invokes)}
}

func diff[K comparable](after, before map[K]int) map[K]int {
	out := map[K]int{}
	for k, n := range after {
		if d := n - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// AddMiddleware is an aws.Config APIOptions entry: it counts each operation
// once (initialize step) and each attempt (end of the finalize step, after
// the retry middleware).
func (c *CallCounter) AddMiddleware(stack *middleware.Stack) error {
	op := middleware.InitializeMiddlewareFunc("devstack.CountCalls", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.add(func(n *CallCounts) { inc(&n.Calls, callOf(ctx)) })
		return next.HandleInitialize(ctx, in)
	})
	if err := stack.Initialize.Add(op, middleware.After); err != nil {
		return err
	}
	attempt := middleware.FinalizeMiddlewareFunc("devstack.CountAttempts", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		c.add(func(n *CallCounts) { inc(&n.Attempts, callOf(ctx)) })
		return next.HandleFinalize(ctx, in)
	})
	return stack.Finalize.Add(attempt, middleware.After)
}

func callOf(ctx context.Context) Call {
	return Call{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx)}
}

// countInvokes wraps the release-tasks handler to count its invocations.
func (c *CallCounter) countInvokes(h func(context.Context, tasks.Input) (any, error)) func(context.Context, tasks.Input) (any, error) {
	return func(ctx context.Context, in tasks.Input) (any, error) {
		c.add(func(n *CallCounts) { inc(&n.Invokes, in.Action) })
		return h(ctx, in)
	}
}

func (c *CallCounter) add(fn func(*CallCounts)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.counts)
}

func inc[K comparable](m *map[K]int, k K) {
	if *m == nil {
		*m = map[K]int{}
	}
	(*m)[k]++
}
