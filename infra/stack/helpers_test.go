package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/jsiienv"
	"numberrelease/shared/config"
)

// testBuildDir holds an empty bootstrap per function, standing in for
// `make build`.
var testBuildDir string

func TestMain(m *testing.M) {
	jsiienv.SilenceEndOfLifeNode()
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "numberrelease-build-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := writeBundles(dir, FunctionNames()...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		testBuildDir = dir
		defer jsii.Close()
		return m.Run()
	}())
}

func writeBundles(dir string, names ...string) error {
	for _, name := range names {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), nil, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// synthesized is one stack and its template.
type synthesized struct {
	stack *NumberRelease
	tmpl  assertions.Template
	// resources is the template's Resources section as plain JSON values.
	resources map[string]map[string]any
}

var (
	synthMu sync.Mutex
	// synthCache is keyed by the configuration's Go syntax: Config holds a
	// slice (eventTargets), so it cannot be a map key itself.
	synthCache = map[string]*synthesized{}
)

// needsCDK skips t under -short: it builds on the CDK's Node.js kernel
// (jsii), whose start alone takes half a minute on a small machine.
// `make test` runs it.
func needsCDK(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the CDK's Node.js kernel (jsii); not run with -short")
	}
}

// synthStack synthesizes the stack for cfg (BuildDir defaults to the test
// bundles), once per cfg: the templates are only read.
func synthStack(t *testing.T, cfg Config) *synthesized {
	t.Helper()
	needsCDK(t)
	if cfg.BuildDir == "" {
		cfg.BuildDir = testBuildDir
	}
	synthMu.Lock()
	defer synthMu.Unlock()
	key := fmt.Sprintf("%#v", cfg)
	if s, ok := synthCache[key]; ok {
		return s
	}
	app := newTestApp(t)
	st, err := New(app, "Test", cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// As in the app (infra/main.go): every template is checked by cdk-nag;
	// TestNag asserts on the findings.
	AddNagChecks(app)
	tmpl := assertions.Template_FromStack(st.Stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]map[string]any
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	s := &synthesized{stack: st, tmpl: tmpl, resources: doc.Resources}
	synthCache[key] = s
	return s
}

// newTestApp is an app with cdk.json's feature flags, as the CDK CLI runs
// the real one (the stage settings are passed as Config instead).
func newTestApp(t *testing.T) awscdk.App {
	t.Helper()
	needsCDK(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	ctx := map[string]any{}
	for k, v := range doc.Context {
		if k != "stage" && k != "stages" {
			ctx[k] = v
		}
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
}

func synth(t *testing.T, cfg Config) assertions.Template {
	t.Helper()
	return synthStack(t, cfg).tmpl
}

// testConfig is a stage's defaults (config.DefaultStage) with the default bundle
// directory.
func testConfig(name string, production bool) Config {
	return Config{StageConfig: config.DefaultStage(name, production)}
}

// dev and prod are the stages' defaults (cdk.json's stages may override
// them; shared/config tests loading them).
var (
	dev  = testConfig("dev", false)
	prod = testConfig("prod", true)
)

// ofType returns the logical ids and properties of every resource of typ.
func (s *synthesized) ofType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.resources {
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// logicalID returns the template id of a construct's CloudFormation resource.
func (s *synthesized) logicalID(t *testing.T, c constructs.IConstruct) string {
	t.Helper()
	child, ok := c.Node().DefaultChild().(awscdk.CfnElement)
	if !ok {
		t.Fatalf("%s has no CloudFormation resource", *c.Node().Path())
	}
	return *s.stack.GetLogicalId(child)
}

// functionID returns the logical id of one of our functions.
func (s *synthesized) functionID(t *testing.T, name string) string {
	t.Helper()
	fn, ok := s.stack.Functions.ByName()[name]
	if !ok || fn == nil {
		t.Fatalf("no function %q", name)
	}
	return s.logicalID(t, fn)
}

// resourcePaths maps every AWS::ApiGateway::Resource to its full path,
// following ParentId up to the API's root.
func (s *synthesized) resourcePaths(t *testing.T) map[string]string {
	t.Helper()
	res := s.ofType("AWS::ApiGateway::Resource")
	paths := map[string]string{}
	var path func(id string, depth int) string
	path = func(id string, depth int) string {
		if p, ok := paths[id]; ok {
			return p
		}
		if depth > len(res) {
			t.Fatalf("resource %s: ParentId cycle", id)
		}
		props, ok := res[id]
		if !ok {
			t.Fatalf("no API resource %s", id)
		}
		part, _ := props["PathPart"].(string)
		parent := ""
		if ref := refOf(props["ParentId"]); ref != "" {
			parent = path(ref, depth+1)
		} // else Fn::GetAtt [Api, RootResourceId]: the root
		paths[id] = parent + "/" + part
		return paths[id]
	}
	for id := range res {
		path(id, 0)
	}
	return paths
}

// refOf returns the logical id v refers to ({"Ref": id}), or "".
func refOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	ref, _ := m["Ref"].(string)
	return ref
}

// policyStatements returns every statement of every AWS::IAM::Policy, with
// the logical ids of the roles the policy is attached to.
func (s *synthesized) policyStatements() []statement {
	var out []statement
	for id, props := range s.ofType("AWS::IAM::Policy") {
		var roles []string
		if list, ok := props["Roles"].([]any); ok {
			for _, r := range list {
				roles = append(roles, refOf(r))
			}
		}
		doc, _ := props["PolicyDocument"].(map[string]any)
		list, _ := doc["Statement"].([]any)
		for _, st := range list {
			m, _ := st.(map[string]any)
			out = append(out, statement{policy: id, roles: roles, raw: m, actions: stringsOf(m["Action"])})
		}
	}
	return out
}

type statement struct {
	policy  string
	roles   []string
	actions []string
	raw     map[string]any
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
