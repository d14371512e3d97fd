// This file holds the DNS check (the guide's Test 1): the HSM's name must resolve to its private endpoint.
package verify

import (
	"context"
	"slices"
	"strings"
)

// Resolver looks host names up; *net.Resolver is one. The check is only meaningful with the resolver of a host
// inside the VNet, or a peered network using its DNS, where the private zone answers.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// CheckDNS passes when fqdn resolves to wantIP, the private endpoint's address. An answer without it usually
// means the lookup ran outside the VNet and got the public address.
func CheckDNS(ctx context.Context, r Resolver, fqdn, wantIP string) Result {
	const guide = "Test 1"
	check := "dns " + fqdn
	if fqdn == "" || wantIP == "" {
		return failed(check, guide, "the stack outputs name no HSM host or private endpoint IP")
	}
	addrs, err := r.LookupHost(ctx, fqdn)
	if err != nil {
		return failed(check, guide, "looking up %s: %v; run this inside the VNet or a peered network that uses "+
			"its DNS", fqdn, err)
	}
	if slices.Contains(addrs, wantIP) {
		return passed(check, guide, "resolves to %s, the private endpoint", strings.Join(addrs, ", "))
	}
	return failed(check, guide, "resolves to %s, not the private endpoint %s: this resolver does not see the "+
		"private zone (run inside the VNet or a peered network that uses its DNS) or the A record is wrong",
		strings.Join(addrs, ", "), wantIP)
}
