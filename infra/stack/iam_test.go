package stack

import (
	"slices"
	"strings"
	"testing"
)

func TestNoWildcardActions(t *testing.T) {
	for _, cfg := range []Config{dev, {Stage: "prod", Production: true}} {
		s := synthStack(t, cfg)
		for _, st := range s.policyStatements() {
			for _, a := range st.actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s/%s: policy %s grants %q", cfg.Stage, strings.Join(st.roles, ","), st.policy, a)
				}
			}
		}
	}
}

func TestFunctionGrants(t *testing.T) {
	s := synthStack(t, dev)
	machine := s.logicalID(t, s.stack.StateMachine)
	table := s.logicalID(t, s.stack.Table)
	secret := s.logicalID(t, s.stack.ZoomSecret)
	bus := s.logicalID(t, s.stack.Bus)
	tests := []struct {
		function string
		// allowed maps an action to a logical id its resource must name.
		allowed map[string]string
		denied  []string
	}{
		{FunctionAPI, map[string]string{
			"states:StartExecution":  machine,
			"states:SendTaskSuccess": machine,
			"dynamodb:Query":         table,
			"dynamodb:PutItem":       table,
		}, []string{"secretsmanager:GetSecretValue", "events:PutEvents"}},
		{FunctionWebhook, map[string]string{
			"states:SendTaskSuccess":        machine,
			"secretsmanager:GetSecretValue": secret,
			"dynamodb:GetItem":              table,
		}, []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "states:StartExecution"}},
		{FunctionReleaseTasks, map[string]string{
			"dynamodb:PutItem":              table,
			"dynamodb:Query":                table,
			"secretsmanager:GetSecretValue": secret,
		}, []string{"states:StartExecution", "events:PutEvents"}},
		{FunctionNotify, map[string]string{
			"events:PutEvents":    bus,
			"dynamodb:GetRecords": table,
		}, []string{"dynamodb:PutItem", "states:StartExecution", "secretsmanager:GetSecretValue"}},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			fn := s.stack.Functions.ByName()[tt.function]
			role := s.logicalID(t, fn.Role())
			var mine []statement
			for _, st := range s.policyStatements() {
				if slices.Contains(st.roles, role) {
					mine = append(mine, st)
				}
			}
			for action, resource := range tt.allowed {
				ok := false
				for _, st := range mine {
					if slices.Contains(st.actions, action) && strings.Contains(jsonString(t, st.raw["Resource"]), `"`+resource+`"`) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("role %s may not %s on %s", role, action, resource)
				}
			}
			for _, action := range tt.denied {
				for _, st := range mine {
					if slices.Contains(st.actions, action) {
						t.Errorf("role %s may %s", role, action)
					}
				}
			}
		})
	}
}

func TestStateMachineMayInvokeOnlyTasks(t *testing.T) {
	s := synthStack(t, dev)
	role := s.logicalID(t, s.stack.StateMachine.Role())
	tasks := s.functionID(t, FunctionReleaseTasks)
	invokes := 0
	for _, st := range s.policyStatements() {
		if !slices.Contains(st.roles, role) || !slices.Contains(st.actions, "lambda:InvokeFunction") {
			continue
		}
		invokes++
		res := jsonString(t, st.raw["Resource"])
		for _, id := range []string{s.functionID(t, FunctionAPI), s.functionID(t, FunctionWebhook), s.functionID(t, FunctionNotify)} {
			if strings.Contains(res, id) {
				t.Errorf("the state machine may invoke %s", id)
			}
		}
		if !strings.Contains(res, `"`+tasks+`"`) {
			t.Errorf("lambda:InvokeFunction on %s, want the tasks function", res)
		}
	}
	if invokes == 0 {
		t.Error("the state machine may not invoke the tasks function")
	}
}
