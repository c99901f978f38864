package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/lambdabuild"
	"numberrelease/shared/config"
	"numberrelease/shared/userpool"
	"numberrelease/web"
)

// DefaultWebDir holds the pages the front door serves, relative to the
// repository root.
const DefaultWebDir = "web/static"

// webPages are the files the front door must find in the web directory:
// the customer app and the portal (checkWebDir).
var webPages = []string{"index.html", "portal.html"}

// localOnlyFiles are the web directory's files that are never deployed:
// the Zoom simulator's page and script, which exist only locally.
var localOnlyFiles = []string{"zoom.html", "zoom.js"}

// pagesPrefix is where the pages live in the bucket, as under the
// distribution (web.AssetPrefix: /web/<file>); configFile, the pages'
// configuration there (web.ConfigPath), is generated (pagesConfig).
var (
	pagesPrefix = strings.TrimPrefix(web.AssetPrefix, "/")
	configFile  = path.Base(web.ConfigPath)
)

// APIPaths are the distribution's behaviours sent to the REST API, in
// CloudFront's path pattern syntax: every deployed route of the OpenAPI
// document falls under one (TestAPIPathsCoverEveryRoute).
var APIPaths = []string{"/v1/*", "/provider/v1/*", "/admin/v1/*", "/zoom/webhook"}

// pagePathsCode is the CloudFront Function (viewer request) of the default
// behaviour: the customer app at "/", the portal at "/portal" (both keep
// their query, where Cognito's and Zoom's ?code&state arrive); any other
// path outside /web/ and the API is not the service's, and gets 404 rather
// than S3's access-denied answer.
const pagePathsCode = `function handler(event) {
  var request = event.request;
  if (request.uri === '/') {
    request.uri = '/web/index.html';
    return request;
  }
  if (request.uri === '/portal') {
    request.uri = '/web/portal.html';
    return request;
  }
  return { statusCode: 404, statusDescription: 'Not Found' };
}
`

// hstsSeconds is two years, what HSTS preload lists ask for.
const hstsSeconds = 2 * 365 * 24 * 60 * 60

// FrontDoor serves the pages and the API on one origin: a CloudFront
// distribution in front of a private S3 bucket (the pages, through origin
// access control) and the REST API (caching off). Without the front door
// (config.StageConfig.FrontDoor false) only AppURL and PortalURL are set.
type FrontDoor struct {
	// Pages holds the pages under web/.
	Pages awss3.Bucket
	// AccessLogs receives the distribution's and the pages bucket's access
	// logs.
	AccessLogs   awss3.Bucket
	Distribution awscloudfront.Distribution
	// PagePaths maps / and /portal to their pages (pagePathsCode).
	PagePaths awscloudfront.Function
	// Headers are the security headers of every answer.
	Headers awscloudfront.ResponseHeadersPolicy
	// Deployment copies the pages and config.json into Pages on every
	// deploy; DeploymentRole is its function's role.
	Deployment     awss3deployment.BucketDeployment
	DeploymentRole awsiam.Role
	// AppURL is the customer app, https://<domain>/, PortalURL the portal,
	// https://<domain>/portal.
	AppURL, PortalURL *string
}

// cognitoBaseURL is the stack's Cognito domain (newSignIn's prefix),
// written out rather than read from the domain resource: the pool's
// invitation names the distribution, so the distribution's headers must
// not depend on the pool.
func cognitoBaseURL(cfg Config) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), cognitoDomainPrefix(cfg), jsii.String(".auth."), awscdk.Aws_REGION(), jsii.String(".amazoncognito.com"),
	})
}

// cognitoDomainPrefix is numberrelease-<stage>-<account>.
func cognitoDomainPrefix(cfg Config) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("numberrelease-" + cfg.Stage + "-"), awscdk.Aws_ACCOUNT_ID()})
}

// contentSecurityPolicy is the pages' policy: their own scripts, styles
// and API calls, the sign-in's token endpoint (connect), and nothing
// inline, framed or posted elsewhere.
func contentSecurityPolicy(cfg Config) *string {
	parts := []*string{jsii.String("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'")}
	if cfg.Identity.External() {
		for _, o := range cfg.Identity.ConnectOrigins() {
			parts = append(parts, jsii.String(" "+o))
		}
	} else {
		parts = append(parts, jsii.String(" "), cognitoBaseURL(cfg))
	}
	parts = append(parts, jsii.String("; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"))
	return awscdk.Fn_Join(jsii.String(""), &parts)
}

// newFrontDoor declares the front door for api, or only its URLs when the
// stage has none.
func newFrontDoor(st awscdk.Stack, cfg Config, api awsapigateway.RestApi) FrontDoor {
	if !cfg.FrontDoor {
		return FrontDoor{AppURL: jsii.String("https://" + cfg.DomainName + "/"), PortalURL: jsii.String("https://" + cfg.DomainName + "/portal")}
	}
	fd := FrontDoor{}
	// Access logs are kept in every stage: they are the record of who
	// fetched what, and a bucket with objects cannot be deleted by
	// CloudFormation anyway. CloudFront's standard logging writes with
	// ACLs, so the bucket allows them (BUCKET_OWNER_PREFERRED); the
	// objects expire with the stage's log retention.
	fd.AccessLogs = awss3.NewBucket(st, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		Versioned:         jsii.Bool(false),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(float64(cfg.LogRetentionDays))),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// The pages: private, read only by this distribution (origin access
	// control), not versioned (every deploy writes them again from the
	// repository), kept in production like the stack's other data.
	fd.Pages = awss3.NewBucket(st, jsii.String("Pages"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(false),
		ServerAccessLogsBucket: fd.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("s3-pages/"),
		RemovalPolicy:          removalPolicy(cfg),
	})
	fd.PagePaths = awscloudfront.NewFunction(st, jsii.String("PagePaths"), &awscloudfront.FunctionProps{
		Comment: jsii.String("Number Release (" + cfg.Stage + "): / and /portal to their pages"),
		Code:    awscloudfront.FunctionCode_FromInline(jsii.String(pagePathsCode)),
		Runtime: awscloudfront.FunctionRuntime_JS_2_0(),
	})
	override := jsii.Bool(true)
	fd.Headers = awscloudfront.NewResponseHeadersPolicy(st, jsii.String("SecurityHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String("Number Release (" + cfg.Stage + "): security headers of every answer"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{
				ContentSecurityPolicy: contentSecurityPolicy(cfg), Override: override,
			},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Seconds(jsii.Number(hstsSeconds)),
				IncludeSubdomains:   jsii.Bool(true), Preload: jsii.Bool(true), Override: override,
			},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: override},
			FrameOptions:       &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: override},
			// same-origin: the pages' addresses carry ?code&state on the
			// way back from Cognito and Zoom, which no other site may see.
			ReferrerPolicy: &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_SAME_ORIGIN, Override: override},
		},
	})
	pages := awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(fd.Pages, &awscloudfrontorigins.S3BucketOriginWithOACProps{
		OriginAccessLevels: &[]awscloudfront.AccessLevel{awscloudfront.AccessLevel_READ},
	})
	// The REST API's own regional endpoint and stage. Named from the API's
	// id only (not api.Url(), which is the deployment stage's): the api
	// function's environment names the distribution, and the stage
	// depends on the function through its methods.
	apiOrigin := awscloudfrontorigins.NewHttpOrigin(
		awscdk.Fn_Join(jsii.String(""), &[]*string{api.RestApiId(), jsii.String(".execute-api."), awscdk.Aws_REGION(), jsii.String("."), awscdk.Aws_URL_SUFFIX()}),
		&awscloudfrontorigins.HttpOriginProps{
			OriginPath:         jsii.String("/" + cfg.Stage),
			ProtocolPolicy:     awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
			OriginSslProtocols: &[]awscloudfront.OriginSslPolicy{awscloudfront.OriginSslPolicy_TLS_V1_2},
		})
	// The API: every method, nothing cached, every viewer header (the
	// Authorization header, Idempotency-Key, Zoom's signature headers),
	// query string and cookie forwarded except Host, which API Gateway
	// needs to be its own. HTTPS only: a redirect would not carry a POST's
	// body, and the token was already sent by then.
	apiBehavior := &awscloudfront.BehaviorOptions{
		Origin:                apiOrigin,
		AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_ALL(),
		CachePolicy:           awscloudfront.CachePolicy_CACHING_DISABLED(),
		OriginRequestPolicy:   awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
		ResponseHeadersPolicy: fd.Headers,
		ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
		Compress:              jsii.Bool(true),
	}
	behaviors := map[string]*awscloudfront.BehaviorOptions{
		"/" + pagesPrefix + "*": {
			Origin:                pages,
			AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_GET_HEAD(),
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: fd.Headers,
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			Compress:              jsii.Bool(true),
		},
	}
	for _, p := range APIPaths {
		behaviors[p] = apiBehavior
	}
	props := &awscloudfront.DistributionProps{
		Comment: jsii.String("Number Release (" + cfg.Stage + "): pages and API"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                pages,
			AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_GET_HEAD(),
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: fd.Headers,
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			Compress:              jsii.Bool(true),
			FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
				Function: fd.PagePaths, EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
			}},
		},
		AdditionalBehaviors: &behaviors,
		// North America and Europe's edge locations: the cheapest class;
		// viewers elsewhere are served from the nearest of them.
		PriceClass:    awscloudfront.PriceClass_PRICE_CLASS_100,
		HttpVersion:   awscloudfront.HttpVersion_HTTP2_AND_3,
		EnableIpv6:    jsii.Bool(true),
		EnableLogging: jsii.Bool(true),
		LogBucket:     fd.AccessLogs,
		LogFilePrefix: jsii.String("cloudfront/"),
	}
	if cfg.DomainName != "" {
		props.DomainNames = jsii.Strings(cfg.DomainName)
		props.Certificate = awscertificatemanager.Certificate_FromCertificateArn(st, jsii.String("Certificate"), jsii.String(cfg.CertificateARN))
		props.MinimumProtocolVersion = awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021
		props.SslSupportMethod = awscloudfront.SSLMethod_SNI
	}
	fd.Distribution = awscloudfront.NewDistribution(st, jsii.String("Distribution"), props)
	host := fd.Distribution.DistributionDomainName()
	if cfg.DomainName != "" {
		host = jsii.String(cfg.DomainName)
	}
	fd.AppURL = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), host, jsii.String("/")})
	fd.PortalURL = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), host, jsii.String("/portal")})
	return fd
}

// pagesConfig is /web/config.json: how the pages sign in (web.Config, the
// type the local server serves too): the stack's Cognito domain and app
// client, or the stage's external issuer. Deploy-time values (the client
// id, the region and account in the domain) are tokens, which the
// deployment writes in.
func pagesConfig(cfg Config, signIn SignIn) (map[string]any, error) {
	auth := web.AuthConfig{Scope: strings.Join(userpool.Scopes, " ")}
	if id := cfg.Identity; id.External() {
		auth.AuthorizeURL, auth.TokenURL, auth.RevokeURL, auth.LogoutURL = id.AuthorizeURL, id.TokenURL, id.RevokeURL, id.LogoutURL
		auth.ClientID, auth.Bearer = id.ClientID, id.Bearer
	} else {
		base := cognitoBaseURL(cfg)
		url := func(path string) string {
			return *awscdk.Fn_Join(jsii.String(""), &[]*string{base, jsii.String(path)})
		}
		auth.AuthorizeURL, auth.TokenURL, auth.RevokeURL, auth.LogoutURL =
			url("/oauth2/authorize"), url("/oauth2/token"), url("/oauth2/revoke"), url("/logout")
		auth.ClientID, auth.Bearer = *signIn.Client.UserPoolClientId(), config.BearerAccessToken
	}
	raw, err := json.Marshal(web.Config{Auth: auth})
	if err != nil {
		return nil, fmt.Errorf("pages configuration: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("pages configuration: %w", err)
	}
	return doc, nil
}

// deployPages copies the web directory (without localOnlyFiles) and the
// generated config.json to web/ in the pages bucket on every deploy,
// deleting what the directory no longer has. Pages are sent with
// Cache-Control: no-cache, so browsers and CloudFront revalidate them
// (cheaply, by ETag) and a deploy shows at once without an invalidation
// (which would need cloudfront:CreateInvalidation on every distribution).
// The copying function gets its own role (no AWS managed policy) and log
// group.
func (fd *FrontDoor) deployPages(st awscdk.Stack, cfg Config, signIn SignIn) error {
	if fd.Pages == nil {
		return nil
	}
	dir, err := cfg.webDir()
	if err != nil {
		return err
	}
	pagesCfg, err := pagesConfig(cfg, signIn)
	if err != nil {
		return err
	}
	logs := newLogGroup(st, "PagesDeploymentLogs", nil, cfg)
	fd.DeploymentRole = awsiam.NewRole(st, jsii.String("PagesDeploymentRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Number Release (" + cfg.Stage + "): copies the pages into their bucket on deploy"),
	})
	logs.GrantWrite(fd.DeploymentRole)
	fd.Deployment = awss3deployment.NewBucketDeployment(st, jsii.String("PagesDeployment"), &awss3deployment.BucketDeploymentProps{
		Sources: &[]awss3deployment.ISource{
			awss3deployment.Source_Asset(jsii.String(dir), &awss3assets.AssetOptions{Exclude: jsii.Strings(localOnlyFiles...)}),
			awss3deployment.Source_JsonData(jsii.String(configFile), pagesCfg, nil),
		},
		DestinationBucket:    fd.Pages,
		DestinationKeyPrefix: jsii.String(pagesPrefix),
		Prune:                jsii.Bool(true),
		// Outside production the bucket goes with the stack, so its
		// objects must go first.
		RetainOnDelete: jsii.Bool(cfg.Production),
		CacheControl:   &[]awss3deployment.CacheControl{awss3deployment.CacheControl_NoCache()},
		Role:           fd.DeploymentRole,
		LogGroup:       logs,
		MemoryLimit:    jsii.Number(256),
	})
	return nil
}

// webDir is the directory of the pages: WebDir, or DefaultWebDir in the
// repository.
func (c Config) webDir() (string, error) {
	if c.WebDir != "" {
		return c.WebDir, nil
	}
	root, err := lambdabuild.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, DefaultWebDir), nil
}

// checkWebDir names every page missing from the web directory, when the
// stage has a front door to serve them.
func (c Config) checkWebDir() error {
	if !c.FrontDoor {
		return nil
	}
	dir, err := c.webDir()
	if err != nil {
		return fmt.Errorf("the pages: %w", err)
	}
	var missing []string
	for _, name := range webPages {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the front door's pages are missing: %s (webDir, default %s in the repository)", strings.Join(missing, ", "), DefaultWebDir)
	}
	return nil
}
