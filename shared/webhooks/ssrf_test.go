package webhooks

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// mapResolver answers from a table; other names do not resolve.
type mapResolver map[string][]string

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := m[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

var testResolver = mapResolver{
	"hooks.example.com":   {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
	"rebind.example.com":  {"127.0.0.1"},
	"mixed.example.com":   {"93.184.216.34", "10.0.0.5"},
	"meta.example.com":    {"169.254.169.254"},
	"v6local.example.com": {"::1"},
	"mapped.example.com":  {"::ffff:192.168.1.1"},
}

func TestCheckURL(t *testing.T) {
	prod := Policy{Resolver: testResolver}
	local := Policy{Local: true, Resolver: testResolver}
	tests := []struct {
		name   string
		policy Policy
		url    string
		want   string // "" means allowed; else a part of the error
	}{
		{"public host", prod, "https://hooks.example.com/number-release", ""},
		{"public IPv4", prod, "https://93.184.216.34/hook", ""},
		{"public IPv6", prod, "https://[2606:4700:4700::1111]/hook", ""},
		{"explicit 443", prod, "https://hooks.example.com:443/hook", ""},
		{"http", prod, "http://hooks.example.com/hook", `must use https, not "http"`},
		{"ftp", prod, "ftp://hooks.example.com/hook", "must use https"},
		{"relative", prod, "/hook", "absolute URL"},
		{"userinfo", prod, "https://user:pw@hooks.example.com/hook", "userinfo"},
		{"user only", prod, "https://user@hooks.example.com/hook", "userinfo"},
		{"other port", prod, "https://hooks.example.com:8443/hook", "port 443, not 8443"},
		{"fragment", prod, "https://hooks.example.com/hook#x", "fragment"},
		{"private 10/8", prod, "https://10.1.2.3/hook", "private 10.0.0.0/8"},
		{"private 172.16/12", prod, "https://172.31.255.1/hook", "private 172.16.0.0/12"},
		{"private 192.168/16", prod, "https://192.168.0.10/hook", "private 192.168.0.0/16"},
		{"loopback", prod, "https://127.0.0.1/hook", "loopback 127.0.0.0/8"},
		{"loopback 127/8", prod, "https://127.9.9.9/hook", "loopback"},
		{"IPv6 loopback", prod, "https://[::1]/hook", "loopback ::1/128"},
		{"metadata", prod, "https://169.254.169.254/latest/meta-data/", "link-local 169.254.0.0/16"},
		{"IPv6 link-local", prod, "https://[fe80::1]/hook", "link-local fe80::/10"},
		{"unique-local", prod, "https://[fd12:3456::1]/hook", "unique-local fc00::/7"},
		{"CGNAT", prod, "https://100.64.0.1/hook", "CGNAT 100.64.0.0/10"},
		{"this network", prod, "https://0.0.0.0/hook", "0.0.0.0/8"},
		{"multicast", prod, "https://224.0.0.1/hook", "multicast"},
		{"IPv6 multicast", prod, "https://[ff02::1]/hook", "multicast"},
		{"mapped private", prod, "https://[::ffff:10.0.0.1]/hook", "10.0.0.1 is not a public address"},
		{"mapped loopback", prod, "https://[::ffff:127.0.0.1]/hook", "127.0.0.1 is not a public address"},
		{"mapped metadata", prod, "https://[::ffff:169.254.169.254]/hook", "link-local"},
		{"localhost", prod, "https://localhost/hook", "localhost"},
		{"sub.localhost", prod, "https://a.localhost/hook", "localhost"},
		{"name resolving to loopback", prod, "https://rebind.example.com/hook", "resolves to 127.0.0.1 is not a public address"},
		{"name resolving to metadata", prod, "https://meta.example.com/hook", "resolves to 169.254.169.254"},
		{"name resolving to ::1", prod, "https://v6local.example.com/hook", "resolves to ::1"},
		{"name resolving to mapped private", prod, "https://mapped.example.com/hook", "resolves to 192.168.1.1"},
		{"one private address among public", prod, "https://mixed.example.com/hook", "resolves to 10.0.0.5"},
		{"unresolvable", prod, "https://nowhere.example.com/hook", "does not resolve"},
		{"local: http localhost", local, "http://localhost:8080/hook", ""},
		{"local: http 127.0.0.1", local, "http://127.0.0.1:39999/hook", ""},
		{"local: http elsewhere", local, "http://hooks.example.com/hook", "local mode allows http only to localhost and 127.0.0.1"},
		{"local: private still refused", local, "https://10.0.0.1/hook", "private"},
		{"local: https IPv6 loopback refused", local, "https://[::1]/hook", "loopback"},
		{"local: name resolving to loopback refused", local, "https://rebind.example.com/hook", "resolves to 127.0.0.1"},
		{"local: userinfo still refused", local, "http://u:p@localhost:8080/hook", "userinfo"},
		{"production: http localhost", prod, "http://localhost:8080/hook", "must use https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.policy.CheckURL(context.Background(), tt.url)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckURL(%s) = %v; want allowed", tt.url, err)
			case tt.want != "" && err == nil:
				t.Fatalf("CheckURL(%s) allowed; want %q", tt.url, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("CheckURL(%s) = %v; want %q", tt.url, err, tt.want)
			}
		})
	}
}

// At delivery the dialer resolves the name itself and connects only to a
// checked address: a name that resolves to 127.0.0.1 (DNS rebinding after
// registration) is refused outside local mode, and the receiver never sees
// the request; local mode reaches it through the same resolved address.
func TestDeliveryDialsOnlyCheckedAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	target := "http://rebind.example.com:" + port + "/hook"
	key := []byte("k")

	tests := []struct {
		name     string
		policy   Policy
		url      string
		wantCode int
		wantErr  string
	}{
		{"production: name resolving to loopback", Policy{Resolver: testResolver}, target, 0, "127.0.0.1 is not a public address"},
		{"production: loopback literal", Policy{Resolver: testResolver}, srv.URL, 0, "loopback"},
		{"production: IPv6 loopback literal", Policy{Resolver: testResolver}, "http://[::1]:" + port + "/", 0, "loopback ::1/128"},
		{"production: metadata name", Policy{Resolver: testResolver}, "http://meta.example.com:" + port + "/", 0, "169.254.169.254"},
		{"local: name resolving to loopback", Policy{Local: true, Resolver: testResolver}, target, http.StatusNoContent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			res := NewSender(tt.policy).Send(context.Background(), tt.url, key, "msg_1", []byte(`{}`))
			if res.StatusCode != tt.wantCode || (tt.wantErr != "" && !strings.Contains(res.Error, tt.wantErr)) {
				t.Fatalf("Send = %+v; want status %d, error %q", res, tt.wantCode, tt.wantErr)
			}
			if got := hits.Load() - before; (tt.wantCode != 0) != (got == 1) {
				t.Fatalf("receiver saw %d requests", got)
			}
		})
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()
	res := NewSender(Policy{Local: true}).Send(context.Background(), srv.URL, []byte("k"), "msg_1", []byte(`{}`))
	if res.StatusCode != http.StatusFound || res.OK() || !strings.Contains(res.Error, "redirects are not followed") || hits.Load() != 1 {
		t.Fatalf("Send = %+v after %d requests; want the 302 as a failure", res, hits.Load())
	}
}

// An injected Dial gets only addresses already checked.
func TestPolicyDialGetsCheckedAddresses(t *testing.T) {
	var dialed []string
	p := Policy{Resolver: testResolver, Dial: func(_ context.Context, _, address string) (net.Conn, error) {
		dialed = append(dialed, address)
		return nil, errors.New("not dialing in this test")
	}}
	if _, err := p.DialContext(context.Background(), "tcp", "hooks.example.com:443"); err == nil {
		t.Fatal("dial succeeded")
	}
	if _, err := p.DialContext(context.Background(), "tcp", "rebind.example.com:443"); err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Fatalf("rebind: %v", err)
	}
	want := []string{"93.184.216.34:443", "[2606:2800:220:1:248:1893:25c8:1946]:443"}
	if strings.Join(dialed, " ") != strings.Join(want, " ") {
		t.Fatalf("dialed %v; want %v", dialed, want)
	}
}
