// Package web serves the project's web pages: the customer app at "/", the
// management portal (provider view) at "/portal" and the Zoom simulator's
// page at "/zoom-sim/" (local only), with their assets under "/web/". The
// pages are plain HTML, CSS and JavaScript modules embedded in the binary;
// they talk to the public API only (shared/apispec/openapi.yaml), the Zoom
// simulator's page to the simulator's own routes.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Page paths, as mounted by the local runner.
const (
	CustomerPath = "/"
	PortalPath   = "/portal"
	ZoomSimPath  = "/zoom-sim/"
	// AssetPrefix is where static assets are served: /web/app.css is
	// static/app.css.
	AssetPrefix = "/web/"
)

// pages maps a page path to its file in static/.
var pages = map[string]string{
	CustomerPath: "index.html",
	PortalPath:   "portal.html",
	ZoomSimPath:  "zoom.html",
}

// contentTypes are set explicitly so answers do not depend on the machine's
// mime.types.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
}

// contentSecurityPolicy allows the pages' own scripts, styles and API calls
// and nothing else (no inline script, no framing).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// ConfigPath is where the pages read their configuration (Config as JSON).
// On AWS the stack writes it next to the pages; locally Handler serves it.
const ConfigPath = AssetPrefix + "config.json"

// Config is what the pages need to know about their deployment.
type Config struct {
	Auth AuthConfig `json:"auth"`
}

// AuthConfig names the identity provider's OAuth endpoints and the pages'
// client: the pages sign in with the authorization code grant and PKCE.
type AuthConfig struct {
	AuthorizeURL string `json:"authorize_url"`
	TokenURL     string `json:"token_url"`
	RevokeURL    string `json:"revoke_url"`
	LogoutURL    string `json:"logout_url"`
	ClientID     string `json:"client_id"`
	Scope        string `json:"scope"`
	// Bearer names the token of the token response the pages send to the
	// API: "access_token" (Cognito) or "id_token".
	Bearer string `json:"bearer"`
}

// file is one embedded file, ready to serve.
type file struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

// Handler serves the pages and their assets for GET and HEAD, and cfg at
// ConfigPath. Anything else under its paths answers 404 (unknown file) or
// 405 (other method).
func Handler(cfg Config) http.Handler {
	files, err := load()
	if err != nil {
		// The files are embedded at build time; failing here is a build bug.
		panic(err)
	}
	body, err := json.Marshal(cfg)
	if err != nil {
		panic(fmt.Errorf("web: encode config: %w", err))
	}
	sum := sha256.Sum256(body)
	name := strings.TrimPrefix(ConfigPath, AssetPrefix)
	files[name] = &file{name: name, body: body, contentType: contentTypes[".json"], etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f *file
		if name, ok := pages[r.URL.Path]; ok {
			f = files[name]
		} else if rest, ok := strings.CutPrefix(r.URL.Path, AssetPrefix); ok && rest != "" && path.Clean("/"+rest) == "/"+rest {
			f = files[rest]
		}
		if f == nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if strings.HasSuffix(f.name, ".html") {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
		}
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
	})
}

// load reads every embedded file once.
func load() (map[string]*file, error) {
	root, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	files := map[string]*file{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			if ct = mime.TypeByExtension(path.Ext(name)); ct == "" {
				ct = "application/octet-stream"
			}
		}
		sum := sha256.Sum256(body)
		files[name] = &file{name: name, body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read embedded files: %w", err)
	}
	for p, name := range pages {
		if files[name] == nil {
			return nil, fmt.Errorf("web: page %s has no file %s", p, name)
		}
	}
	return files, nil
}
