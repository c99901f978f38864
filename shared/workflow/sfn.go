package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// SFN is the part of the Step Functions API the workflow uses.
type SFN interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, opts ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
}

var _ SFN = (*sfn.Client)(nil)

// StepFunctions runs the release executions of one state machine.
type StepFunctions struct {
	Client          SFN
	StateMachineARN string
}

var (
	_ Starter   = (*StepFunctions)(nil)
	_ Rechecker = (*StepFunctions)(nil)
	_ Describer = (*StepFunctions)(nil)
	_ Stopper   = (*StepFunctions)(nil)
)

// ExecutionARN is the ARN of the state machine's execution called name.
func (s *StepFunctions) ExecutionARN(name string) string {
	return strings.Replace(s.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// Describe reads the execution called name: ErrNoExecution (test with
// errors.Is) when it was never started.
func (s *StepFunctions) Describe(ctx context.Context, name string) (Execution, error) {
	out, err := s.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(s.ExecutionARN(name))})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return Execution{}, fmt.Errorf("describe execution %s: %w", name, ErrNoExecution)
	}
	if err != nil {
		return Execution{}, fmt.Errorf("describe execution %s: %w", name, err)
	}
	ex := Execution{Running: out.Status == types.ExecutionStatusRunning, Status: string(out.Status), Started: aws.ToTime(out.StartDate)}
	var in Release
	if json.Unmarshal([]byte(aws.ToString(out.Input)), &in) == nil && in.StartedAt != "" {
		first, err := time.Parse(time.RFC3339Nano, in.StartedAt)
		if err != nil {
			return Execution{}, fmt.Errorf("describe execution %s: started_at %q of its input: %w", name, in.StartedAt, err)
		}
		ex.Started = first
	}
	return ex, nil
}

// Stop stops the execution called name, recording errorName and cause in
// its history.
func (s *StepFunctions) Stop(ctx context.Context, name, errorName, cause string) error {
	_, err := s.Client.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(s.ExecutionARN(name)),
		Error: aws.String(errorName), Cause: aws.String(cause)})
	if err != nil {
		return fmt.Errorf("stop execution %s: %w", name, err)
	}
	return nil
}

// Start starts the execution of one approval attempt. Starting it again
// while it runs is success (Step Functions answers a start with the same
// name and input with the running execution): the start is idempotent. Once
// that execution has ended, its name stays taken and Start returns an
// error matching ErrEnded.
func (s *StepFunctions) Start(ctx context.Context, r Release) error {
	input, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode workflow input: %w", err)
	}
	_, err = s.Client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(s.StateMachineARN),
		Name:            aws.String(r.ExecutionName()),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		// Step Functions answers a start of a running execution with the
		// same input as success, and this when the input differs (a paced
		// start carries its NotBefore, a repair start does not) or the
		// execution has ended: only its status tells which.
		ex, derr := s.Describe(ctx, r.ExecutionName())
		switch {
		case derr != nil:
			return fmt.Errorf("start execution %s: it exists, but: %w", r.ExecutionName(), derr)
		case ex.Running:
			return nil
		}
		return fmt.Errorf("start execution %s: %w", r.ExecutionName(), ErrEnded)
	}
	if err != nil {
		return fmt.Errorf("start execution %s: %w", r.ExecutionName(), err)
	}
	return nil
}

// Successors starts successor executions on the state machine an execution
// names (release-tasks' ContinueAsNew action).
type Successors struct {
	Client SFN
}

var _ SuccessorStarter = (*Successors)(nil)

// StartSuccessor starts r on the state machine stateMachineARN. A successor
// that is running, or has already run, is success: its start happened.
func (s *Successors) StartSuccessor(ctx context.Context, stateMachineARN string, r Release) error {
	if r.Generation < 1 || r.StartedAt == "" {
		return fmt.Errorf("start successor %s: generation %d, started at %q: a successor needs both", r.ExecutionName(), r.Generation, r.StartedAt)
	}
	err := (&StepFunctions{Client: s.Client, StateMachineARN: stateMachineARN}).Start(ctx, r)
	if errors.Is(err, ErrEnded) {
		return nil
	}
	return err
}

// Recheck completes the waiting task so the workflow checks Zoom again. A
// token that is already settled (timed out, gone, invalid) is not an error:
// the workflow has moved on by itself.
func (s *StepFunctions) Recheck(ctx context.Context, taskToken string) error {
	_, err := s.Client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{
		TaskToken: aws.String(taskToken), Output: aws.String(`{"recheck":true}`),
	})
	if err == nil || Settled(err) {
		return nil
	}
	return fmt.Errorf("send task success: %w", err)
}

// Settled reports whether a SendTask* error means the task was already
// settled, so retrying is pointless.
func Settled(err error) bool {
	var timedOut *types.TaskTimedOut
	var gone *types.TaskDoesNotExist
	var invalid *types.InvalidToken
	return errors.As(err, &timedOut) || errors.As(err, &gone) || errors.As(err, &invalid)
}
