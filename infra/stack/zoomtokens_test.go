package stack

import (
	"slices"
	"strings"
	"testing"
)

// The customers' Zoom tokens are sealed with a customer managed symmetric
// key of their own: rotated, kept with the table in production, with the
// stage's alias, and a policy that leaves its use to IAM (the account root
// only: no service or other account may use it).
func TestZoomTokensKey(t *testing.T) {
	for _, cfg := range []Config{dev, prod} {
		t.Run(cfg.Stage, func(t *testing.T) {
			s := synthStack(t, cfg)
			id := s.logicalID(t, s.stack.ZoomTokensKey)
			r := s.resources[id]
			if r["Type"] != "AWS::KMS::Key" {
				t.Fatalf("%s is a %v, want AWS::KMS::Key", id, r["Type"])
			}
			props := r["Properties"].(map[string]any)
			for k, want := range map[string]any{
				"EnableKeyRotation":   true,
				"KeySpec":             "SYMMETRIC_DEFAULT",
				"KeyUsage":            "ENCRYPT_DECRYPT",
				"PendingWindowInDays": float64(30),
			} {
				if props[k] != want {
					t.Errorf("%s = %v, want %v", k, props[k], want)
				}
			}
			if d, _ := props["Description"].(string); !strings.Contains(d, "Zoom OAuth tokens") || !strings.Contains(d, "("+cfg.Stage+")") {
				t.Errorf("Description = %q, want the stage and what it encrypts", d)
			}
			// Tokens without their key can never be read again: the key
			// stays wherever the table does.
			want := map[bool]string{true: "Retain", false: "Delete"}[cfg.Production]
			table := s.resources[s.logicalID(t, s.stack.Table)]
			for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
				if r[policy] != want || r[policy] != table[policy] {
					t.Errorf("%s = %v, want %s (the table's: %v)", policy, r[policy], want, table[policy])
				}
			}

			policy, _ := props["KeyPolicy"].(map[string]any)
			statements, _ := policy["Statement"].([]any)
			if len(statements) == 0 {
				t.Fatal("the key has no policy statements")
			}
			for _, raw := range statements {
				st := raw.(map[string]any)
				principal := jsonString(t, st["Principal"])
				if st["Effect"] != "Allow" || !strings.HasPrefix(principal, `{"AWS":`) || !strings.Contains(principal, `:root"`) {
					t.Errorf("key policy statement %s: want only the account (root) principal, which delegates use to IAM", jsonString(t, st))
				}
			}

			aliases := s.ofType("AWS::KMS::Alias")
			found := 0
			for aid, a := range aliases {
				if refOf(a["TargetKeyId"]) != id && jsonString(t, a["TargetKeyId"]) != `{"Fn::GetAtt":["`+id+`","Arn"]}` {
					continue
				}
				found++
				if got, want := a["AliasName"], "alias/number-release-"+cfg.Stage+"-zoom-tokens"; got != want {
					t.Errorf("AliasName = %v, want %s", got, want)
				}
				// A fixed name may not outlive the stack
				// (TestRetainedResourcesHaveNoFixedNames).
				if retains(s.resources[aid]["DeletionPolicy"]) || retains(s.resources[aid]["UpdateReplacePolicy"]) {
					t.Errorf("alias %s is kept when the stack is deleted", aid)
				}
			}
			if found != 1 {
				t.Errorf("%d aliases of the key, want 1", found)
			}
		})
	}
}

// Exactly api, release-tasks and release-batch may use the tokens key for
// Zoom tokens, and only to generate data keys and decrypt them, for
// requests whose encryption context says they seal Zoom tokens; api and
// deliver-webhooks may use it for webhook signing secrets (purpose
// webhook-signing-secret), deliver-webhooks to decrypt only. The key's ARN
// is in their environment (TestFunctionEnvironment).
func TestZoomTokensKeyGrants(t *testing.T) {
	s := synthStack(t, dev)
	key := s.logicalID(t, s.stack.ZoomTokensKey)
	users := map[string]string{}
	for _, name := range []string{FunctionAPI, FunctionReleaseTasks, FunctionReleaseBatch, FunctionDeliverWebhooks} {
		users[s.logicalID(t, s.stack.Functions.ByName()[name].Role())] = name
	}
	wantResource := `{"Fn::GetAtt":["` + key + `","Arn"]}`
	zoomTokens := `{"StringEquals":{"kms:EncryptionContext:purpose":"zoom-oauth-tokens"}}`
	webhookSecrets := `{"StringEquals":{"kms:EncryptionContext:purpose":"webhook-signing-secret"}}`
	both := []string{"kms:Decrypt", "kms:GenerateDataKey"}
	// Each function's grants: purpose → actions.
	want := map[string]map[string][]string{
		FunctionAPI:             {zoomTokens: both, webhookSecrets: both},
		FunctionReleaseTasks:    {zoomTokens: both},
		FunctionReleaseBatch:    {zoomTokens: both},
		FunctionDeliverWebhooks: {webhookSecrets: {"kms:Decrypt"}},
	}
	grants := map[string]int{}
	for _, st := range s.policyStatements() {
		res := jsonString(t, st.raw["Resource"])
		kms := slices.ContainsFunc(st.actions, func(a string) bool { return strings.HasPrefix(a, "kms:") })
		if !kms && !strings.Contains(res, `"`+key+`"`) {
			continue
		}
		name, ok := users[strings.Join(st.roles, ",")]
		if !ok {
			t.Errorf("policy %s lets %v %v on %s: only api, release-tasks, release-batch and deliver-webhooks may use a KMS key", st.policy, st.roles, st.actions, res)
			continue
		}
		grants[name]++
		cond := jsonString(t, st.raw["Condition"])
		wantActions, ok := want[name][cond]
		if !ok {
			t.Errorf("%s: KMS grant with condition %s, want one of %v", name, cond, want[name])
		} else if got := slices.Sorted(slices.Values(st.actions)); !slices.Equal(got, wantActions) {
			t.Errorf("%s may %v with %s, want %v only", name, st.actions, cond, wantActions)
		}
		if res != wantResource {
			t.Errorf("%s: KMS grant on %s, want the tokens key %s only", name, res, wantResource)
		}
		if st.raw["Effect"] != "Allow" {
			t.Errorf("%s: KMS statement Effect %v", name, st.raw["Effect"])
		}
	}
	for _, name := range users {
		if grants[name] != len(want[name]) {
			t.Errorf("%s has %d grants on the tokens key, want %d", name, grants[name], len(want[name]))
		}
	}
}
