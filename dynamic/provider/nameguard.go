// This file holds NameGuard: the check, before a Managed HSM is created, that no soft-deleted HSM holds its
// name, and the opt-in purge of the deleted HSM once Pulumi has deleted it.
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
)

// NameGuard is the resource; its methods are the CRUD the engine calls. The HSM depends on it, so the engine
// creates it before the HSM and deletes it after the HSM: Create can stop a creation that would collide with a
// soft-deleted HSM before anything exists, and Delete finds the HSM already soft-deleted when it purges.
type NameGuard struct{ env *env }

// NameGuardArgs are the inputs.
type NameGuardArgs struct {
	SubscriptionID string `pulumi:"subscriptionId"`
	Location       string `pulumi:"location"`
	Name           string `pulumi:"name"`
	// PurgeOnDelete purges the soft-deleted HSM when this resource is deleted.
	PurgeOnDelete bool `pulumi:"purgeOnDelete,optional"`
	// PurgeProtection is the HSM's setting; with it on, a purge is refused before it is tried.
	PurgeProtection bool `pulumi:"purgeProtection,optional"`
}

// NameGuardState is what the engine stores: the inputs.
type NameGuardState struct {
	NameGuardArgs
}

// Annotate sets the token the program registers.
func (r *NameGuard) Annotate(a infer.Annotator) {
	a.SetToken("hsm", "NameGuard")
	a.Describe(r, "Refuses to let a Managed HSM be created while a soft-deleted HSM holds its name, and purges "+
		"the deleted HSM after Pulumi deletes it when asked to.")
}

// Annotate documents the inputs.
func (a *NameGuardArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.SubscriptionID, "Subscription the HSM is created in.")
	an.Describe(&a.Location, "Azure region of the HSM.")
	an.Describe(&a.Name, "Name of the HSM.")
	an.Describe(&a.PurgeOnDelete, "Purge the soft-deleted HSM when this resource is deleted, after the HSM.")
	an.Describe(&a.PurgeProtection, "Whether the HSM has purge protection, which forbids purgeOnDelete.")
}

// Check validates the inputs, so that preview already refuses a purge that purge protection forbids.
func (r *NameGuard) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[NameGuardArgs],
	error) {
	in, failures, err := infer.DefaultCheck[NameGuardArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[NameGuardArgs]{Inputs: in, Failures: failures}, err
	}
	if !hsmrbac.IsGUID(in.SubscriptionID) {
		failures = append(failures, p.CheckFailure{Property: "subscriptionId", Reason: "must be a subscription ID " +
			"(a GUID)"})
	}
	if in.Location == "" || in.Name == "" {
		failures = append(failures, p.CheckFailure{Property: "name", Reason: "name and location are required"})
	}
	if in.PurgeOnDelete && in.PurgeProtection {
		failures = append(failures, p.CheckFailure{Property: "purgeOnDelete", Reason: "cannot purge an HSM with " +
			"purge protection: Azure refuses it until the retention period ends"})
	}
	return infer.CheckResponse[NameGuardArgs]{Inputs: in, Failures: failures}, nil
}

// Create reads the location's deleted HSMs for the name and fails, before the HSM is created, when one holds
// it. A preview makes no call: whether the name is free is known only when it is about to be taken.
func (r *NameGuard) Create(ctx context.Context, req infer.CreateRequest[NameGuardArgs]) (
	infer.CreateResponse[NameGuardState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[NameGuardState]{ID: fmt.Sprintf("/subscriptions/%s/providers/Microsoft.KeyVault/"+
		"locations/%s/deletedManagedHSMs/%s/nameGuard", in.SubscriptionID, in.Location, in.Name),
		Output: NameGuardState{NameGuardArgs: in}}
	if req.DryRun {
		return resp, nil
	}
	cred, err := r.env.credential()
	if err != nil {
		return resp, err
	}
	deleted, err := hsm.NewManagementClient(cred, r.env.opts.HSM).GetDeleted(ctx, in.SubscriptionID, in.Location,
		in.Name)
	if errors.Is(err, hsm.ErrNotDeleted) {
		p.GetLogger(ctx).Infof("no soft-deleted managed HSM holds the name %s in %s", in.Name, in.Location)
		return resp, nil
	}
	if err != nil {
		return resp, fmt.Errorf("checking that the name of managed HSM %s is free: %w", in.Name, err)
	}
	return resp, nameTaken(deleted)
}

// nameTaken explains a soft-deleted HSM in the way: when it was deleted, when its name frees, and what to do.
func nameTaken(d hsm.Deleted) error {
	day := func(t time.Time) string {
		if t.IsZero() {
			return "an unknown date"
		}
		return t.UTC().Format(time.RFC3339)
	}
	what := fmt.Sprintf("purge protection is on, so nothing frees the name earlier: set hsm.name (or use "+
		"another stack) to create an HSM under another name, or wait until %s", day(d.ScheduledPurgeDate))
	if !d.PurgeProtection {
		what = fmt.Sprintf("purge it if its keys are no longer needed (`az keyvault purge --hsm-name %s "+
			"--location %s`; this destroys its keys for good), or set hsm.name (or use another stack) to create "+
			"an HSM under another name", d.Name, d.Location)
	}
	return fmt.Errorf("managed HSM name %s is held by a soft-deleted HSM in %s, deleted %s; the name frees on %s "+
		"(scheduled purge; it is billed until then): %s", d.Name, d.Location, day(d.DeletionDate),
		day(d.ScheduledPurgeDate), what)
}

// Update records new purge settings; it calls nothing. Delete reads them from state, so a changed setting
// takes effect after an `up`.
func (r *NameGuard) Update(_ context.Context, req infer.UpdateRequest[NameGuardArgs, NameGuardState]) (
	infer.UpdateResponse[NameGuardState], error) {
	return infer.UpdateResponse[NameGuardState]{Output: NameGuardState{NameGuardArgs: req.Inputs}}, nil
}

// Diff replaces the guard for another name, location or subscription, so that the new name is checked before
// the HSM that takes it; purge settings change in place.
func (r *NameGuard) Diff(_ context.Context, req infer.DiffRequest[NameGuardArgs, NameGuardState]) (
	p.DiffResponse, error) {
	in, old := req.Inputs, req.State.NameGuardArgs
	diff := map[string]p.PropertyDiff{}
	mark := func(name string, changed bool, kind p.DiffKind) {
		if changed {
			diff[name] = p.PropertyDiff{Kind: kind, InputDiff: true}
		}
	}
	mark("subscriptionId", in.SubscriptionID != old.SubscriptionID, p.UpdateReplace)
	mark("location", in.Location != old.Location, p.UpdateReplace)
	mark("name", in.Name != old.Name, p.UpdateReplace)
	mark("purgeOnDelete", in.PurgeOnDelete != old.PurgeOnDelete, p.Update)
	mark("purgeProtection", in.PurgeProtection != old.PurgeProtection, p.Update)
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Delete runs after the HSM's delete (the HSM depends on this resource). Without purgeOnDelete it leaves the
// soft-deleted HSM alone and says what that means; with it, it purges the deleted HSM, refusing when purge
// protection is on. No deleted HSM under the name is success with a warning: it was retained or purged already.
func (r *NameGuard) Delete(ctx context.Context, req infer.DeleteRequest[NameGuardState]) (infer.DeleteResponse,
	error) {
	st := req.State.NameGuardArgs
	log := p.GetLogger(ctx)
	if !st.PurgeOnDelete {
		log.Warningf("managed HSM %s, if deleted, stays soft-deleted in %s: billed and holding its name until its "+
			"scheduled purge date; hsm.purgeOnDelete purges it", st.Name, st.Location)
		return infer.DeleteResponse{}, nil
	}
	if st.PurgeProtection {
		return infer.DeleteResponse{}, fmt.Errorf("not purging managed HSM %s in %s: it has purge protection, "+
			"which Azure enforces until the retention period ends", st.Name, st.Location)
	}
	cred, err := r.env.credential()
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	mgmt := hsm.NewManagementClient(cred, r.env.opts.HSM)
	deleted, err := mgmt.GetDeleted(ctx, st.SubscriptionID, st.Location, st.Name)
	if errors.Is(err, hsm.ErrNotDeleted) {
		log.Warningf("no soft-deleted managed HSM %s in %s to purge: it was retained or is purged already",
			st.Name, st.Location)
		return infer.DeleteResponse{}, nil
	}
	if err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("reading soft-deleted managed HSM %s in %s before purging it: %w",
			st.Name, st.Location, err)
	}
	if deleted.PurgeProtection {
		return infer.DeleteResponse{}, fmt.Errorf("not purging managed HSM %s in %s: Azure reports purge "+
			"protection on it; it is purged on %s", st.Name, st.Location,
			deleted.ScheduledPurgeDate.UTC().Format(time.RFC3339))
	}
	log.InfoStatusf("purging soft-deleted managed HSM %s in %s", st.Name, st.Location)
	w := r.env.wait(ctx, "purge of managed HSM "+st.Name, r.env.purgeTimeout())
	if err := mgmt.PurgeDeleted(ctx, st.SubscriptionID, st.Location, st.Name, w); err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("purging managed HSM %s in %s: %w", st.Name, st.Location, err)
	}
	log.Warningf("managed HSM %s is purged: its keys are gone for good and its name is free", st.Name)
	return infer.DeleteResponse{}, nil
}
