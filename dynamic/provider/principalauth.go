// This file holds PrincipalAuth: the database's own Azure identity, enabled with
// DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH and reported by CLOUD_INTEGRATIONS. Each ENABLE makes a new Azure
// application, whose consent and key role would then be lost, so ENABLE is never issued when the database
// already shows principal auth for the tenant: it is adopted instead, and nothing but a new tenant re-enables.
package provider

import (
	"context"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// PrincipalAuth is the resource; its methods are the CRUD the engine calls.
type PrincipalAuth struct{ env *env }

// PrincipalAuthArgs are the inputs.
type PrincipalAuthArgs struct {
	OracleConnection
	Provider string `pulumi:"provider"`
	TenantID string `pulumi:"tenantId"`
}

// PrincipalAuthState is what the engine stores: the application CLOUD_INTEGRATIONS reports.
type PrincipalAuthState struct {
	PrincipalAuthArgs
	AppClientID string `pulumi:"appClientId"`
	AppName     string `pulumi:"appName"`
	ConsentURL  string `pulumi:"consentUrl"`
}

// Annotate sets the token the program registers.
func (r *PrincipalAuth) Annotate(a infer.Annotator) {
	a.SetToken("oracle", "PrincipalAuth")
	a.Describe(r, "Azure principal authentication of an Autonomous Database: the multi-tenant Azure application "+
		"Oracle makes for it.")
}

// Annotate documents the inputs.
func (a *PrincipalAuthArgs) Annotate(an infer.Annotator) {
	describeConnection(an, &a.OracleConnection)
	an.Describe(&a.Provider, "AZURE, the only provider.")
	an.Describe(&a.TenantID, "Entra tenant ID (a GUID) of the tenant that holds the HSM.")
}

// Annotate documents the outputs.
func (s *PrincipalAuthState) Annotate(an infer.Annotator) {
	an.Describe(&s.AppClientID, "Client ID of Oracle's application for the database, from azure_consent_url.")
	an.Describe(&s.AppName, "Name of that application, azure_app_name.")
	an.Describe(&s.ConsentURL, "Admin-consent URL, azure_consent_url.")
}

// Check validates the provider and tenant.
func (r *PrincipalAuth) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[PrincipalAuthArgs], error) {
	in, failures, err := infer.DefaultCheck[PrincipalAuthArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[PrincipalAuthArgs]{Inputs: in, Failures: failures}, err
	}
	known := func(property string) bool { return !req.NewInputs.Get(property).HasComputed() }
	failures = append(failures, checkConnection(req, in.OracleConnection)...)
	in.Provider = strings.ToUpper(strings.TrimSpace(in.Provider))
	if known("provider") && in.Provider != oracle.AzureProvider {
		failures = append(failures, p.CheckFailure{Property: "provider",
			Reason: fmt.Sprintf("must be AZURE, not %q", in.Provider)})
	}
	in.TenantID = strings.ToLower(strings.TrimSpace(in.TenantID))
	if known("tenantId") {
		if err := oracle.CheckTenantID(in.TenantID); err != nil {
			failures = append(failures, p.CheckFailure{Property: "tenantId", Reason: err.Error()})
		}
	}
	return infer.CheckResponse[PrincipalAuthArgs]{Inputs: in, Failures: failures}, nil
}

func principalState(in PrincipalAuthArgs, a oracle.AzureIntegration) PrincipalAuthState {
	return PrincipalAuthState{PrincipalAuthArgs: in, AppClientID: a.ClientID, AppName: a.AppName,
		ConsentURL: a.ConsentURL}
}

// Create enables Azure principal auth for the tenant, or adopts it when the database already has it for that
// tenant. Nothing connects on preview.
func (r *PrincipalAuth) Create(ctx context.Context, req infer.CreateRequest[PrincipalAuthArgs]) (
	infer.CreateResponse[PrincipalAuthState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[PrincipalAuthState]{ID: in.Provider + "/" + in.TenantID,
		Output: PrincipalAuthState{PrincipalAuthArgs: in}}
	if req.DryRun {
		return resp, nil
	}

	db, done, err := r.env.database(ctx, in.OracleConnection)
	if err != nil {
		return resp, err
	}
	defer done()
	found, adopted, err := oracle.EnsureAzurePrincipalAuth(ctx, db, in.TenantID)
	if err != nil {
		return resp, fmt.Errorf("principal auth on %s: %w", db.Where, err)
	}
	resp.Output = principalState(in, found)
	if adopted {
		p.GetLogger(ctx).Warningf("Azure principal auth for tenant %s was already enabled on %s: adopting "+
			"application %s (%s) instead of enabling it again, which would make a new application", in.TenantID,
			db.Where, found.AppName, found.ClientID)
		return resp, nil
	}
	p.GetLogger(ctx).Infof("Azure principal auth enabled on %s: application %s (%s); consent follows", db.Where,
		found.AppName, found.ClientID)
	return resp, nil
}

// Read reports what CLOUD_INTEGRATIONS shows now: another tenant or application shows as drift, and principal
// auth disabled outside Pulumi reads as gone, so that the next run enables it again.
func (r *PrincipalAuth) Read(ctx context.Context, req infer.ReadRequest[PrincipalAuthArgs, PrincipalAuthState]) (
	infer.ReadResponse[PrincipalAuthArgs, PrincipalAuthState], error) {
	resp := infer.ReadResponse[PrincipalAuthArgs, PrincipalAuthState](req)
	db, done, err := r.env.database(ctx, req.State.OracleConnection)
	if err != nil {
		return resp, err
	}
	defer done()
	found, err := oracle.ReadAzureIntegration(ctx, db)
	if err != nil {
		return resp, err
	}
	if !found.Enabled() {
		p.GetLogger(ctx).Warningf("Azure principal auth is no longer enabled on %s", db.Where)
		return infer.ReadResponse[PrincipalAuthArgs, PrincipalAuthState]{}, nil
	}
	st := principalState(req.State.PrincipalAuthArgs, found)
	st.TenantID = strings.ToLower(found.TenantID)
	resp.State = st
	return resp, nil
}

// Diff replaces the resource, deleting first, for another provider or tenant: a database has one Azure
// principal auth. Nothing else re-enables it: connection inputs change in place.
func (r *PrincipalAuth) Diff(_ context.Context, req infer.DiffRequest[PrincipalAuthArgs, PrincipalAuthState]) (
	p.DiffResponse, error) {
	old, in := req.State, req.Inputs
	diff := map[string]p.PropertyDiff{}
	if !strings.EqualFold(old.Provider, in.Provider) {
		diff["provider"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if !strings.EqualFold(old.TenantID, in.TenantID) {
		diff["tenantId"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	connectionDiff(diff, old.OracleConnection, in.OracleConnection)
	_, replacing := diff["tenantId"]
	if _, ok := diff["provider"]; ok {
		replacing = true
	}
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff, DeleteBeforeReplace: replacing}, nil
}

// Update changes only how the database is reached; it never enables principal auth again.
func (r *PrincipalAuth) Update(_ context.Context, req infer.UpdateRequest[PrincipalAuthArgs, PrincipalAuthState]) (
	infer.UpdateResponse[PrincipalAuthState], error) {
	st := req.State
	st.OracleConnection = req.Inputs.OracleConnection
	return infer.UpdateResponse[PrincipalAuthState]{Output: st}, nil
}

// Delete disables Azure principal auth when it is enabled for this resource's tenant. Already disabled is
// success with a warning; enabled for another tenant is left alone, as it is not this resource's.
func (r *PrincipalAuth) Delete(ctx context.Context, req infer.DeleteRequest[PrincipalAuthState]) (
	infer.DeleteResponse, error) {
	st := req.State
	log := p.GetLogger(ctx)
	db, done, err := r.env.database(ctx, st.OracleConnection)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	defer done()
	found, err := oracle.ReadAzureIntegration(ctx, db)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	switch {
	case !found.Enabled():
		log.Warningf("Azure principal auth is already disabled on %s", db.Where)
		return infer.DeleteResponse{}, nil
	case !strings.EqualFold(found.TenantID, st.TenantID):
		log.Warningf("Azure principal auth on %s is enabled for tenant %s, not %s: left alone", db.Where,
			found.TenantID, st.TenantID)
		return infer.DeleteResponse{}, nil
	}
	if err := db.Exec(ctx, oracle.DisablePrincipalAuth()); err != nil {
		return infer.DeleteResponse{}, err
	}
	log.Infof("Azure principal auth disabled on %s: application %s no longer acts for the database", db.Where,
		found.AppName)
	return infer.DeleteResponse{}, nil
}
