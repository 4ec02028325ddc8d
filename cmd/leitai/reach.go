package main

// Whether phones in the hall can open the links the server prints and the
// QR code shows, and what to start the server with when they cannot.

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// The problems of a public URL (static.Config.PublicURLProblem); the pages
// name them in their own language.
const (
	reachLoopback    = "loopback"    // 127.x, ::1, localhost: this machine only
	reachLinkLocal   = "link-local"  // 169.254.x, fe80::: given when no network gave an address
	reachUnspecified = "unspecified" // 0.0.0.0, ::
	reachListen      = "listen"      // the server listens on a loopback address only
)

// publicReach is the public URL the server uses, and why phones cannot
// open it (Problem, "" when they probably can) with the start option that
// fixes it (Fix, "" when none is known).
type publicReach struct {
	URL     string
	Problem string
	Fix     string
}

// choosePublicURL decides the public URL: the configured one, else the
// address the server listens on when that is a particular one, else the
// best address of this machine's interfaces (addrs) for phones on the same
// network. It says when phones cannot open the result.
func choosePublicURL(configured, listen string, addrs []netip.Addr) publicReach {
	host, port, _ := net.SplitHostPort(listen)
	fix := func() string {
		if best, ok := bestAddr(addrs, true); ok {
			return "--public-url http://" + net.JoinHostPort(best.String(), port)
		}
		return ""
	}
	if configured != "" {
		r := publicReach{URL: configured, Problem: reachProblem(configured)}
		if r.Problem != "" {
			r.Fix = fix()
		}
		return r
	}
	if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
		r := publicReach{URL: "http://" + net.JoinHostPort(ip.String(), port)}
		if ip.IsLoopback() {
			r.Problem, r.Fix = reachListen, "--addr :"+port
		} else {
			r.Problem = reachProblem(r.URL)
		}
		return r
	}
	if best, ok := bestAddr(addrs, false); ok {
		return publicReach{URL: "http://" + net.JoinHostPort(best.String(), port)}
	}
	return publicReach{URL: "http://" + net.JoinHostPort("127.0.0.1", port), Problem: reachLoopback, Fix: fix()}
}

// reachProblem says why phones cannot open a URL, from its host alone: ""
// for names and addresses that may well work.
func reachProblem(public string) string {
	u, err := url.Parse(public)
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return reachLoopback
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return reachLoopback
	case ip.IsUnspecified():
		return reachUnspecified
	case ip.IsLinkLocalUnicast():
		return reachLinkLocal
	}
	return ""
}

// Address ranges that are never a hall's network, though they are not
// loopback: documentation (RFC 5737), benchmarking (RFC 2544) and shared
// carrier NAT (RFC 6598).
var notHallNetworks = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

// addrRank orders an address as the host of links for phones: 1 a private
// IPv4 address (the hall's Wi-Fi), 2 another global IPv4 address, 3 one
// that only might work (the ranges above, IPv6), 0 never (loopback,
// link-local, multicast).
func addrRank(ip netip.Addr) int {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid() || ip.IsLoopback() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsLinkLocalMulticast():
		return 0
	case ip.Is6():
		return 3
	case ip.IsPrivate():
		return 1
	}
	for _, p := range notHallNetworks {
		if p.Contains(ip) {
			return 3
		}
	}
	return 2
}

// bestAddr returns the best-ranked address; with maybe it takes those
// that only might work too.
func bestAddr(addrs []netip.Addr, maybe bool) (netip.Addr, bool) {
	var best netip.Addr
	bestRank := 0
	for _, a := range addrs {
		r := addrRank(a)
		if r == 0 || (r == 3 && !maybe) {
			continue
		}
		if bestRank == 0 || r < bestRank {
			best, bestRank = a.Unmap(), r
		}
	}
	return best, bestRank != 0
}

// interfaceAddrs lists the addresses of this machine's interfaces that
// are up, loopback ones left out.
func interfaceAddrs() []netip.Addr {
	var out []netip.Addr
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
					out = append(out, ip.Unmap())
				}
			}
		}
	}
	return out
}

// reachText says in English, for the start banner and the log, why phones
// cannot open url and how to fix it.
func reachText(r publicReach, listen string) (why, fix string) {
	host := r.URL
	if u, err := url.Parse(r.URL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	switch r.Problem {
	case reachLoopback:
		why = host + " is this machine's own (loopback) address"
	case reachLinkLocal:
		why = host + " is a link-local address, which phones on the hall's network usually cannot reach"
	case reachUnspecified:
		why = host + " is not an address a phone can open"
	case reachListen:
		why = "the server listens on " + listen + " only, which phones cannot reach"
	}
	if r.Fix != "" {
		fix = "restart with " + r.Fix + " (or --public-url with whichever address phones in the hall reach this machine at)"
	} else {
		fix = "connect this machine to the hall's Wi-Fi or LAN and restart, or restart with --public-url and the address phones reach it at"
	}
	return why, fix
}
