package stack

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// specRoutes are SPEC §4's deployed routes and the function serving each.
var specRoutes = []struct {
	method, path, function string
}{
	{"POST", "/provider/v1/release-requests", FunctionAPI},
	{"GET", "/provider/v1/customers/{customer_id}/numbers", FunctionAPI},
	{"DELETE", "/provider/v1/customers/{customer_id}/numbers/{number}/release-request", FunctionAPI},
	{"GET", "/v1/numbers", FunctionAPI},
	{"POST", "/v1/numbers/release", FunctionAPI},
	{"POST", "/v1/numbers/reject", FunctionAPI},
	{"GET", "/v1/numbers/{number}", FunctionAPI},
	{"POST", "/zoom/webhook", FunctionWebhook},
}

func TestAPIHasExactlyTheSpecRoutes(t *testing.T) {
	s := synthStack(t, dev)
	paths := s.resourcePaths(t)
	// "METHOD /path" → the method's properties.
	methods := map[string]map[string]any{}
	for id, props := range s.ofType("AWS::ApiGateway::Method") {
		path, ok := paths[refOf(props["ResourceId"])]
		if !ok {
			t.Fatalf("method %s is not on a resource of the API: %v", id, props["ResourceId"])
		}
		methods[fmt.Sprintf("%s %s", props["HttpMethod"], path)] = props
	}
	var want []string
	for _, r := range specRoutes {
		key := r.method + " " + r.path
		want = append(want, key)
		t.Run(key, func(t *testing.T) {
			props, ok := methods[key]
			if !ok {
				t.Fatalf("no method %s; have %v", key, slices.Sorted(maps.Keys(methods)))
			}
			// Auth is the handlers' (JWT, Zoom signature), not API Gateway's.
			if props["AuthorizationType"] != "NONE" {
				t.Errorf("AuthorizationType = %v", props["AuthorizationType"])
			}
			integ, _ := props["Integration"].(map[string]any)
			if integ["Type"] != "AWS_PROXY" {
				t.Errorf("Integration.Type = %v, want AWS_PROXY", integ["Type"])
			}
			fnID := s.functionID(t, r.function)
			if uri := jsonString(t, integ["Uri"]); !strings.Contains(uri, `"`+fnID+`"`) {
				t.Errorf("integration %s does not invoke %s", uri, r.function)
			}
		})
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(methods)); !slices.Equal(got, want) {
		t.Errorf("methods %v, want exactly %v", got, want)
	}
	for id, path := range paths {
		for _, local := range []string{"/local", "/zoom-sim", "/healthz"} {
			if path == local || strings.HasPrefix(path, local+"/") {
				t.Errorf("resource %s serves the local-only path %s", id, path)
			}
		}
	}
}

func TestAPIStage(t *testing.T) {
	for _, cfg := range []Config{dev, {Stage: "prod", Production: true}} {
		t.Run(cfg.Stage, func(t *testing.T) {
			s := synthStack(t, cfg)
			stages := s.ofType("AWS::ApiGateway::Stage")
			if len(stages) != 1 {
				t.Fatalf("%d stages, want 1", len(stages))
			}
			for _, props := range stages {
				if props["StageName"] != cfg.Stage || props["TracingEnabled"] != true {
					t.Errorf("StageName = %v, TracingEnabled = %v", props["StageName"], props["TracingEnabled"])
				}
				settings := jsonString(t, props["MethodSettings"])
				for _, want := range []string{`"MetricsEnabled":true`, `"ThrottlingBurstLimit":100`, `"ThrottlingRateLimit":50`} {
					if !strings.Contains(settings, want) {
						t.Errorf("MethodSettings %s lack %s", settings, want)
					}
				}
			}
			if n := len(s.ofType("AWS::ApiGateway::Authorizer")); n != 0 {
				t.Errorf("%d API Gateway authorizers: auth belongs to the handlers", n)
			}
			if n := len(s.ofType("AWS::ApiGateway::Account")); n != 0 {
				t.Errorf("the stack sets the account-wide API Gateway CloudWatch role")
			}
		})
	}
}
