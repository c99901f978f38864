package stack

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// withSender is prod with an SES sender for the expiry emails.
var withSender = func() Config {
	c := prod
	c.SenderEmail = "noreply@numbers.example.com"
	return c
}()

func TestExpiryRunsOnASchedule(t *testing.T) {
	s := synthStack(t, dev)
	fn := s.functionID(t, FunctionExpiry)
	s.tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"ScheduleExpression": "rate(15 minutes)",
		"State":              "ENABLED",
		"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
			"Arn":         map[string]any{"Fn::GetAtt": []any{fn, "Arn"}},
			"RetryPolicy": map[string]any{"MaximumRetryAttempts": 0},
		})},
	})
	s.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
		"Action":       "lambda:InvokeFunction",
		"FunctionName": map[string]any{"Fn::GetAtt": []any{fn, "Arn"}},
		"Principal":    "events.amazonaws.com",
	})
	s.tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
		"AlarmName":  assertions.Match_StringLikeRegexp(jsii.String("expiry-errors")),
		"MetricName": "Errors",
		"Namespace":  "AWS/Lambda",
		"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": fn}}},
	})
}

// With a sender, the expiry function may send email from that identity
// (the address, or its domain when that is what SES verified) and no
// other; without one it may not send at all (TestFunctionGrants).
func TestExpirySender(t *testing.T) {
	s := synthStack(t, withSender)
	role := s.logicalID(t, s.stack.Functions.Expiry.Role())
	var ses []statement
	for _, st := range s.policyStatements() {
		if slices.Contains(st.actions, "ses:SendEmail") {
			if !slices.Contains(st.roles, role) {
				t.Errorf("policy %s of %v may send email", st.policy, st.roles)
			}
			ses = append(ses, st)
		}
	}
	if len(ses) != 1 {
		t.Fatalf("%d statements grant ses:SendEmail; want 1", len(ses))
	}
	res := jsonString(t, ses[0].raw["Resource"])
	for _, want := range []string{":identity/noreply@numbers.example.com", ":identity/numbers.example.com"} {
		if !strings.Contains(res, want) {
			t.Errorf("ses:SendEmail resources %s lack %s", res, want)
		}
	}
	if strings.Contains(res, "identity/*") || strings.Contains(res, `"*"`) {
		t.Errorf("ses:SendEmail is not scoped to the sender: %s", res)
	}
	props := s.resources[s.functionID(t, FunctionExpiry)]["Properties"].(map[string]any)
	if got := props["Environment"].(map[string]any)["Variables"].(map[string]any)["SENDER_EMAIL"]; got != "noreply@numbers.example.com" {
		t.Errorf("SENDER_EMAIL = %v", got)
	}
}
