package hsm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Class sorts a failed call by what can be done about it.
type Class int

const (
	// Permanent failures are reported as they are.
	Permanent Class = iota
	// NotYetPropagated failures are Entra ID or RBAC catching up with a new principal, role or secret:
	// PrincipalNotFound, a 401 or 403 right after a grant, AADSTS7000215. Retrying with backoff helps.
	NotYetPropagated
	// NetworkClosed is the HSM refusing a public caller: public access is disabled or the firewall denies.
	NetworkClosed
	// NotActivated is the data plane refusing calls before the security domain download.
	NotActivated
	// RegionCapacity is the 503 Azure sends when a region cannot create HSM pools.
	RegionCapacity
)

// Classify returns the class of err.
func Classify(err error) Class {
	if err == nil {
		return Permanent
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		if strings.Contains(err.Error(), "AADSTS7000215") || strings.Contains(err.Error(), "AADSTS700016") {
			return NotYetPropagated
		}
		return Permanent
	}
	body := responseBody(re)
	switch {
	case re.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, "Pool creation is disabled"):
		return RegionCapacity
	case re.StatusCode == http.StatusForbidden && (strings.Contains(body, "ForbiddenByConnection") ||
		strings.Contains(body, "ForbiddenByFirewall") || strings.Contains(body, "Client address is not authorized") ||
		strings.Contains(body, "Public network access is disabled")):
		return NetworkClosed
	case re.StatusCode == http.StatusForbidden && strings.Contains(strings.ToLower(body), "not activated"):
		return NotActivated
	case re.ErrorCode == "PrincipalNotFound" || strings.Contains(body, "PrincipalNotFound"):
		return NotYetPropagated
	case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
		return NotYetPropagated
	}
	return Permanent
}

// Explain wraps err with what to do about it when its class has an answer; hsm names the HSM.
func Explain(err error, hsm string) error {
	switch Classify(err) {
	case NetworkClosed:
		return fmt.Errorf("managed HSM %s refuses this runner's public address: run from where its private "+
			"endpoint resolves (and set hsm.runnerInsideVnet), or reopen public access while configuring: %w",
			hsm, err)
	case NotActivated:
		return fmt.Errorf("managed HSM %s is not activated: its data plane refuses keys and role assignments "+
			"until its security domain is downloaded: %w", hsm, err)
	case RegionCapacity:
		return fmt.Errorf("the region of managed HSM %s cannot create HSMs now (\"Pool creation is disabled in "+
			"this region\"): choose another region with the location setting: %w", hsm, err)
	}
	return err
}

// responseBody is the body of a service error, which azcore keeps readable after building the error.
func responseBody(re *azcore.ResponseError) string {
	if re.RawResponse == nil {
		return ""
	}
	b, err := runtime.Payload(re.RawResponse)
	if err != nil {
		return ""
	}
	return string(b)
}

// IsNotFound reports whether err is the service answering 404.
func IsNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}
