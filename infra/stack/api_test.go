package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/getkin/kin-openapi/openapi3"

	"numberrelease/shared/apispec"
)

// specRoutes are the deployed routes: every operation of the OpenAPI
// document but the local runner's, read here from the document itself (not
// through the stack's code), and the function serving each.
var specRoutes = func() []struct{ method, path, function string } {
	doc, err := openapi3.NewLoader().LoadFromData(apispec.Document())
	if err != nil {
		panic(err)
	}
	var out []struct{ method, path, function string }
	for _, path := range doc.Paths.InMatchingOrder() {
		if path == "/local" || strings.HasPrefix(path, "/local/") || strings.HasPrefix(path, "/zoom-sim/") || path == "/healthz" {
			continue
		}
		for method := range doc.Paths.Value(path).Operations() {
			fn := FunctionAPI
			if path == "/zoom/webhook" {
				fn = FunctionWebhook
			}
			out = append(out, struct{ method, path, function string }{method, path, fn})
		}
	}
	return out
}()

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
	for _, cfg := range []Config{dev, prod} {
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
				for _, want := range []string{
					`"MetricsEnabled":true`,
					fmt.Sprintf(`"ThrottlingBurstLimit":%d`, cfg.APIBurstLimit),
					fmt.Sprintf(`"ThrottlingRateLimit":%d`, cfg.APIRateLimit),
					// Execution logs for errors only, never request or response bodies.
					`"LoggingLevel":"ERROR"`, `"DataTraceEnabled":false`,
				} {
					if !strings.Contains(settings, want) {
						t.Errorf("MethodSettings %s lack %s", settings, want)
					}
				}
			}
			if n := len(s.ofType("AWS::ApiGateway::Authorizer")); n != 0 {
				t.Errorf("%d API Gateway authorizers: auth belongs to the handlers", n)
			}
		})
	}
}

func TestAPIAccessLogs(t *testing.T) {
	s := synthStack(t, dev)
	stage := s.stack.API.DeploymentStage()
	accessLogs := s.logicalID(t, s.stack.Node().FindChild(jsii.String("ApiAccessLogs")))
	s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{
		"AccessLogSetting": map[string]any{
			"DestinationArn": map[string]any{"Fn::GetAtt": []any{accessLogs, "Arn"}},
			"Format":         assertions.Match_AnyValue(),
		},
	})
	props := s.resources[s.logicalID(t, stage)]["Properties"].(map[string]any)
	format := props["AccessLogSetting"].(map[string]any)["Format"].(string)
	// Each line must be JSON once API Gateway fills in the variables; the
	// error message variable is the only unquoted one (messageString is
	// quoted by API Gateway itself).
	filled := strings.ReplaceAll(format, "$context.error.messageString", `"an \"error\""`)
	filled = regexp.MustCompile(`\$context\.[A-Za-z.]+`).ReplaceAllString(filled, "-")
	var line map[string]string
	if err := json.Unmarshal([]byte(filled), &line); err != nil {
		t.Fatalf("access log format is not JSON once filled: %v\n%s", err, filled)
	}
	for _, field := range []string{"requestId", "status", "resourcePath", "httpMethod", "ip", "requestTime", "integrationStatus", "xrayTraceId", "error"} {
		if _, ok := line[field]; !ok {
			t.Errorf("access log lacks %s: %s", field, format)
		}
	}
	for _, leak := range []string{"$input", "$context.path", "authorizer", "Authorization", "$context.identity.user"} {
		if strings.Contains(format, leak) {
			t.Errorf("access log format includes %s (bodies, paths with phone numbers, credentials): %s", leak, format)
		}
	}
	// The execution log group exists before API Gateway would create it
	// (without retention) and carries the stage's retention.
	s.tmpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{
		"LogGroupName": map[string]any{"Fn::Join": []any{"", []any{
			"API-Gateway-Execution-Logs_", map[string]any{"Ref": s.logicalID(t, s.stack.API)}, "/dev",
		}}},
		"RetentionInDays": dev.LogRetentionDays,
	})
}

// Access logging needs the account's API Gateway CloudWatch role: the stack
// sets it unless the stage says it is managed elsewhere, and never deletes it.
func TestAPIGatewayAccountRole(t *testing.T) {
	s := synthStack(t, dev)
	s.tmpl.ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(1))
	s.tmpl.HasResource(jsii.String("AWS::ApiGateway::Account"), map[string]any{
		"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
	})
	s.tmpl.HasResource(jsii.String("AWS::IAM::Role"), map[string]any{
		"DeletionPolicy": "Retain",
		"Properties": assertions.Match_ObjectLike(&map[string]any{
			"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{
				"Statement": []any{assertions.Match_ObjectLike(&map[string]any{
					"Principal": map[string]any{"Service": "apigateway.amazonaws.com"},
				})},
			}),
		}),
	})
	stageID := s.logicalID(t, s.stack.API.DeploymentStage())
	deps := jsonString(t, s.resources[stageID]["DependsOn"])
	if !strings.Contains(deps, "Account") {
		t.Errorf("the stage does not wait for the account's CloudWatch role: DependsOn %s", deps)
	}

	managed := dev
	managed.APIGatewayCloudWatchRole = false
	synth(t, managed).ResourceCountIs(jsii.String("AWS::ApiGateway::Account"), jsii.Number(0))
}

// Zoom's webhook has a throttle of its own (webhookRateLimit and
// webhookBurstLimit), apart from the stage's default for the other methods,
// with the same metrics and logging settings.
func TestWebhookThrottle(t *testing.T) {
	tight := dev
	tight.WebhookRateLimit, tight.WebhookBurstLimit = 7, 9
	for _, cfg := range []Config{dev, tight} {
		t.Run(fmt.Sprintf("%d-%d", cfg.WebhookRateLimit, cfg.WebhookBurstLimit), func(t *testing.T) {
			s := synthStack(t, cfg)
			for _, props := range s.ofType("AWS::ApiGateway::Stage") {
				settings, _ := props["MethodSettings"].([]any)
				byPath := map[string]map[string]any{}
				for _, raw := range settings {
					m := raw.(map[string]any)
					byPath[fmt.Sprintf("%v %v", m["HttpMethod"], m["ResourcePath"])] = m
				}
				hook, ok := byPath["POST /~1zoom~1webhook"]
				if !ok {
					t.Fatalf("no method setting for POST /zoom/webhook: %s", jsonString(t, settings))
				}
				want := map[string]any{
					"ThrottlingRateLimit": float64(cfg.WebhookRateLimit), "ThrottlingBurstLimit": float64(cfg.WebhookBurstLimit),
					"MetricsEnabled": true, "LoggingLevel": "ERROR", "DataTraceEnabled": false,
				}
				for k, v := range want {
					if hook[k] != v {
						t.Errorf("webhook %s = %v, want %v", k, hook[k], v)
					}
				}
				all := byPath["* /*"]
				if all["ThrottlingRateLimit"] != float64(cfg.APIRateLimit) || all["ThrottlingBurstLimit"] != float64(cfg.APIBurstLimit) {
					t.Errorf("stage default throttle %v/%v, want %d/%d", all["ThrottlingRateLimit"], all["ThrottlingBurstLimit"], cfg.APIRateLimit, cfg.APIBurstLimit)
				}
				if len(byPath) != 2 {
					t.Errorf("method settings %v, want the stage default and the webhook's", jsonString(t, settings))
				}
			}
		})
	}
}

// The api function gets each caller's budget from the stage.
func TestTenantBudgetReachesTheAPI(t *testing.T) {
	cfg := dev
	cfg.TenantRateLimit, cfg.TenantBurst = 3, 11
	s := synthStack(t, cfg)
	props := s.resources[s.functionID(t, FunctionAPI)]["Properties"].(map[string]any)
	vars := props["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars["TENANT_RATE_LIMIT"] != "3" || vars["TENANT_BURST"] != "11" {
		t.Errorf("TENANT_RATE_LIMIT %v, TENANT_BURST %v; want 3 and 11", vars["TENANT_RATE_LIMIT"], vars["TENANT_BURST"])
	}
}
