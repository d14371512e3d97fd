package hsm

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
)

// Resource is the management-plane view of an HSM that the plugin needs.
type Resource struct {
	ActivationStatus    string
	HsmURI              string
	PublicNetworkAccess string
	DefaultAction       string
	Bypass              string
}

// Active reports whether the security domain has been downloaded.
func (r Resource) Active() bool { return r.ActivationStatus == "Active" }

// ManagementClient reads and patches Managed HSM resources through Azure Resource Manager.
type ManagementClient struct {
	cred azcore.TokenCredential
	opts Options
}

// NewManagementClient returns a client using cred and the cloud and transport in opts.
func NewManagementClient(cred azcore.TokenCredential, opts Options) *ManagementClient {
	return &ManagementClient{cred: cred, opts: opts}
}

func (c *ManagementClient) hsms(id *arm.ResourceID) (*armkeyvault.ManagedHsmsClient, error) {
	return armkeyvault.NewManagedHsmsClient(id.SubscriptionID, c.cred,
		&arm.ClientOptions{ClientOptions: c.opts.ClientOptions})
}

// Get reads the HSM named by its ARM ID.
func (c *ManagementClient) Get(ctx context.Context, resourceID string) (Resource, error) {
	id, err := ParseHsmID(resourceID)
	if err != nil {
		return Resource{}, err
	}
	client, err := c.hsms(id)
	if err != nil {
		return Resource{}, err
	}
	resp, err := client.Get(ctx, id.ResourceGroupName, id.Name, nil)
	if err != nil {
		return Resource{}, fmt.Errorf("reading managed HSM %s in %s: %w", id.Name, id.ResourceGroupName, err)
	}
	return resourceOf(resp.ManagedHsm), nil
}

// SetNetwork changes public network access and the network rules' default action and bypass, in place (PATCH),
// and waits for the change to finish, polling as w says at the pace the service's Retry-After sets.
func (c *ManagementClient) SetNetwork(ctx context.Context, resourceID, access, defaultAction, bypass string,
	w Wait) (Resource, error) {
	id, err := ParseHsmID(resourceID)
	if err != nil {
		return Resource{}, err
	}
	client, err := c.hsms(id)
	if err != nil {
		return Resource{}, err
	}
	patch := armkeyvault.ManagedHsm{Properties: &armkeyvault.ManagedHsmProperties{
		PublicNetworkAccess: to.Ptr(armkeyvault.PublicNetworkAccess(access)),
		NetworkACLs: &armkeyvault.MHSMNetworkRuleSet{
			DefaultAction: to.Ptr(armkeyvault.NetworkRuleAction(defaultAction)),
			Bypass:        to.Ptr(armkeyvault.NetworkRuleBypassOptions(bypass)),
		},
	}}
	poller, err := client.BeginUpdate(ctx, id.ResourceGroupName, id.Name, patch, nil)
	if err != nil {
		return Resource{}, fmt.Errorf("updating network access of managed HSM %s: %w", id.Name, err)
	}
	err = w.Poll(ctx, func(ctx context.Context) (bool, time.Duration, error) {
		if poller.Done() {
			return true, 0, nil
		}
		resp, err := poller.Poll(ctx)
		if err != nil {
			return false, 0, err
		}
		return poller.Done(), retryAfter(resp), nil
	})
	if err != nil {
		return Resource{}, fmt.Errorf("changing network access of managed HSM %s: %w", id.Name, err)
	}
	resp, err := poller.Result(ctx)
	if err != nil {
		return Resource{}, fmt.Errorf("changing network access of managed HSM %s: %w", id.Name, err)
	}
	return resourceOf(resp.ManagedHsm), nil
}

// ParseHsmID parses the ARM ID of a managed HSM, refusing IDs of other resource types.
func ParseHsmID(resourceID string) (*arm.ResourceID, error) {
	id, err := arm.ParseResourceID(resourceID)
	if err != nil {
		return nil, fmt.Errorf("managed HSM ID %q: %w", resourceID, err)
	}
	if id.ResourceType.String() != "Microsoft.KeyVault/managedHSMs" {
		return nil, fmt.Errorf("%q is a %s, not a Microsoft.KeyVault/managedHSMs", resourceID, id.ResourceType)
	}
	return id, nil
}

func resourceOf(m armkeyvault.ManagedHsm) Resource {
	var r Resource
	p := m.Properties
	if p == nil {
		return r
	}
	if p.SecurityDomainProperties != nil && p.SecurityDomainProperties.ActivationStatus != nil {
		r.ActivationStatus = string(*p.SecurityDomainProperties.ActivationStatus)
	}
	r.HsmURI = deref(p.HsmURI)
	if p.PublicNetworkAccess != nil {
		r.PublicNetworkAccess = string(*p.PublicNetworkAccess)
	}
	if p.NetworkACLs != nil {
		if p.NetworkACLs.DefaultAction != nil {
			r.DefaultAction = string(*p.NetworkACLs.DefaultAction)
		}
		if p.NetworkACLs.Bypass != nil {
			r.Bypass = string(*p.NetworkACLs.Bypass)
		}
	}
	return r
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
