// This file tests the management-plane resource through hsm.ManagementClient and armkeyvault: GET, PATCH of
// the network settings answered at once or as an Azure-AsyncOperation, and the network rules the data
// plane then enforces on public and private callers.

package fakehsm_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

// quickWait polls without sleeping, recording the pauses it would have made.
func quickWait(n *noSleep) hsm.Wait {
	return hsm.Wait{What: "network change of fakehsm", Timeout: 5 * time.Second, Interval: time.Millisecond,
		MaxInterval: time.Minute, Sleep: n.sleep}
}

// networkPatch is the PATCH body of a network change.
func networkPatch(access armkeyvault.PublicNetworkAccess, action armkeyvault.NetworkRuleAction) armkeyvault.ManagedHsm {
	return armkeyvault.ManagedHsm{Properties: &armkeyvault.ManagedHsmProperties{PublicNetworkAccess: to.Ptr(access),
		NetworkACLs: &armkeyvault.MHSMNetworkRuleSet{DefaultAction: to.Ptr(action)}}}
}

func TestManagementGetAndNetworkRules(t *testing.T) {
	fake := newActive(t)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	mgmt := mgmtClient(fake, admin)
	ctx := testCtx(t)
	_, err := keysClient(t, fake, cryptoUser).CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)

	res, err := mgmt.Get(ctx, fake.ARMID())
	require.NoError(t, err)
	assert.Equal(t, hsm.Resource{ActivationStatus: fakehsm.ActivationActive, HsmURI: fake.URL(),
		PublicNetworkAccess: fakehsm.AccessEnabled, DefaultAction: fakehsm.ActionAllow, Bypass: "AzureServices"}, res)
	_, err = mgmt.Get(ctx, "/subscriptions/"+fakehsm.DefaultSubscriptionID+"/resourceGroups/"+
		fakehsm.DefaultResourceGroup+"/providers/Microsoft.KeyVault/managedHSMs/other")
	serviceError(t, err, http.StatusNotFound, fakehsm.CodeResourceNotFound)

	sleeps := &noSleep{}
	res, err = mgmt.SetNetwork(ctx, fake.ARMID(), fakehsm.AccessDisabled, fakehsm.ActionDeny, "AzureServices",
		quickWait(sleeps))
	require.NoError(t, err)
	assert.Equal(t, fakehsm.AccessDisabled, res.PublicNetworkAccess)
	assert.Equal(t, fakehsm.ActionDeny, res.DefaultAction)
	assert.Equal(t, fakehsm.Network{PublicNetworkAccess: fakehsm.AccessDisabled, DefaultAction: fakehsm.ActionDeny,
		Bypass: "AzureServices"}, fake.Network())
	assert.Equal(t, 1, fake.Patches())
	assert.Empty(t, sleeps.recorded(), "a synchronous PATCH needs no polling")

	public := keysClient(t, fake, cryptoUser)
	_, err = public.GetKey(ctx, "cmk", "", nil)
	body := serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
	assert.Contains(t, body, fakehsm.PublicNetworkDisabledMessage)
	assert.Contains(t, body, `"innererror":{"code":"ForbiddenByConnection"}`)
	assert.Equal(t, hsm.NetworkClosed, hsm.Classify(err))
	pager := rbacClient(t, fake, admin).NewListRoleAssignmentsPager(rbac.RoleScopeGlobal, nil)
	_, err = pager.NextPage(ctx)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)

	_, err = sdClient(t, fake, admin).DownloadStatus(ctx)
	body = serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
	assert.Contains(t, body, "ForbiddenByConnection", "the security domain endpoints are closed too")

	_, err = keysClient(t, fake, cryptoUser, private(fake)).GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err, "the private endpoint passes")
	_, err = mgmt.Get(ctx, fake.ARMID())
	require.NoError(t, err, "ARM is not behind the HSM's network rules")

	_, err = mgmt.SetNetwork(ctx, fake.ARMID(), fakehsm.AccessEnabled, fakehsm.ActionDeny, "AzureServices",
		quickWait(sleeps))
	require.NoError(t, err)
	_, err = public.GetKey(ctx, "cmk", "", nil)
	body = serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
	assert.Contains(t, body, "Client address is not authorized")
	assert.Contains(t, body, `"innererror":{"code":"ForbiddenByFirewall"}`)
	assert.Equal(t, hsm.NetworkClosed, hsm.Classify(err))

	_, err = mgmt.SetNetwork(ctx, fake.ARMID(), fakehsm.AccessEnabled, fakehsm.ActionAllow, "AzureServices",
		quickWait(sleeps))
	require.NoError(t, err)
	_, err = public.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err, "reopened")
	assert.Equal(t, 3, fake.Patches())
}

func TestManagementAsyncUpdate(t *testing.T) {
	fake := newActive(t, fakehsm.WithAsyncUpdate(2), fakehsm.WithRetryAfter("2"))
	rec := newRecorder(fake.Client())
	arm := hsmsClient(t, fake, admin, withTransport(rec))
	ctx := testCtx(t)

	poller, err := arm.BeginUpdate(ctx, fakehsm.DefaultResourceGroup, fakehsm.DefaultName,
		networkPatch(armkeyvault.PublicNetworkAccessDisabled, armkeyvault.NetworkRuleActionDeny), nil)
	require.NoError(t, err)
	accepted := rec.last(t)
	assert.Equal(t, http.StatusAccepted, accepted.Status)
	assert.Contains(t, accepted.Header.Get("Azure-AsyncOperation"), "/operationStatuses/")
	assert.Contains(t, accepted.Header.Get("Location"), "/operationResults/")
	assert.Equal(t, "2", accepted.Header.Get("Retry-After"))
	require.False(t, poller.Done(), "the 202 body shows the resource Updating")

	for poll := 1; poll <= 2; poll++ {
		assert.Equal(t, fakehsm.AccessEnabled, fake.Network().PublicNetworkAccess, "not applied before poll %d", poll)
		got, err := arm.Get(ctx, fakehsm.DefaultResourceGroup, fakehsm.DefaultName, nil)
		require.NoError(t, err)
		assert.Equal(t, "Updating", string(*got.Properties.ProvisioningState))
		_, err = poller.Poll(ctx)
		require.NoError(t, err)
		assert.False(t, poller.Done(), "poll %d", poll)
	}
	_, err = poller.Poll(ctx)
	require.NoError(t, err)
	require.True(t, poller.Done())
	assert.Equal(t, fakehsm.AccessDisabled, fake.Network().PublicNetworkAccess, "applied on Succeeded")
	done, err := poller.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, armkeyvault.PublicNetworkAccessDisabled, *done.Properties.PublicNetworkAccess)
	assert.Equal(t, armkeyvault.NetworkRuleActionDeny, *done.Properties.NetworkACLs.DefaultAction)
	assert.Equal(t, "Succeeded", string(*done.Properties.ProvisioningState))

	// Our client polls the same operation, pacing itself by the service's Retry-After.
	sleeps := &noSleep{}
	res, err := mgmtClient(fake, admin).SetNetwork(ctx, fake.ARMID(), fakehsm.AccessEnabled, fakehsm.ActionAllow,
		"AzureServices", quickWait(sleeps))
	require.NoError(t, err)
	assert.Equal(t, fakehsm.AccessEnabled, res.PublicNetworkAccess)
	assert.Equal(t, fakehsm.ActionAllow, fake.Network().DefaultAction)
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second}, sleeps.recorded())
	assert.Equal(t, 2, fake.Patches())
}

func TestRetryAfterMsPacesLongRunningOperations(t *testing.T) {
	// Retry-After alone would make PollUntilDone wait 30 s per poll and miss the deadline; retry-after-ms wins.
	fake := newActive(t, fakehsm.WithAsyncUpdate(2), fakehsm.WithRetryAfter("30"), fakehsm.WithRetryAfterMs(20))
	arm := hsmsClient(t, fake, admin)
	// A short deadline makes an ignored hint fail the test in seconds rather than at the package timeout.
	ctx, cancel := context.WithTimeout(testCtx(t), 3*time.Second)
	defer cancel()

	start := time.Now()
	poller, err := arm.BeginUpdate(ctx, fakehsm.DefaultResourceGroup, fakehsm.DefaultName,
		networkPatch(armkeyvault.PublicNetworkAccessDisabled, armkeyvault.NetworkRuleActionAllow), nil)
	require.NoError(t, err)
	res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 10 * time.Second})
	require.NoError(t, err)
	elapsed := time.Since(start)
	assert.Equal(t, armkeyvault.PublicNetworkAccessDisabled, *res.Properties.PublicNetworkAccess)
	// The 202 and both in-progress polls each ask for 20 ms.
	assert.GreaterOrEqual(t, elapsed, 60*time.Millisecond, "the millisecond hint was honoured, not ignored")
	assert.Less(t, elapsed, 3*time.Second)
}
