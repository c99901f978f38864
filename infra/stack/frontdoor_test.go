package stack

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/config"
	"numberrelease/web"
)

// The stage variants of the front door and the sign-in.
var (
	// customDomain serves the front door on the stage's own domain.
	customDomain = func() Config {
		c := testConfig("dev", false)
		c.DomainName = "numbers.example.com"
		c.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
		return c
	}()
	// externalIssuer trusts another OpenID Connect issuer: no user pool.
	externalIssuer = func() Config {
		c := testConfig("dev", false)
		c.Identity = config.Identity{
			Issuer:       "https://login.example.com/",
			JWKSURL:      "https://login.example.com/.well-known/jwks.json",
			Audience:     "number-release",
			AuthorizeURL: "https://login.example.com/authorize",
			TokenURL:     "https://login.example.com/oauth/token",
			RevokeURL:    "https://revoke.example.com/oauth/revoke",
			LogoutURL:    "https://login.example.com/v2/logout",
			ClientID:     "pages-client",
			Bearer:       config.BearerIDToken,
		}
		return c
	}()
	// withOperator has the stack invite its first operator.
	withOperator = func() Config {
		c := testConfig("prod", true)
		c.OperatorEmail = "olive@ops.example"
		return c
	}()
	// noFrontDoor is the LocalStack stage's shape: no CloudFront, the
	// issuer on the host.
	noFrontDoor = func() Config {
		c := testConfig("local", false)
		c.FrontDoor, c.DomainName, c.APIGatewayCloudWatchRole = false, "localhost", false
		c.Identity = config.Identity{Issuer: "http://localhost:8080/local", JWKSURL: "http://host.docker.internal:8080/local/jwks.json",
			Audience: "number-release", Bearer: config.BearerAccessToken}
		return c
	}()
)

// The managed policies the API behaviours use (CloudFront's ids).
const (
	cachingDisabled           = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	cachingOptimized          = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	allViewerExceptHostHeader = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// only returns the properties of the single resource of typ.
func (s *synthesized) only(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	found := s.ofType(typ)
	if len(found) != 1 {
		t.Fatalf("%d %s, want 1", len(found), typ)
	}
	for id, props := range found {
		return id, props
	}
	return "", nil
}

// distribution returns the DistributionConfig and the behaviours by path
// pattern ("" for the default one).
func (s *synthesized) distribution(t *testing.T) (map[string]any, map[string]map[string]any) {
	t.Helper()
	_, props := s.only(t, "AWS::CloudFront::Distribution")
	dc := props["DistributionConfig"].(map[string]any)
	behaviors := map[string]map[string]any{"": dc["DefaultCacheBehavior"].(map[string]any)}
	for _, b := range dc["CacheBehaviors"].([]any) {
		m := b.(map[string]any)
		behaviors[m["PathPattern"].(string)] = m
	}
	return dc, behaviors
}

// origins maps each origin's id to its properties.
func origins(dc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range dc["Origins"].([]any) {
		m := o.(map[string]any)
		out[m["Id"].(string)] = m
	}
	return out
}

func TestDistributionBehaviours(t *testing.T) {
	s := synthStack(t, dev)
	dc, behaviors := s.distribution(t)
	headers := s.logicalID(t, s.stack.FrontDoor.Headers)
	byID := origins(dc)
	pagesOrigin, apiOrigin := "", ""
	for id, o := range byID {
		if _, ok := o["S3OriginConfig"]; ok {
			pagesOrigin = id
		} else {
			apiOrigin = id
		}
	}
	if len(byID) != 2 || pagesOrigin == "" || apiOrigin == "" {
		t.Fatalf("origins %v, want the pages bucket and the API", jsonString(t, dc["Origins"]))
	}

	t.Run("origins", func(t *testing.T) {
		pages := byID[pagesOrigin]
		oac := s.logicalID(t, s.stack.FrontDoor.Pages) // the bucket; the OAC below
		if got := jsonString(t, pages["DomainName"]); got != `{"Fn::GetAtt":["`+oac+`","RegionalDomainName"]}` {
			t.Errorf("pages origin domain %s, want the pages bucket's", got)
		}
		if _, ok := pages["OriginAccessControlId"].(map[string]any); !ok {
			t.Errorf("pages origin without origin access control: %s", jsonString(t, pages))
		}
		api := byID[apiOrigin]
		wantDomain := `{"Fn::Join":["",[{"Ref":"` + s.logicalID(t, s.stack.API) + `"},".execute-api.",{"Ref":"AWS::Region"},".",{"Ref":"AWS::URLSuffix"}]]}`
		if got := jsonString(t, api["DomainName"]); got != wantDomain {
			t.Errorf("API origin domain %s, want %s", got, wantDomain)
		}
		if api["OriginPath"] != "/dev" {
			t.Errorf("API origin path %v, want the stage /dev", api["OriginPath"])
		}
		if got := jsonString(t, api["CustomOriginConfig"]); got != `{"OriginProtocolPolicy":"https-only","OriginSSLProtocols":["TLSv1.2"]}` {
			t.Errorf("API origin config %s", got)
		}
	})

	allMethods := []any{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
	tests := []struct {
		path, origin, cache, originRequest, viewer string
		methods                                    []any
		function                                   bool
	}{
		// / and /portal: the default behaviour's function maps them.
		{"", pagesOrigin, cachingOptimized, "", "redirect-to-https", []any{"GET", "HEAD"}, true},
		{"/web/*", pagesOrigin, cachingOptimized, "", "redirect-to-https", []any{"GET", "HEAD"}, false},
	}
	for _, p := range []string{"/v1/*", "/provider/v1/*", "/admin/v1/*", "/zoom/webhook"} {
		tests = append(tests, struct {
			path, origin, cache, originRequest, viewer string
			methods                                    []any
			function                                   bool
		}{p, apiOrigin, cachingDisabled, allViewerExceptHostHeader, "https-only", allMethods, false})
	}
	if len(behaviors) != len(tests) {
		t.Errorf("behaviours %v, want %d", slices.Sorted(maps.Keys(behaviors)), len(tests))
	}
	for _, tt := range tests {
		t.Run("behaviour "+tt.path, func(t *testing.T) {
			b, ok := behaviors[tt.path]
			if !ok {
				t.Fatalf("no behaviour for %q", tt.path)
			}
			if b["TargetOriginId"] != tt.origin {
				t.Errorf("origin %v, want %s", b["TargetOriginId"], tt.origin)
			}
			if b["CachePolicyId"] != tt.cache {
				t.Errorf("cache policy %v, want %s", b["CachePolicyId"], tt.cache)
			}
			if got, _ := b["OriginRequestPolicyId"].(string); got != tt.originRequest {
				t.Errorf("origin request policy %q, want %q", got, tt.originRequest)
			}
			if b["ViewerProtocolPolicy"] != tt.viewer {
				t.Errorf("viewer protocol policy %v, want %s", b["ViewerProtocolPolicy"], tt.viewer)
			}
			if got, want := jsonString(t, b["AllowedMethods"]), jsonString(t, tt.methods); got != want {
				t.Errorf("methods %s, want %s", got, want)
			}
			if refOf(b["ResponseHeadersPolicyId"]) != headers {
				t.Errorf("response headers policy %v, want %s", b["ResponseHeadersPolicyId"], headers)
			}
			fns := jsonString(t, b["FunctionAssociations"])
			wantFn := `[{"EventType":"viewer-request","FunctionARN":{"Fn::GetAtt":["` + s.logicalID(t, s.stack.FrontDoor.PagePaths) + `","FunctionARN"]}}]`
			switch {
			case tt.function && fns != wantFn:
				t.Errorf("function associations %s, want %s", fns, wantFn)
			case !tt.function && b["FunctionAssociations"] != nil:
				t.Errorf("function associations %s, want none", fns)
			}
		})
	}

	t.Run("distribution", func(t *testing.T) {
		for k, want := range map[string]string{
			"PriceClass":  `"PriceClass_100"`,
			"HttpVersion": `"http2and3"`,
			"Enabled":     `true`,
			"Logging":     `{"Bucket":{"Fn::GetAtt":["` + s.logicalID(t, s.stack.FrontDoor.AccessLogs) + `","RegionalDomainName"]},"Prefix":"cloudfront/"}`,
		} {
			if got := jsonString(t, dc[k]); got != want {
				t.Errorf("%s = %s, want %s", k, got, want)
			}
		}
		// The default *.cloudfront.net certificate: no aliases.
		if dc["Aliases"] != nil || dc["ViewerCertificate"] != nil {
			t.Errorf("Aliases %v, ViewerCertificate %v, want neither without a custom domain", dc["Aliases"], dc["ViewerCertificate"])
		}
	})
}

// With a custom domain the distribution answers on it with the stage's
// certificate and TLS 1.2 at least, and the URLs are the domain's.
func TestCustomDomain(t *testing.T) {
	s := synthStack(t, customDomain)
	dc, _ := s.distribution(t)
	if got := jsonString(t, dc["Aliases"]); got != `["numbers.example.com"]` {
		t.Errorf("Aliases = %s", got)
	}
	want := `{"AcmCertificateArn":"` + customDomain.CertificateARN + `","MinimumProtocolVersion":"TLSv1.2_2021","SslSupportMethod":"sni-only"}`
	if got := jsonString(t, dc["ViewerCertificate"]); got != want {
		t.Errorf("ViewerCertificate = %s, want %s", got, want)
	}
	_, client := s.only(t, "AWS::Cognito::UserPoolClient")
	if got := jsonString(t, client["CallbackURLs"]); got != `["https://numbers.example.com/","https://numbers.example.com/portal"]` {
		t.Errorf("CallbackURLs = %s", got)
	}
	if got := s.apiEnv(t)["ZOOM_REDIRECT_URL"]; got != "https://numbers.example.com/" {
		t.Errorf("ZOOM_REDIRECT_URL = %v", got)
	}
	outputs := *s.tmpl.FindOutputs(jsii.String("AppUrl"), nil)
	if got := jsonString(t, (*outputs["AppUrl"])["Value"]); got != `"https://numbers.example.com/"` {
		t.Errorf("AppUrl output %s", got)
	}
}

// apiEnv returns the api function's environment variables.
func (s *synthesized) apiEnv(t *testing.T) map[string]any {
	t.Helper()
	props := s.resources[s.functionID(t, FunctionAPI)]["Properties"].(map[string]any)
	return props["Environment"].(map[string]any)["Variables"].(map[string]any)
}

func TestSecurityHeaders(t *testing.T) {
	cognito := `connect-src 'self' https://numberrelease-dev-","AWS::AccountId",".auth.","AWS::Region",".amazoncognito.com;`
	tests := []struct {
		name    string
		cfg     Config
		connect string // connect-src as the flattened Fn::Join shows it
	}{
		{"the stack's Cognito domain", dev, cognito},
		{"the external issuer's token and revoke origins", externalIssuer,
			`connect-src 'self' https://login.example.com https://revoke.example.com;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthStack(t, tt.cfg)
			_, props := s.only(t, "AWS::CloudFront::ResponseHeadersPolicy")
			sec := props["ResponseHeadersPolicyConfig"].(map[string]any)["SecurityHeadersConfig"].(map[string]any)
			csp := sec["ContentSecurityPolicy"].(map[string]any)
			if csp["Override"] != true {
				t.Errorf("CSP Override = %v", csp["Override"])
			}
			flat := flattenJoin(t, csp["ContentSecurityPolicy"])
			want := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " + tt.connect +
				" frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
			if flat != want {
				t.Errorf("Content-Security-Policy\n got %s\nwant %s", flat, want)
			}
			if strings.Contains(flat, "unsafe-inline") || strings.Contains(flat, "unsafe-eval") {
				t.Errorf("CSP allows inline or eval: %s", flat)
			}
			for k, want := range map[string]string{
				"StrictTransportSecurity": `{"AccessControlMaxAgeSec":63072000,"IncludeSubdomains":true,"Override":true,"Preload":true}`,
				"ContentTypeOptions":      `{"Override":true}`,
				"FrameOptions":            `{"FrameOption":"DENY","Override":true}`,
				"ReferrerPolicy":          `{"Override":true,"ReferrerPolicy":"same-origin"}`,
			} {
				if got := jsonString(t, sec[k]); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

// flattenJoin writes an Fn::Join of strings and references as one string,
// each reference as `","<logical id>","` (an attribute as
// `","<logical id>.<attribute>","`) so a test can compare it whole.
func flattenJoin(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	join, ok := v.(map[string]any)["Fn::Join"].([]any)
	if !ok || join[0] != "" {
		t.Fatalf("not an Fn::Join on \"\": %s", jsonString(t, v))
	}
	var b strings.Builder
	for _, part := range join[1].([]any) {
		if s, ok := part.(string); ok {
			b.WriteString(s)
			continue
		}
		b.WriteString(`","` + refOrAtt(t, part) + `","`)
	}
	return b.String()
}

// refOrAtt writes {"Ref": id} as id and {"Fn::GetAtt": [id, attr]} as
// id.attr.
func refOrAtt(t *testing.T, v any) string {
	t.Helper()
	if ref := refOf(v); ref != "" {
		return ref
	}
	if att, ok := v.(map[string]any)["Fn::GetAtt"].([]any); ok && len(att) == 2 {
		return att[0].(string) + "." + att[1].(string)
	}
	t.Fatalf("neither Ref nor Fn::GetAtt: %s", jsonString(t, v))
	return ""
}

// The viewer-request function, run in Node.js as CloudFront runs it: the
// two page paths map to their files (the query string is apart from the
// URI in CloudFront's event, so it is kept), anything else is 404.
func TestPagePathsFunction(t *testing.T) {
	s := synthStack(t, dev)
	_, props := s.only(t, "AWS::CloudFront::Function")
	if got := jsonString(t, props["FunctionConfig"].(map[string]any)["Runtime"]); got != `"cloudfront-js-2.0"` {
		t.Errorf("runtime %s", got)
	}
	code, _ := props["FunctionCode"].(string)
	if code != pagePathsCode {
		t.Fatalf("FunctionCode differs from pagePathsCode")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node to run the function in")
	}
	uris := []string{"/", "/portal", "/portal/", "/index.html", "/web/index.html", "/local/token", "/zoom-sim/", ""}
	harness := code + `
const out = {};
for (const uri of ` + jsonString(t, uris) + `) {
  const r = handler({ request: { uri: uri, method: 'GET', querystring: { code: { value: 'c' }, state: { value: 's' } } } });
  out[uri] = r.statusCode ? String(r.statusCode) : r.uri + '?' + Object.keys(r.querystring).join('&');
}
console.log(JSON.stringify(out));
`
	file := filepath.Join(t.TempDir(), "pagepaths.js")
	if err := os.WriteFile(file, []byte(harness), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := exec.Command(node, file).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	// The same paths as the local server's (package web).
	if web.CustomerPath != "/" || web.PortalPath != "/portal" || web.AssetPrefix != "/web/" {
		t.Errorf("package web serves the pages at %s, %s, %s; the function maps /, /portal, /web/", web.CustomerPath, web.PortalPath, web.AssetPrefix)
	}
	want := map[string]string{
		"/": "/web/index.html?code&state", "/portal": "/web/portal.html?code&state",
		"/portal/": "404", "/index.html": "404", "/web/index.html": "404", "/local/token": "404", "/zoom-sim/": "404", "": "404",
	}
	if !maps.Equal(got, want) {
		t.Errorf("function answers %v, want %v", got, want)
	}
}

// The pages bucket is private, read by this distribution only (origin
// access control, a bucket policy for cloudfront.amazonaws.com conditioned
// on the distribution's ARN), TLS only, logged; kept in production.
func TestPagesBucket(t *testing.T) {
	for _, tt := range []struct {
		cfg    Config
		policy string
	}{{dev, "Delete"}, {prod, "Retain"}} {
		t.Run(tt.cfg.Stage, func(t *testing.T) {
			s := synthStack(t, tt.cfg)
			fd := s.stack.FrontDoor
			pages, logs := s.logicalID(t, fd.Pages), s.logicalID(t, fd.AccessLogs)
			if got := s.resources[pages]["DeletionPolicy"]; got != tt.policy {
				t.Errorf("pages bucket DeletionPolicy %v, want %s", got, tt.policy)
			}
			if got := s.resources[logs]["DeletionPolicy"]; got != "Retain" {
				t.Errorf("access log bucket DeletionPolicy %v, want Retain in every stage", got)
			}
			for _, id := range []string{pages, logs} {
				props := s.resources[id]["Properties"].(map[string]any)
				if got := jsonString(t, props["PublicAccessBlockConfiguration"]); got !=
					`{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
					t.Errorf("%s: PublicAccessBlockConfiguration %s", id, got)
				}
				if got := jsonString(t, props["BucketEncryption"]); !strings.Contains(got, `"SSEAlgorithm":"AES256"`) {
					t.Errorf("%s: BucketEncryption %s", id, got)
				}
				if _, named := props["BucketName"]; named {
					t.Errorf("%s has a fixed name", id)
				}
			}
			// CloudFront's standard logs are written with ACLs; the logs
			// expire with the stage's log retention.
			logProps := s.resources[logs]["Properties"].(map[string]any)
			if got := jsonString(t, logProps["OwnershipControls"]); got != `{"Rules":[{"ObjectOwnership":"BucketOwnerPreferred"}]}` {
				t.Errorf("access log bucket OwnershipControls %s", got)
			}
			if got, want := jsonString(t, logProps["LifecycleConfiguration"]),
				`{"Rules":[{"ExpirationInDays":`+jsonString(t, tt.cfg.LogRetentionDays)+`,"Id":"expire-access-logs","Status":"Enabled"}]}`; got != want {
				t.Errorf("access log bucket LifecycleConfiguration %s, want %s", got, want)
			}
			props := s.resources[pages]["Properties"].(map[string]any)
			if got := jsonString(t, props["LoggingConfiguration"]); got != `{"DestinationBucketName":{"Ref":"`+logs+`"},"LogFilePrefix":"s3-pages/"}` {
				t.Errorf("pages bucket logging %s", got)
			}
			_, oac := s.only(t, "AWS::CloudFront::OriginAccessControl")
			cfgOAC := oac["OriginAccessControlConfig"].(map[string]any)
			if cfgOAC["OriginAccessControlOriginType"] != "s3" || cfgOAC["SigningBehavior"] != "always" || cfgOAC["SigningProtocol"] != "sigv4" {
				t.Errorf("origin access control %s", jsonString(t, cfgOAC))
			}
			dist := s.logicalID(t, fd.Distribution)
			var grants, tlsDenies int
			for _, bp := range s.ofType("AWS::S3::BucketPolicy") {
				if refOf(bp["Bucket"]) != pages {
					continue
				}
				for _, raw := range bp["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					st := raw.(map[string]any)
					switch {
					case st["Effect"] == "Deny" && strings.Contains(jsonString(t, st["Condition"]), `"aws:SecureTransport":"false"`):
						tlsDenies++
					case st["Effect"] == "Allow":
						grants++
						if jsonString(t, st["Principal"]) != `{"Service":"cloudfront.amazonaws.com"}` || st["Action"] != "s3:GetObject" {
							t.Errorf("pages bucket grants %s", jsonString(t, st))
						}
						cond := jsonString(t, st["Condition"])
						if !strings.HasPrefix(cond, `{"StringEquals":{"AWS:SourceArn":`) || !strings.Contains(cond, `:distribution/",{"Ref":"`+dist+`"}`) {
							t.Errorf("grant condition %s, want AWS:SourceArn of distribution %s", cond, dist)
						}
					}
				}
			}
			if grants != 1 || tlsDenies != 1 {
				t.Errorf("pages bucket policy: %d grants, %d TLS denials; want 1 each", grants, tlsDenies)
			}
		})
	}
}

// The deploy copies web/static, without the Zoom simulator's page, and the
// generated config.json to web/ in the pages bucket.
func TestPagesDeployment(t *testing.T) {
	s := synthStack(t, dev)
	_, props := s.only(t, "Custom::CDKBucketDeployment")
	for k, want := range map[string]string{
		"DestinationBucketName":      `{"Ref":"` + s.logicalID(t, s.stack.FrontDoor.Pages) + `"}`,
		"DestinationBucketKeyPrefix": `"web/"`,
		"Prune":                      `true`,
		"RetainOnDelete":             `false`,
		"SystemMetadata":             `{"cache-control":"no-cache"}`,
	} {
		if got := jsonString(t, props[k]); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	if _, ok := props["DistributionId"]; ok {
		t.Error("the deployment invalidates the distribution (needs cloudfront:CreateInvalidation on *)")
	}
	dir := assemblyDir(t, s)
	pages, configs := stagedAssets(t, dir, props)
	if len(pages) != 1 || len(configs) != 1 {
		t.Fatalf("staged sources: %d with index.html, %d with config.json; want 1 each", len(pages), len(configs))
	}
	for _, name := range []string{"index.html", "portal.html", "app.css", "customer.js", "portal.js", "lib.js", "signin.js"} {
		if _, err := os.Stat(filepath.Join(pages[0], name)); err != nil {
			t.Errorf("the pages asset lacks %s: %v", name, err)
		}
	}
	for _, name := range localOnlyFiles {
		if _, err := os.Stat(filepath.Join(pages[0], name)); err == nil {
			t.Errorf("the pages asset holds the local-only %s", name)
		}
	}
	client := s.logicalID(t, s.stack.SignIn.Client)
	base := `https://numberrelease-dev-","AWS::AccountId",".auth.","AWS::Region",".amazoncognito.com`
	checkPagesConfig(t, configs[0], props, map[string]string{
		"authorize_url": base + "/oauth2/authorize",
		"token_url":     base + "/oauth2/token",
		"revoke_url":    base + "/oauth2/revoke",
		"logout_url":    base + "/logout",
		"client_id":     `","` + client + `","`,
		"scope":         "openid email",
		"bearer":        "access_token",
	})
	// The copier's role: its own log group, no AWS managed policy.
	role := s.resources[s.logicalID(t, s.stack.FrontDoor.DeploymentRole)]["Properties"].(map[string]any)
	if m, ok := role["ManagedPolicyArns"]; ok {
		t.Errorf("the copier's role has managed policies %v", m)
	}
	// Production keeps the bucket, and with it the pages.
	if _, p := synthStack(t, prod).only(t, "Custom::CDKBucketDeployment"); p["RetainOnDelete"] != true {
		t.Errorf("prod RetainOnDelete = %v, want true (the bucket is kept)", p["RetainOnDelete"])
	}
}

// assemblyDir is where the stack's cloud assembly (and its staged assets)
// was written.
func assemblyDir(t *testing.T, s *synthesized) string {
	t.Helper()
	return *awscdk.Stage_Of(s.stack.Stack).Synth(nil).Directory()
}

// stagedAssets returns the staged directories of the deployment's sources
// (by their object keys) holding index.html, and those holding
// config.json.
func stagedAssets(t *testing.T, dir string, props map[string]any) (pages, configs []string) {
	t.Helper()
	for _, key := range stringsOf(props["SourceObjectKeys"]) {
		d := filepath.Join(dir, "asset."+strings.TrimSuffix(key, ".zip"))
		if _, err := os.Stat(filepath.Join(d, "index.html")); err == nil {
			pages = append(pages, d)
		}
		if _, err := os.Stat(filepath.Join(d, "config.json")); err == nil {
			configs = append(configs, d)
		}
	}
	return pages, configs
}

// marker is a deploy-time value in a staged data file.
var marker = regexp.MustCompile(`<<marker:0x[0-9a-f]+:[0-9]+>>`)

// checkPagesConfig reads config.json from dir, puts each marker's value
// back (flattenJoin's form), and compares it with the sign-in contract's
// shape: {"auth": want}, nothing more.
func checkPagesConfig(t *testing.T, dir string, props map[string]any, want map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]string
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("config.json %s: %v", raw, err)
	}
	if len(doc) != 1 || doc["auth"] == nil {
		t.Fatalf("config.json %s, want one key, auth", raw)
	}
	values := map[string]any{}
	// (No deploy-time value anywhere: no SourceMarkers.)
	markers, _ := props["SourceMarkers"].([]any)
	for _, m := range markers {
		for k, v := range m.(map[string]any) {
			values[k] = v
		}
	}
	got := map[string]string{}
	for k, v := range doc["auth"] {
		got[k] = marker.ReplaceAllStringFunc(v, func(m string) string {
			val, ok := values[m]
			if !ok {
				t.Errorf("config.json %s: marker %s has no value", k, m)
			}
			if ref := refOf(val); ref != "" {
				return `","` + ref + `","`
			}
			return flattenJoin(t, val)
		})
	}
	if !maps.Equal(got, want) {
		t.Errorf("config.json auth\n got %v\nwant %v", got, want)
	}
}

// With an external issuer there is no user pool: the api function gets the
// issuer's settings, and the pages' config.json the issuer's endpoints.
func TestExternalIssuer(t *testing.T) {
	s := synthStack(t, externalIssuer)
	for id, r := range s.resources {
		if typ, _ := r["Type"].(string); strings.HasPrefix(typ, "AWS::Cognito::") {
			t.Errorf("%s: %s with an external issuer", id, typ)
		}
	}
	if s.stack.SignIn.Pool != nil {
		t.Error("SignIn.Pool is set")
	}
	env := s.apiEnv(t)
	for k, want := range map[string]string{
		"JWT_ISSUER": "https://login.example.com/", "JWKS_URL": "https://login.example.com/.well-known/jwks.json", "JWT_AUDIENCE": "number-release",
	} {
		if env[k] != want {
			t.Errorf("%s = %v, want %q", k, env[k], want)
		}
	}
	for _, k := range []string{"COGNITO_ISSUER", "COGNITO_CLIENT_ID"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is set with an external issuer", k)
		}
	}
	_, props := s.only(t, "Custom::CDKBucketDeployment")
	_, configs := stagedAssets(t, assemblyDir(t, s), props)
	if len(configs) != 1 {
		t.Fatalf("%d staged config.json", len(configs))
	}
	checkPagesConfig(t, configs[0], props, map[string]string{
		"authorize_url": "https://login.example.com/authorize",
		"token_url":     "https://login.example.com/oauth/token",
		"revoke_url":    "https://revoke.example.com/oauth/revoke",
		"logout_url":    "https://login.example.com/v2/logout",
		"client_id":     "pages-client",
		"scope":         "openid email",
		"bearer":        "id_token",
	})
	outputs := *s.tmpl.FindOutputs(jsii.String("*"), nil)
	if _, ok := outputs["UserPoolId"]; ok {
		t.Error("UserPoolId output without a pool")
	}
}

// The api function verifies the stack's pool's access tokens: its issuer
// and the pages' client; Zoom sends customers back to the front door.
func TestAPIAuthEnvironment(t *testing.T) {
	s := synthStack(t, dev)
	env := s.apiEnv(t)
	want := map[string]string{
		"COGNITO_ISSUER":    `{"Fn::GetAtt":["` + s.logicalID(t, s.stack.SignIn.Pool) + `","ProviderURL"]}`,
		"COGNITO_CLIENT_ID": `{"Ref":"` + s.logicalID(t, s.stack.SignIn.Client) + `"}`,
		"ZOOM_REDIRECT_URL": `{"Fn::Join":["",["https://",{"Fn::GetAtt":["` + s.logicalID(t, s.stack.FrontDoor.Distribution) + `","DomainName"]},"/"]]}`,
	}
	for k, w := range want {
		if got := jsonString(t, env[k]); got != w {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
	for _, k := range []string{"JWT_ISSUER", "JWKS_URL", "JWT_AUDIENCE"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is set with the stack's user pool", k)
		}
	}
}

// Without the front door (the LocalStack stage) nothing of CloudFront, S3
// or Cognito is declared; the API trusts the stage's issuer and Zoom sends
// customers back to the stage's domain.
func TestNoFrontDoor(t *testing.T) {
	s := synthStack(t, noFrontDoor)
	for id, r := range s.resources {
		typ, _ := r["Type"].(string)
		for _, prefix := range []string{"AWS::CloudFront::", "AWS::S3::", "AWS::Cognito::", "Custom::CDKBucketDeployment"} {
			if strings.HasPrefix(typ, prefix) {
				t.Errorf("%s: %s without the front door", id, typ)
			}
		}
	}
	env := s.apiEnv(t)
	if env["ZOOM_REDIRECT_URL"] != "https://localhost/" || env["JWT_ISSUER"] != "http://localhost:8080/local" ||
		env["JWKS_URL"] != "http://host.docker.internal:8080/local/jwks.json" || env["JWT_AUDIENCE"] != "number-release" {
		t.Errorf("api environment %v", env)
	}
}

// CloudFormation refuses a template whose resources depend on each other
// in a circle (the api function names the distribution, which reaches the
// API: through its id only, never its stage). Checked on every variant.
func TestNoDependencyCycle(t *testing.T) {
	for _, cfg := range []Config{dev, prod, customDomain, externalIssuer, withOperator, noFrontDoor} {
		t.Run(cfg.Stage+cfg.DomainName+cfg.Identity.Issuer+cfg.OperatorEmail, func(t *testing.T) {
			s := synthStack(t, cfg)
			deps := map[string][]string{}
			for id, r := range s.resources {
				deps[id] = references(s.resources, r["Properties"], nil)
				deps[id] = append(deps[id], stringsOf(r["DependsOn"])...)
			}
			const (
				visiting = 1
				done     = 2
			)
			state := map[string]int{}
			var visit func(id string, path []string)
			visit = func(id string, path []string) {
				state[id] = visiting
				for _, d := range deps[id] {
					switch state[d] {
					case visiting:
						t.Fatalf("dependency cycle: %s", strings.Join(append(path, d), " -> "))
					case 0:
						visit(d, append(path, d))
					}
				}
				state[id] = done
			}
			for _, id := range slices.Sorted(maps.Keys(deps)) {
				if state[id] == 0 {
					visit(id, []string{id})
				}
			}
		})
	}
}

// subRef finds the resources an Fn::Sub string names.
var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)[.}]`)

// references lists the resources v refers to (Ref, Fn::GetAtt, Fn::Sub).
func references(resources map[string]map[string]any, v any, acc []string) []string {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && resources[ref] != nil {
			acc = append(acc, ref)
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok {
			if id, _ := att[0].(string); resources[id] != nil {
				acc = append(acc, id)
			}
		}
		if sub, ok := v["Fn::Sub"].(string); ok {
			for _, m := range subRef.FindAllStringSubmatch(sub, -1) {
				if resources[m[1]] != nil {
					acc = append(acc, m[1])
				}
			}
		}
		for _, e := range v {
			acc = references(resources, e, acc)
		}
	case []any:
		for _, e := range v {
			acc = references(resources, e, acc)
		}
	}
	return acc
}

// TestAPIPathsCoverEveryRoute: a route of the OpenAPI document that no
// behaviour sends to the API would reach the pages' bucket instead.
func TestAPIPathsCoverEveryRoute(t *testing.T) {
	for _, r := range specRoutes {
		covered := false
		for _, p := range APIPaths {
			if prefix, wild := strings.CutSuffix(p, "*"); (wild && strings.HasPrefix(r.path, prefix)) || r.path == p {
				covered = true
			}
		}
		if !covered {
			t.Errorf("%s %s matches no behaviour of %v", r.method, r.path, APIPaths)
		}
	}
}
