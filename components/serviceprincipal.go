// This file holds ServicePrincipal: an Entra application, its service principal, a client secret and an HSM role.
package components

import (
	"fmt"

	"github.com/pulumi/pulumi-azuread/sdk/v5/go/azuread"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// ServicePrincipalType is the type token of ServicePrincipal.
const ServicePrincipalType = typePrefix + "ServicePrincipal"

// ServicePrincipalArgs describe an Entra application with a client secret and an optional HSM role.
type ServicePrincipalArgs struct {
	// DisplayName of the application. Required.
	DisplayName string
	// TenantID the application lives in. Required.
	TenantID string
	// SecretEndDate (RFC 3339) ends the secret; when empty, SecretLifetimeDays from creation does. One is required.
	SecretEndDate      string
	SecretLifetimeDays int
	// HsmURI, HsmRole and HsmScope grant the service principal a Managed HSM role. Optional: no grant when
	// HsmURI is nil. HsmURI should be an activated HSM's URI.
	HsmURI   pulumi.StringInput
	HsmRole  string
	HsmScope string
}

// ServicePrincipal is an application, its service principal and a password. Its three IDs differ, and only the
// service principal's object ID is ever given to a role assignment.
type ServicePrincipal struct {
	pulumi.ResourceState

	// ClientID is the application (client) ID used to sign in.
	ClientID pulumi.StringOutput `pulumi:"clientId"`
	// ApplicationObjectID is the application object's ID.
	ApplicationObjectID pulumi.StringOutput `pulumi:"applicationObjectId"`
	// ObjectID is the service principal's object ID, the one role assignments take.
	ObjectID pulumi.StringOutput `pulumi:"objectId"`
	TenantID pulumi.StringOutput `pulumi:"tenantId"`
	// ClientSecret is the password. Secret.
	ClientSecret  pulumi.StringOutput `pulumi:"clientSecret"`
	SecretEndDate pulumi.StringOutput `pulumi:"secretEndDate"`
	// RoleAssignment is the HSM grant, nil without one.
	RoleAssignment *odaa.RoleAssignment
}

// NewServicePrincipal creates the application, service principal, password and grant.
func NewServicePrincipal(ctx *pulumi.Context, name string, args *ServicePrincipalArgs,
	opts ...pulumi.ResourceOption) (*ServicePrincipal, error) {
	if args == nil {
		return nil, fmt.Errorf("service principal %s: %w", name, errNilArgs)
	}
	if args.SecretEndDate == "" && args.SecretLifetimeDays <= 0 {
		return nil, fmt.Errorf("service principal %s: SecretEndDate or SecretLifetimeDays is required",
			args.DisplayName)
	}
	comp := &ServicePrincipal{}
	if err := ctx.RegisterComponentResource(ServicePrincipalType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("registering service principal component %s: %w", name, err)
	}
	parent := pulumi.Parent(comp)

	app, err := azuread.NewApplication(ctx, name+"-app", &azuread.ApplicationArgs{
		DisplayName: pulumi.String(args.DisplayName),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating application %s: %w", args.DisplayName, err)
	}

	sp, err := azuread.NewServicePrincipal(ctx, name+"-sp", &azuread.ServicePrincipalArgs{
		ClientId: app.ClientId,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating service principal of %s: %w", args.DisplayName, err)
	}

	// The end date is explicit: a given date, or a lifetime the provider turns into a date once, at creation.
	pwArgs := &azuread.ApplicationPasswordArgs{
		ApplicationId: app.ID(),
		DisplayName:   pulumi.String(args.DisplayName + " secret"),
	}
	if args.SecretEndDate != "" {
		pwArgs.EndDate = pulumi.String(args.SecretEndDate)
	} else {
		pwArgs.EndDateRelative = pulumi.String(fmt.Sprintf("%dh", args.SecretLifetimeDays*24))
	}
	pw, err := azuread.NewApplicationPassword(ctx, name+"-secret", pwArgs, parent)
	if err != nil {
		return nil, fmt.Errorf("creating client secret of %s: %w", args.DisplayName, err)
	}

	if args.HsmURI != nil {
		comp.RoleAssignment, err = odaa.NewRoleAssignment(ctx, name+"-hsm-role", &odaa.RoleAssignmentArgs{
			HsmURI:      args.HsmURI,
			Role:        pulumi.String(args.HsmRole),
			Scope:       pulumi.String(args.HsmScope),
			PrincipalID: nonEmpty("object ID of service principal "+args.DisplayName, sp.ObjectId),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("declaring HSM role of %s: %w", args.DisplayName, err)
		}
	}

	comp.ClientID = app.ClientId
	comp.ApplicationObjectID = app.ObjectId
	comp.ObjectID = sp.ObjectId
	comp.TenantID = pulumi.String(args.TenantID).ToStringOutput()
	comp.ClientSecret = pulumi.ToSecret(pw.Value).(pulumi.StringOutput)
	comp.SecretEndDate = pw.EndDate
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"clientId":            comp.ClientID,
		"applicationObjectId": comp.ApplicationObjectID,
		"objectId":            comp.ObjectID,
		"tenantId":            comp.TenantID,
		"clientSecret":        comp.ClientSecret,
		"secretEndDate":       comp.SecretEndDate,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of service principal %s: %w", args.DisplayName, err)
	}
	return comp, nil
}
