package stack

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// derivedNames are the retained resources allowed a name property, by
// logical id prefix (the construct id), and why each name cannot collide
// when the stack is deleted and created again.
var derivedNames = map[string]string{
	// API Gateway writes execution logs to exactly this group; the name
	// holds the REST API's id, which a new stack's API never shares.
	"ApiExecutionLogs": "API-Gateway-Execution-Logs_<rest api id>/<stage>, a name API Gateway dictates, unique per API",
	// EventBridge writes only to groups under /aws/events/; the name ends
	// in part of the stack's id (AWS::StackId), new with every stack.
	"BusEventLog": "/aws/events/number-release-<stage>-<stack id>, a prefix EventBridge dictates, unique per stack",
}

// scopedNames are the retained resources allowed a literal name, by
// logical id prefix, because the name is unique only inside a parent the
// stack creates (the property naming the parent must refer to a resource
// of the stack): a new stack's parent is new, so the name cannot collide.
var scopedNames = map[string]string{
	// The operator group and the first operator's membership live in the
	// stack's user pool.
	"UserPoolOperatorGroup":   "UserPoolId",
	"FirstOperatorMembership": "UserPoolId",
}

// isNameProperty says whether a top-level property gives the resource its
// physical name (TableName, LogGroupName, Name, RoleName, TopicName,
// QueueName, AliasName, ...). DisplayName (SNS) is a label, not a name.
func isNameProperty(key string) bool {
	return strings.HasSuffix(key, "Name") && key != "DisplayName"
}

// retains says whether CloudFormation keeps the resource when it is deleted
// or replaced.
func retains(policy any) bool {
	p, _ := policy.(string)
	return strings.HasPrefix(p, "Retain") || p == "Snapshot"
}

// TestRetainedResourcesHaveNoFixedNames: whatever the stack keeps when it is
// deleted (or a resource replaced) must not carry a name fixed in the
// template, or creating the stack again fails with "already exists". Every
// resource of the dev and prod templates is checked.
func TestRetainedResourcesHaveNoFixedNames(t *testing.T) {
	for _, cfg := range []Config{dev, prod, withOperator} {
		t.Run(cfg.Stage+cfg.OperatorEmail, func(t *testing.T) {
			s := synthStack(t, cfg)
			var kept []string
			for _, id := range slices.Sorted(maps.Keys(s.resources)) {
				r := s.resources[id]
				if !retains(r["DeletionPolicy"]) && !retains(r["UpdateReplacePolicy"]) {
					continue
				}
				kept = append(kept, id)
				props, _ := r["Properties"].(map[string]any)
				for key, v := range props {
					if !isNameProperty(key) {
						continue
					}
					if parent, ok := scopedName(id); ok {
						if ref := refOf(props[parent]); s.resources[ref] == nil {
							t.Errorf("%s (%s) is kept with %s %s, allowed only inside a parent of the stack, but %s is %s",
								id, r["Type"], key, jsonString(t, v), parent, jsonString(t, props[parent]))
						}
						continue
					}
					if reason, ok := derivedName(id); ok {
						// Even an allowed name must come from a resource of
						// this stack, never be a literal.
						if _, literal := v.(string); literal || !strings.Contains(jsonString(t, v), `"Ref"`) && !strings.Contains(jsonString(t, v), `AWS::StackId`) {
							t.Errorf("%s (%s) is kept with %s %s: allowed only derived from a resource of the stack (%s)",
								id, r["Type"], key, jsonString(t, v), reason)
						}
						continue
					}
					t.Errorf("%s (%s) is kept on deletion (DeletionPolicy %v, UpdateReplacePolicy %v) with the fixed %s %s: "+
						"let CloudFormation name it", id, r["Type"], r["DeletionPolicy"], r["UpdateReplacePolicy"], key, jsonString(t, v))
				}
			}
			// The walk must have seen what production keeps, or it proves nothing.
			if cfg.Production {
				for _, typ := range []string{"AWS::DynamoDB::GlobalTable", "AWS::SecretsManager::Secret", "AWS::KMS::Key",
					"AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolGroup", "AWS::S3::Bucket"} {
					if !slices.ContainsFunc(kept, func(id string) bool { return s.resources[id]["Type"] == typ }) {
						t.Errorf("prod keeps no %s; kept: %v", typ, kept)
					}
				}
			}
		})
	}
}

func scopedName(logicalID string) (string, bool) {
	for prefix, parent := range scopedNames {
		if strings.HasPrefix(logicalID, prefix) {
			return parent, true
		}
	}
	return "", false
}

func derivedName(logicalID string) (string, bool) {
	for prefix, reason := range derivedNames {
		if strings.HasPrefix(logicalID, prefix) {
			return reason, true
		}
	}
	return "", false
}
