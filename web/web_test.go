package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPages(t *testing.T) {
	h := Handler(Config{})
	for _, tc := range []struct {
		path, want string
	}{
		{"/", "<title>Number Release — Customer app</title>"},
		{"/portal", "<title>Number Release — Management portal</title>"},
		{"/zoom-sim/", "<title>Zoom Phone numbers — simulator</title>"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := get(t, h, http.MethodGet, tc.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if got := body(t, res); !strings.Contains(got, tc.want) {
				t.Errorf("body does not contain %q", tc.want)
			}
		})
	}
}

func TestAssets(t *testing.T) {
	h := Handler(Config{})
	for path, want := range map[string]string{
		"/web/app.css":         "text/css; charset=utf-8",
		"/web/lib.js":          "text/javascript; charset=utf-8",
		"/web/signin.js":       "text/javascript; charset=utf-8",
		"/web/customer.js":     "text/javascript; charset=utf-8",
		"/web/portal.js":       "text/javascript; charset=utf-8",
		"/web/zoom.js":         "text/javascript; charset=utf-8",
		"/web/favicon.svg":     "image/svg+xml",
		"/web/index.html":      "text/html; charset=utf-8",
		"/web/portal.html":     "text/html; charset=utf-8",
		"/web/zoom.html":       "text/html; charset=utf-8",
		"/web/customer.js?v=1": "text/javascript; charset=utf-8",
	} {
		res := get(t, h, http.MethodGet, path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", path, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); ct != want {
			t.Errorf("%s: Content-Type %q, want %q", path, ct, want)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
		if body(t, res) == "" {
			t.Errorf("%s: empty body", path)
		}
	}
}

func TestUnknownAndOtherPathsAre404(t *testing.T) {
	h := Handler(Config{})
	for _, path := range []string{
		"/web/", "/web/nope.js", "/web/static/app.css", "/web/../web.go", "/web/./app.css",
		"/web//app.css", "/portal/", "/index.html", "/zoom-sim/v2/number_management/numbers", "/v1/numbers",
	} {
		if res := get(t, h, http.MethodGet, path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.StatusCode)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := Handler(Config{})
	res := get(t, h, http.MethodHead, "/web/app.css", nil)
	if res.StatusCode != http.StatusOK || body(t, res) != "" {
		t.Fatalf("HEAD: status %d", res.StatusCode)
	}
	res = get(t, h, http.MethodPost, "/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: status %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestETagRevalidation(t *testing.T) {
	h := Handler(Config{})
	res := get(t, h, http.MethodGet, "/web/app.css", nil)
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, res.Header.Get("Cache-Control"))
	}
	res = get(t, h, http.MethodGet, "/web/app.css", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: status %d, want 304", res.StatusCode)
	}
}

// The pages load only their own scripts and styles (no CDN; the machine has
// no internet) as ES modules.
func TestPagesUseOnlyLocalAssets(t *testing.T) {
	h := Handler(Config{})
	for _, path := range []string{"/", "/portal", "/zoom-sim/"} {
		page := body(t, get(t, h, http.MethodGet, path, nil))
		if strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, "//cdn") {
			t.Errorf("%s references an external URL", path)
		}
		if !strings.Contains(page, `<script type="module" src="/web/`) {
			t.Errorf("%s has no module script under /web/", path)
		}
	}
}

// Every element a page's script looks up by a literal id ($('...')) is on
// the page, and the page runs no inline script (the CSP would block it).
func TestScriptsFindTheirElements(t *testing.T) {
	h := Handler(Config{})
	lookup := regexp.MustCompile(`\$\('([A-Za-z0-9_-]+)'\)`)
	for _, tc := range []struct{ page, script string }{
		{"/", "/web/customer.js"},
		{"/portal", "/web/portal.js"},
		{"/zoom-sim/", "/web/zoom.js"},
	} {
		t.Run(tc.page, func(t *testing.T) {
			page := body(t, get(t, h, http.MethodGet, tc.page, nil))
			script := body(t, get(t, h, http.MethodGet, tc.script, nil))
			ids := lookup.FindAllStringSubmatch(script, -1)
			if len(ids) == 0 {
				t.Fatalf("%s looks up no element by id", tc.script)
			}
			for _, m := range ids {
				if !strings.Contains(page, `id="`+m[1]+`"`) {
					t.Errorf("%s looks up #%s, which %s does not have", tc.script, m[1], tc.page)
				}
			}
			for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
				if !strings.Contains(tag, ` src="/web/`) {
					t.Errorf("%s has an inline script: %s", tc.page, tag)
				}
			}
		})
	}
}

// The customer app's Settings section: a tab with its panel, the Zoom
// connection's status region, and the Connect and Disconnect buttons.
func TestCustomerAppHasZoomSettings(t *testing.T) {
	page := body(t, get(t, Handler(Config{}), http.MethodGet, "/", nil))
	for _, want := range []string{
		`role="tab" id="tab-settings" aria-controls="panel-settings"`,
		`<section id="panel-settings" role="tabpanel" aria-labelledby="tab-settings"`,
		`<div id="zoom-result" class="notice" role="status"`,
		`<div id="zoom-state" class="zoom-state" aria-live="polite">`,
		`<button type="button" class="btn primary" id="zoom-connect" hidden>Connect Zoom</button>`,
		`id="zoom-disconnect" aria-haspopup="dialog" hidden>Disconnect</button>`,
		`<dialog id="disconnect-dialog"`,
		`<div id="zoom-banner" class="notice warn banner" role="status"></div>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the customer app has no %s", want)
		}
	}
}

func TestConfigIsServed(t *testing.T) {
	cfg := Config{Auth: AuthConfig{AuthorizeURL: "https://auth.example/oauth2/authorize", TokenURL: "https://auth.example/oauth2/token",
		ClientID: "web", Scope: "openid email", Bearer: "access_token"}}
	res := get(t, Handler(cfg), http.MethodGet, ConfigPath, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %q", ConfigPath, res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got Config
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got != cfg {
		t.Fatalf("config = %+v, want %+v", got, cfg)
	}
}
