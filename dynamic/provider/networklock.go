// This file holds NetworkLock: the HSM's public network access, closed in place by an ARM PATCH once its data
// plane is configured, and reopened when the lock is deleted so that a teardown can still reach the data plane.
package provider

import (
	"context"
	"fmt"
	"slices"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
)

// NetworkLock is the resource; its methods are the CRUD the engine calls.
type NetworkLock struct{ env *env }

// NetworkLockArgs are the inputs.
type NetworkLockArgs struct {
	HsmResourceID       string `pulumi:"hsmResourceId"`
	PublicNetworkAccess string `pulumi:"publicNetworkAccess"`
	DefaultAction       string `pulumi:"defaultAction"`
	Bypass              string `pulumi:"bypass"`
}

// NetworkLockState is what the engine stores: the settings the HSM reported after the change, and those it had
// before the lock first changed them, which Delete restores.
type NetworkLockState struct {
	NetworkLockArgs
	PreviousPublicNetworkAccess string `pulumi:"previousPublicNetworkAccess,optional"`
	PreviousDefaultAction       string `pulumi:"previousDefaultAction,optional"`
}

// Annotate sets the token the program registers.
func (r *NetworkLock) Annotate(a infer.Annotator) {
	a.SetToken("hsm", "NetworkLock")
	a.Describe(r, "The public network access of a Managed HSM, changed in place through Azure Resource Manager.")
}

// Annotate documents the inputs.
func (a *NetworkLockArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.HsmResourceID, "ARM ID of the Managed HSM.")
	an.Describe(&a.PublicNetworkAccess, "Enabled or Disabled.")
	an.Describe(&a.DefaultAction, "Default action of the network rules: Allow or Deny.")
	an.Describe(&a.Bypass, "Traffic that bypasses the rules: AzureServices or None.")
}

// Check validates the inputs, so that preview already reports them.
func (r *NetworkLock) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[NetworkLockArgs],
	error) {
	in, failures, err := infer.DefaultCheck[NetworkLockArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[NetworkLockArgs]{Inputs: in, Failures: failures}, err
	}
	oneOf := func(property, value string, allowed ...string) {
		if !slices.Contains(allowed, value) {
			failures = append(failures, p.CheckFailure{Property: property,
				Reason: fmt.Sprintf("must be one of %v, not %q", allowed, value)})
		}
	}
	oneOf("publicNetworkAccess", in.PublicNetworkAccess, "Enabled", "Disabled")
	oneOf("defaultAction", in.DefaultAction, "Allow", "Deny")
	oneOf("bypass", in.Bypass, "AzureServices", "None")
	if _, err := hsm.ParseHsmID(in.HsmResourceID); err != nil {
		failures = append(failures, p.CheckFailure{Property: "hsmResourceId", Reason: err.Error()})
	}
	return infer.CheckResponse[NetworkLockArgs]{Inputs: in, Failures: failures}, nil
}

// Create applies the settings in place.
func (r *NetworkLock) Create(ctx context.Context, req infer.CreateRequest[NetworkLockArgs]) (
	infer.CreateResponse[NetworkLockState], error) {
	resp := infer.CreateResponse[NetworkLockState]{ID: req.Inputs.HsmResourceID + "/networkLock",
		Output: NetworkLockState{NetworkLockArgs: req.Inputs}}
	if req.DryRun {
		return resp, nil
	}
	cred, err := r.env.credential()
	if err != nil {
		return resp, err
	}
	before, err := hsm.NewManagementClient(cred, r.env.opts.HSM).Get(ctx, req.Inputs.HsmResourceID)
	if err != nil {
		return resp, fmt.Errorf("reading the network settings of %s before changing them: %w",
			req.Inputs.HsmResourceID, err)
	}
	state, err := r.apply(ctx, req.Inputs)
	state.PreviousPublicNetworkAccess, state.PreviousDefaultAction = before.PublicNetworkAccess, before.DefaultAction
	resp.Output = state
	return resp, err
}

// Update applies changed settings in place.
func (r *NetworkLock) Update(ctx context.Context, req infer.UpdateRequest[NetworkLockArgs, NetworkLockState]) (
	infer.UpdateResponse[NetworkLockState], error) {
	if req.DryRun {
		return infer.UpdateResponse[NetworkLockState]{Output: NetworkLockState{NetworkLockArgs: req.Inputs}}, nil
	}
	state, err := r.apply(ctx, req.Inputs)
	state.PreviousPublicNetworkAccess = req.State.PreviousPublicNetworkAccess
	state.PreviousDefaultAction = req.State.PreviousDefaultAction
	return infer.UpdateResponse[NetworkLockState]{Output: state}, err
}

// Diff replaces the lock only when it names another HSM; every setting changes in place.
func (r *NetworkLock) Diff(_ context.Context, req infer.DiffRequest[NetworkLockArgs, NetworkLockState]) (
	p.DiffResponse, error) {
	diff := map[string]p.PropertyDiff{}
	if req.Inputs.HsmResourceID != req.State.HsmResourceID {
		diff["hsmResourceId"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	for name, pair := range map[string][2]string{
		"publicNetworkAccess": {req.Inputs.PublicNetworkAccess, req.State.PublicNetworkAccess},
		"defaultAction":       {req.Inputs.DefaultAction, req.State.DefaultAction},
		"bypass":              {req.Inputs.Bypass, req.State.Bypass},
	} {
		if pair[0] != pair[1] {
			diff[name] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
		}
	}
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Read reports the settings the HSM has now, so that a change made outside Pulumi shows as drift.
func (r *NetworkLock) Read(ctx context.Context, req infer.ReadRequest[NetworkLockArgs, NetworkLockState]) (
	infer.ReadResponse[NetworkLockArgs, NetworkLockState], error) {
	resp := infer.ReadResponse[NetworkLockArgs, NetworkLockState](req)
	cred, err := r.env.credential()
	if err != nil {
		return resp, err
	}
	current, err := hsm.NewManagementClient(cred, r.env.opts.HSM).Get(ctx, req.State.HsmResourceID)
	if hsm.IsNotFound(err) {
		return infer.ReadResponse[NetworkLockArgs, NetworkLockState]{}, nil
	}
	if err != nil {
		return resp, err
	}
	resp.State.PublicNetworkAccess = current.PublicNetworkAccess
	resp.State.DefaultAction = current.DefaultAction
	resp.State.Bypass = current.Bypass
	return resp, nil
}

// Delete restores the access the HSM had before the lock, keeping the bypass. An HSM created open is opened
// again, so that deleting keys and role assignments afterwards can still reach the data plane from outside the
// VNet; one that was created closed (the runner inside the VNet) stays closed. An HSM that is already gone
// needs nothing.
func (r *NetworkLock) Delete(ctx context.Context, req infer.DeleteRequest[NetworkLockState]) (infer.DeleteResponse,
	error) {
	restore := req.State.NetworkLockArgs
	restore.PublicNetworkAccess, restore.DefaultAction = "Enabled", "Allow"
	if req.State.PreviousPublicNetworkAccess != "" {
		restore.PublicNetworkAccess = req.State.PreviousPublicNetworkAccess
	}
	if req.State.PreviousDefaultAction != "" {
		restore.DefaultAction = req.State.PreviousDefaultAction
	}
	log := p.GetLogger(ctx)
	if restore.PublicNetworkAccess == req.State.PublicNetworkAccess &&
		restore.DefaultAction == req.State.DefaultAction {
		log.Infof("public network access of %s stays %s, as it was before the lock", req.State.HsmResourceID,
			restore.PublicNetworkAccess)
		return infer.DeleteResponse{}, nil
	}
	_, err := r.apply(ctx, restore)
	if hsm.IsNotFound(err) {
		log.Warningf("managed HSM %s is already gone; no network access to restore", req.State.HsmResourceID)
		return infer.DeleteResponse{}, nil
	}
	if err == nil {
		log.Warningf("public network access of %s is back to %s (default action %s), as it was before the lock",
			req.State.HsmResourceID, restore.PublicNetworkAccess, restore.DefaultAction)
	}
	return infer.DeleteResponse{}, err
}

// apply PATCHes the settings and returns what the HSM reports afterwards.
func (r *NetworkLock) apply(ctx context.Context, in NetworkLockArgs) (NetworkLockState, error) {
	state := NetworkLockState{NetworkLockArgs: in}
	cred, err := r.env.credential()
	if err != nil {
		return state, err
	}
	p.GetLogger(ctx).InfoStatusf("setting public network access %s, default action %s on %s",
		in.PublicNetworkAccess, in.DefaultAction, in.HsmResourceID)
	w := r.env.wait(ctx, "network access change of "+in.HsmResourceID, r.env.networkTimeout())
	got, err := hsm.NewManagementClient(cred, r.env.opts.HSM).SetNetwork(ctx, in.HsmResourceID,
		in.PublicNetworkAccess, in.DefaultAction, in.Bypass, w)
	if err != nil {
		return state, err
	}
	state.PublicNetworkAccess, state.DefaultAction, state.Bypass = got.PublicNetworkAccess, got.DefaultAction,
		got.Bypass
	return state, nil
}
