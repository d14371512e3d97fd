// This file holds the security-domain backup check (the guide's Test 6): the file is there, readable only by
// its owner, and the quorum of private keys really recovers it (securitydomain.Prove).
package verify

import (
	"fmt"
	"os"
	"strings"

	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// CheckSecurityDomain passes when path exists with mode 0600 exactly, parses as a security domain, and the
// private keys in keyFiles prove it (each opens its share, a quorum recovers every item, fewer do not). A key
// file may hold its certificate too.
func CheckSecurityDomain(path string, keyFiles []string) Result {
	const guide = "Test 6"
	check := "security domain " + path
	if path == "" {
		return failed(check, guide, "the stack outputs name no security domain file")
	}
	info, err := os.Stat(path)
	if err != nil {
		return failed(check, guide, "%v", err)
	}
	if mode := info.Mode(); !mode.IsRegular() || mode.Perm() != 0o600 {
		return failed(check, guide, "mode %s, want a regular file with mode 0600 (-rw-------)", mode)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return failed(check, guide, "%v", err)
	}
	domain, err := securitydomain.Parse(data)
	if err != nil {
		return failed(check, guide, "%v", err)
	}
	if len(keyFiles) == 0 {
		return failed(check, guide, "no private key files given: the quorum cannot be proven (--sd-key)")
	}
	pairs := make([]securitydomain.KeyPair, 0, len(keyFiles))
	for _, f := range keyFiles {
		kp, err := readKeyPair(f)
		if err != nil {
			return failed(check, guide, "%v", err)
		}
		pairs = append(pairs, kp)
	}
	proof, err := securitydomain.Prove(domain, pairs)
	if err != nil {
		return failed(check, guide, "%v", err)
	}
	return passed(check, guide, "mode 0600; %s", proof)
}

// readKeyPair reads a private key file, with its certificate when the file holds one.
func readKeyPair(path string) (securitydomain.KeyPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return securitydomain.KeyPair{}, fmt.Errorf("reading key file: %w", err)
	}
	if strings.Contains(string(data), "CERTIFICATE") {
		kp, err := securitydomain.LoadKeyPair(data, data)
		if err != nil {
			return securitydomain.KeyPair{}, fmt.Errorf("key file %s: %w", path, err)
		}
		return kp, nil
	}
	key, err := securitydomain.ParsePrivateKeyPEM(data)
	if err != nil {
		return securitydomain.KeyPair{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return securitydomain.KeyPair{Key: key}, nil
}
