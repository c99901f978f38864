package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Resolver looks host names up (net.DefaultResolver; tests inject their
// own).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which endpoints are allowed. The zero value is production's:
// https to a public address on port 443 only. Local (the local system
// only, never on AWS) also allows http://localhost and http://127.0.0.1 on
// any port, and loopback addresses at delivery.
type Policy struct {
	Local    bool
	Resolver Resolver
	// Dial, when set, makes the connection to an address already checked
	// (an "ip:port"); nil dials it with a net.Dialer whose Control checks
	// the address once more. The local system sets it to keep every
	// delivery on this machine.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

func (p Policy) resolver() Resolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

// refused are the address ranges no delivery goes to: private, loopback,
// link-local (with the cloud metadata address 169.254.169.254),
// unique-local, shared (CGNAT), "this network", multicast, and the other
// special-purpose ranges that are not the public internet. IPv4-mapped
// IPv6 addresses are unmapped before the check, so ::ffff:10.0.0.1 is
// refused as 10.0.0.1.
var refused = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // shared address space (CGNAT)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, the metadata address
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"::/96",           // IPv4-compatible (deprecated)
		"64:ff9b::/96",    // NAT64: an IPv4 address in disguise
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments (Teredo, ORCHID, ...)
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4: an IPv4 address in disguise
		"fc00::/7",        // unique-local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// CheckAddr returns an error naming why ip is not a public address a
// delivery may go to; loopback is allowed in local mode.
func (p Policy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return errors.New("not an IP address")
	}
	if ip.Zone() != "" {
		return fmt.Errorf("%s has an IPv6 zone", ip)
	}
	if p.Local && ip.IsLoopback() {
		return nil
	}
	for _, pr := range refused {
		if pr.Contains(ip) {
			return fmt.Errorf("%s is not a public address (%s)", ip, rangeName(pr))
		}
	}
	return nil
}

func rangeName(pr netip.Prefix) string {
	switch pr.String() {
	case "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16":
		return "private " + pr.String()
	case "127.0.0.0/8", "::1/128":
		return "loopback " + pr.String()
	case "169.254.0.0/16", "fe80::/10":
		return "link-local " + pr.String()
	case "fc00::/7":
		return "unique-local " + pr.String()
	case "100.64.0.0/10":
		return "shared CGNAT " + pr.String()
	case "224.0.0.0/4", "ff00::/8":
		return "multicast " + pr.String()
	}
	return "special-purpose " + pr.String()
}

// localHosts are the only hosts local mode adds, over http.
var localHosts = map[string]bool{"localhost": true, "127.0.0.1": true}

// CheckURL checks a webhook URL as given at registration and returns it
// normalized; the error says what is wrong. Production: https, no
// user:password, port 443 (given or implied), a host name or a public IP
// address; a host name must resolve, and only to public addresses. The
// addresses are checked again at every delivery (Dialer), since DNS may
// answer otherwise later.
func (p Policy) CheckURL(ctx context.Context, raw string) (string, error) {
	if len(raw) > 2048 {
		return "", errors.New("is longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("is not a URL")
	}
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return "", errors.New("must be an absolute URL such as https://hooks.example.com/number-release")
	}
	if u.User != nil {
		return "", errors.New("must not carry a user name or password (userinfo)")
	}
	if u.Fragment != "" {
		return "", errors.New("must not have a fragment (#...)")
	}
	host := strings.ToLower(u.Hostname())
	local := p.Local && localHosts[host]
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && local:
	case u.Scheme == "http" && p.Local:
		return "", errors.New("must use https (local mode allows http only to localhost and 127.0.0.1)")
	default:
		return "", fmt.Errorf("must use https, not %q", u.Scheme)
	}
	if port := u.Port(); !local && port != "" && port != "443" {
		return "", fmt.Errorf("must use port 443, not %s", port)
	}
	if local {
		return u.String(), nil
	}
	// Any other URL is held to production's rules, in local mode too: local
	// mode adds exactly the two loopback hosts above.
	strict := Policy{Resolver: p.Resolver}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "", errors.New("must not name localhost")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := strict.CheckAddr(ip); err != nil {
			return "", err
		}
		return u.String(), nil
	}
	if strings.Contains(host, "%") {
		return "", errors.New("has an invalid host")
	}
	if _, err := strict.resolve(ctx, host); err != nil {
		return "", err
	}
	return u.String(), nil
}

// resolve looks host up and returns its addresses if every one is allowed.
// A host with any refused address is refused as a whole: a name that
// answers with a private address among public ones is a rebinding attempt
// or a misconfiguration.
func (p Policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := p.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("host %s does not resolve", host)
	}
	for _, ip := range ips {
		if err := p.CheckAddr(ip); err != nil {
			return nil, fmt.Errorf("host %s resolves to %w", host, err)
		}
	}
	return ips, nil
}

// DialContext connects only to checked addresses: it resolves the host
// itself (with the policy's resolver), refuses the connection if any
// address is not allowed, and dials the checked IP, never the name, so the
// connection goes where the check looked. The dialer's Control checks the
// address once more right before connect. An http.Transport using it
// must have no proxy.
func (p Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("webhook dial %s: %w", addr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := p.CheckAddr(ip); err != nil {
			return nil, fmt.Errorf("webhook dial refused: %w", err)
		}
		ips = []netip.Addr{ip}
	} else if ips, err = p.resolve(ctx, host); err != nil {
		return nil, fmt.Errorf("webhook dial refused: %w", err)
	}
	dial := p.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 5 * time.Second, Control: p.control}).DialContext
	}
	var lastErr error
	for _, ip := range ips {
		conn, err := dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("webhook dial %s: %w", host, lastErr)
}

// control refuses a socket about to connect to an address not allowed.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook dial refused: %s: %w", address, err)
	}
	if err := p.CheckAddr(ap.Addr()); err != nil {
		return fmt.Errorf("webhook dial refused: %w", err)
	}
	return nil
}
