package workflow

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Step Functions fails a Standard execution whose history passes
// HistoryLimit events, and no Catch can handle that. The release workflow
// keeps every execution under HistoryBudget, a fifth below the limit: after
// at most MaxRounds rounds of its loop it continues in a successor
// execution (the ContinueAsNew state).
const (
	HistoryLimit  = 25000
	HistoryBudget = 20000
)

// The states of the definition the history bound is built on.
const (
	// loopHead is the state every loop of the workflow passes through; it
	// counts the rounds.
	loopHead = "NextRound"
	// budgetState sends the execution to its successor after MaxRounds rounds.
	budgetState = "Budget"
)

// executionEvents are the events of an execution outside its states:
// ExecutionStarted and the one that ends it (ExecutionSucceeded, Failed,
// Aborted or TimedOut).
const executionEvents = 2

// HistoryModel counts the history events of the release state machine, from
// the events Step Functions records per state (AWS, "Execution history
// events"; the emulator tests hold it to real histories):
//
//   - Task: TaskStateEntered and TaskStateExited, and per attempt
//     TaskScheduled, TaskStarted and TaskSucceeded, TaskFailed or
//     TaskTimedOut, plus TaskSubmitted for a .waitForTaskToken task whose
//     invocation returned. Every retry is one more attempt; the worst case
//     is every retrier of the state used up (each retrier counts its own
//     attempts), MaxAttempts defaulting to 3.
//   - Pass, Choice, Wait, Succeed: their Entered and Exited events.
//   - Fail: FailStateEntered.
type HistoryModel struct {
	startAt string
	states  map[string]modelState
}

type modelState struct {
	Type     string
	Resource string
	Next     string
	Default  string
	Choices  []struct {
		Next               string
		Variable           string
		NumericGreaterThan *float64
	}
	Catch []struct{ Next string }
	Retry []struct{ MaxAttempts *int }
}

// NewHistoryModel reads a rendered definition.
func NewHistoryModel(definition string) (*HistoryModel, error) {
	var def struct {
		StartAt string
		States  map[string]modelState
	}
	if err := json.Unmarshal([]byte(definition), &def); err != nil {
		return nil, fmt.Errorf("history model: read definition: %w", err)
	}
	if _, ok := def.States[def.StartAt]; !ok {
		return nil, fmt.Errorf("history model: start state %q is not defined", def.StartAt)
	}
	return &HistoryModel{startAt: def.StartAt, states: def.States}, nil
}

// StateEvents is the number of history events of one pass through state
// name that made attempts task attempts (1 when nothing was retried; it
// matters only for Task states). A .waitForTaskToken attempt is counted
// with its TaskSubmitted event.
func (m *HistoryModel) StateEvents(name string, attempts int) (int, error) {
	st, ok := m.states[name]
	if !ok {
		return 0, fmt.Errorf("history model: no state %q", name)
	}
	switch st.Type {
	case "Task":
		perAttempt := 3
		if strings.HasSuffix(st.Resource, ".waitForTaskToken") {
			perAttempt = 4
		}
		return 2 + max(attempts, 1)*perAttempt, nil
	case "Pass", "Choice", "Wait", "Succeed":
		return 2, nil
	case "Fail":
		return 1, nil
	}
	return 0, fmt.Errorf("history model: state %s has type %q, which the model does not count", name, st.Type)
}

// MaxAttempts is the most task attempts one pass through state name can
// make: one, plus every retrier's MaxAttempts.
func (m *HistoryModel) MaxAttempts(name string) int {
	n := 1
	for _, r := range m.states[name].Retry {
		if r.MaxAttempts == nil {
			n += 3 // the Amazon States Language's default
		} else {
			n += *r.MaxAttempts
		}
	}
	return n
}

// PathEvents is the number of history events of passing through the
// states of path in order, no task retried.
func (m *HistoryModel) PathEvents(path ...string) (int, error) {
	total := 0
	for _, name := range path {
		n, err := m.StateEvents(name, 1)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// HistoryBound is the worst case of one execution's history.
type HistoryBound struct {
	// Head is the most events before the first round (from the start state
	// to NextRound), Round the most one round can add (from NextRound back
	// to it), Tail the most from NextRound to the end of the execution,
	// each with every task's retries used up.
	Head, Round, Tail int
	// MaxRounds is how many whole rounds an execution runs before it
	// continues in a successor.
	MaxRounds int
}

// Total is the most events one execution can record: its start and end,
// the head, MaxRounds rounds and the tail.
func (b HistoryBound) Total() int {
	return executionEvents + b.Head + b.MaxRounds*b.Round + b.Tail
}

// RoundsWithin is the most rounds whose worst case keeps an execution's
// history within budget events.
func (b HistoryBound) RoundsWithin(budget int) int {
	return (budget - executionEvents - b.Head - b.Tail) / b.Round
}

// Bound computes the worst case of the definition's history. Every loop
// must pass through NextRound (else no count bounds it, and Bound fails
// naming the loop), and Budget must end the rounds after a number of them.
func (m *HistoryModel) Bound() (HistoryBound, error) {
	if _, ok := m.states[loopHead]; !ok {
		return HistoryBound{}, fmt.Errorf("history model: no %s state counts the rounds, so nothing bounds the loops", loopHead)
	}
	rounds, err := m.maxRounds()
	if err != nil {
		return HistoryBound{}, err
	}
	// Longest paths (in events, worst-case retries) in the graph without
	// the edges into NextRound; a cycle left in it is a loop that bypasses
	// the count.
	type result struct {
		toHead, toEnd int // -1: no such path
	}
	memo := map[string]result{}
	visiting := map[string]bool{}
	var walk func(name string, path []string) (result, error)
	walk = func(name string, path []string) (result, error) {
		if r, ok := memo[name]; ok {
			return r, nil
		}
		if visiting[name] {
			return result{}, fmt.Errorf("history model: the loop %s -> %s does not pass through %s", strings.Join(path, " -> "), name, loopHead)
		}
		visiting[name] = true
		defer delete(visiting, name)
		own, err := m.StateEvents(name, m.MaxAttempts(name))
		if err != nil {
			return result{}, err
		}
		next := m.successors(name)
		r := result{toHead: -1, toEnd: -1}
		if len(next) == 0 {
			r.toEnd = own
		}
		for _, n := range next {
			if n == loopHead {
				r.toHead = max(r.toHead, own)
				continue
			}
			sub, err := walk(n, append(slices.Clip(path), name))
			if err != nil {
				return result{}, err
			}
			if sub.toHead >= 0 {
				r.toHead = max(r.toHead, own+sub.toHead)
			}
			if sub.toEnd >= 0 {
				r.toEnd = max(r.toEnd, own+sub.toEnd)
			}
		}
		memo[name] = r
		return r, nil
	}
	head, err := walk(m.startAt, nil)
	if err != nil {
		return HistoryBound{}, err
	}
	// From NextRound itself: its own events, then its successors.
	own, err := m.StateEvents(loopHead, 1)
	if err != nil {
		return HistoryBound{}, err
	}
	round, tail := -1, -1
	for _, n := range m.successors(loopHead) {
		sub, err := walk(n, []string{loopHead})
		if err != nil {
			return HistoryBound{}, err
		}
		round, tail = max(round, sub.toHead), max(tail, sub.toEnd)
	}
	if head.toHead < 0 || round < 0 || tail < 0 {
		return HistoryBound{}, fmt.Errorf("history model: %s is not reached from the start, or never returns to itself, or never leads to an end", loopHead)
	}
	return HistoryBound{Head: head.toHead, Round: own + round, Tail: own + tail, MaxRounds: rounds}, nil
}

// maxRounds reads the Budget state: the rounds after which the execution
// continues in a successor.
func (m *HistoryModel) maxRounds() (int, error) {
	st, ok := m.states[budgetState]
	if !ok || st.Type != "Choice" {
		return 0, fmt.Errorf("history model: no %s choice ends the rounds", budgetState)
	}
	for _, c := range st.Choices {
		if c.Variable == "$.round.n" && c.NumericGreaterThan != nil {
			return int(*c.NumericGreaterThan), nil
		}
	}
	return 0, fmt.Errorf("history model: %s has no \"$.round.n\" NumericGreaterThan rule", budgetState)
}

// successors are the states name may go to next, each once.
func (m *HistoryModel) successors(name string) []string {
	st := m.states[name]
	var out []string
	add := func(n string) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	add(st.Next)
	add(st.Default)
	for _, c := range st.Choices {
		add(c.Next)
	}
	for _, c := range st.Catch {
		add(c.Next)
	}
	return out
}
