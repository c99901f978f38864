package stack

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"numberrelease/shared/config"
)

// carrier is dev with two carriers receiving their events on their own buses.
var carrier = func() Config {
	c := testConfig("dev", false)
	c.EventTargets = []config.EventTarget{
		{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/number-release-events"},
		{ProviderID: "telco-2", BusARN: "arn:aws:events:us-east-1:345678901234:event-bus/inbound"},
	}
	return c
}()

// ourBus returns the logical id of the stack's bus.
func ourBus(t *testing.T, s *synthesized) string {
	t.Helper()
	buses := s.ofType("AWS::Events::EventBus")
	if len(buses) != 1 {
		t.Fatalf("%d event buses, want 1", len(buses))
	}
	for id := range buses {
		return id
	}
	return ""
}

// Every event published on the bus is archived for the stage's retention,
// so any of them can be replayed.
func TestBusArchive(t *testing.T) {
	for _, cfg := range []Config{dev, prod} {
		t.Run(cfg.Stage, func(t *testing.T) {
			s := synthStack(t, cfg)
			bus := ourBus(t, s)
			archives := s.ofType("AWS::Events::Archive")
			if len(archives) != 1 {
				t.Fatalf("%d archives, want 1", len(archives))
			}
			for id, props := range archives {
				if got := jsonString(t, props["SourceArn"]); got != fmt.Sprintf(`{"Fn::GetAtt":[%q,"Arn"]}`, bus) {
					t.Errorf("%s archives %s, want the bus %s", id, got, bus)
				}
				if got := jsonString(t, props["RetentionDays"]); got != fmt.Sprint(cfg.EventArchiveDays) {
					t.Errorf("%s keeps events %s days, want %d", id, got, cfg.EventArchiveDays)
				}
				if got := jsonString(t, props["EventPattern"]); !strings.Contains(got, `"source":["number-release"]`) {
					t.Errorf("%s pattern %s does not take every event notify publishes", id, got)
				}
			}
		})
	}
	if dev.EventArchiveDays != 30 || prod.EventArchiveDays != 365 {
		t.Errorf("archive days dev %d, prod %d; want 30 and 365", dev.EventArchiveDays, prod.EventArchiveDays)
	}
}

// rulesOnBus returns the rules of our bus (not the reconciler's schedule).
func rulesOnBus(t *testing.T, s *synthesized) map[string]map[string]any {
	t.Helper()
	bus := ourBus(t, s)
	out := map[string]map[string]any{}
	for id, props := range s.ofType("AWS::Events::Rule") {
		if refOf(props["EventBusName"]) == bus {
			out[id] = props
		}
	}
	return out
}

// targetsOf returns a rule's targets.
func targetsOf(props map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := props["Targets"].([]any)
	for _, raw := range list {
		if m, ok := raw.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Without any carrier target, every event still goes somewhere: a rule
// takes all of them into a log group operators can read, which the log
// group's resource policy lets EventBridge write.
func TestCatchAllRuleToEventLog(t *testing.T) {
	for _, cfg := range []Config{dev, carrier} {
		t.Run(cfg.Stage+fmt.Sprint(len(cfg.EventTargets)), func(t *testing.T) {
			s := synthStack(t, cfg)
			groups := s.ofType("AWS::Logs::LogGroup")
			var logID string
			for id, props := range groups {
				if name := jsonString(t, props["LogGroupName"]); strings.Contains(name, `"/aws/events/number-release-`+cfg.Stage+`-"`) && strings.Contains(name, "AWS::StackId") {
					logID = id
					if props["RetentionInDays"] != float64(cfg.LogRetentionDays) {
						t.Errorf("event log retention %v, want %d", props["RetentionInDays"], cfg.LogRetentionDays)
					}
				}
			}
			if logID == "" {
				t.Fatalf("no log group /aws/events/number-release-%s-<stack id>", cfg.Stage)
			}
			var catchAll []string
			for id, props := range rulesOnBus(t, s) {
				pattern := jsonString(t, props["EventPattern"])
				if strings.Contains(pattern, "provider_id") || !strings.Contains(pattern, `"source":["number-release"]`) {
					continue
				}
				for _, tg := range targetsOf(props) {
					if strings.Contains(jsonString(t, tg["Arn"]), `"`+logID+`"`) {
						catchAll = append(catchAll, id)
						if dlq := jsonString(t, tg["DeadLetterConfig"]); !strings.Contains(dlq, "EventDeliveryFailures") {
							t.Errorf("%s: a failed delivery to the event log has no dead-letter queue: %s", id, dlq)
						}
					}
				}
			}
			if len(catchAll) != 1 {
				t.Fatalf("rules on the bus sending every event to the log group: %v, want one", catchAll)
			}
			policies := s.ofType("AWS::Logs::ResourcePolicy")
			ok := false
			for _, props := range policies {
				doc := jsonString(t, props["PolicyDocument"])
				if strings.Contains(doc, "events.amazonaws.com") && strings.Contains(doc, "logs:PutLogEvents") && strings.Contains(doc, logID) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("no log resource policy lets EventBridge write to %s: %v", logID, policies)
			}
		})
	}
}

// Each configured carrier gets a rule matching its provider_id whose target
// is its own bus, put there through a role EventBridge assumes (a
// cross-account bus target needs one); the default stage has none.
func TestCarrierRules(t *testing.T) {
	s := synthStack(t, carrier)
	rules := rulesOnBus(t, s)
	roles := s.ofType("AWS::IAM::Role")
	for _, tg := range carrier.EventTargets {
		t.Run(tg.ProviderID, func(t *testing.T) {
			var found map[string]any
			for _, props := range rules {
				if jsonString(t, props["EventPattern"]) == fmt.Sprintf(`{"detail":{"provider_id":[%q]},"detail-type":["Number Release Status Changed"],"source":["number-release"]}`, tg.ProviderID) {
					found = props
				}
			}
			if found == nil {
				t.Fatalf("no rule on the bus matching provider_id %s", tg.ProviderID)
			}
			targets := targetsOf(found)
			if len(targets) != 1 || targets[0]["Arn"] != tg.BusARN {
				t.Fatalf("targets %s, want the bus %s", jsonString(t, targets), tg.BusARN)
			}
			var role string
			if m, ok := targets[0]["RoleArn"].(map[string]any); ok {
				if ga, ok := m["Fn::GetAtt"].([]any); ok {
					role, _ = ga[0].(string)
				}
			}
			trust := jsonString(t, roles[role]["AssumeRolePolicyDocument"])
			if !strings.Contains(trust, `"Service":"events.amazonaws.com"`) {
				t.Fatalf("target role %q is not EventBridge's: %s", role, trust)
			}
			may := false
			for _, st := range s.policyStatements() {
				if slices.Contains(st.roles, role) && slices.Contains(st.actions, "events:PutEvents") && strings.Contains(jsonString(t, st.raw["Resource"]), tg.BusARN) {
					may = true
				}
			}
			if !may {
				t.Errorf("role %s may not put events on %s", role, tg.BusARN)
			}
			if dlq := jsonString(t, targets[0]["DeadLetterConfig"]); !strings.Contains(dlq, "EventDeliveryFailures") {
				t.Errorf("a delivery the carrier's bus refuses has no dead-letter queue: %s", dlq)
			}
		})
	}
	t.Run("none by default", func(t *testing.T) {
		for id, props := range rulesOnBus(t, synthStack(t, dev)) {
			for _, tg := range targetsOf(props) {
				if arn, _ := tg["Arn"].(string); strings.Contains(arn, ":event-bus/") || tg["RoleArn"] != nil {
					t.Errorf("rule %s sends to another bus without a configured carrier: %s", id, jsonString(t, tg))
				}
			}
		}
	})
}

// The dead-letter queue of the bus's deliveries takes messages from those
// rules only.
func TestEventDeliveryDeadLetterQueue(t *testing.T) {
	s := synthStack(t, carrier)
	var queue string
	for id := range s.ofType("AWS::SQS::Queue") {
		if strings.HasPrefix(id, "EventDeliveryFailures") {
			queue = id
		}
	}
	if queue == "" {
		t.Fatal("no EventDeliveryFailures queue")
	}
	rules := rulesOnBus(t, s)
	for _, props := range s.ofType("AWS::SQS::QueuePolicy") {
		if !strings.Contains(jsonString(t, props["Queues"]), `"`+queue+`"`) {
			continue
		}
		doc := jsonString(t, props["PolicyDocument"])
		for id := range rules {
			if !strings.Contains(doc, `"`+id+`","Arn"`) {
				t.Errorf("the queue policy does not let rule %s send: %s", id, doc)
			}
		}
		if !strings.Contains(doc, `"Service":"events.amazonaws.com"`) {
			t.Errorf("the queue policy is not for EventBridge: %s", doc)
		}
		return
	}
	t.Fatalf("no queue policy on %s", queue)
}
