// This file holds ServicePrincipal: an Entra application, its service principal, a client secret and an HSM role.
package components

import (
	"fmt"
	"time"

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
	// SecretRotationDays, when above 0, replaces the single secret with two alternating ones (slots "a" and
	// "b") that rotate every so many days, each ending two periods after its period starts; SecretEndDate and
	// SecretLifetimeDays are then unused. Optional, default 0 (one secret).
	SecretRotationDays int
	// Now is the deployment's clock, which picks the rotation's current period. Required with
	// SecretRotationDays.
	Now time.Time
	// HsmURI, HsmRole and HsmScope grant the service principal a Managed HSM role. Optional: no grant when
	// HsmURI is nil. HsmURI should be an activated HSM's URI.
	HsmURI   pulumi.StringInput
	HsmRole  string
	HsmScope string
	// HsmRoleOptions are added to the role assignment, such as the HSM's KeepWithHsm. Optional.
	HsmRoleOptions []pulumi.ResourceOption
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
	// SecretEndDates maps each live secret's slot ("secret" without rotation; "a" and "b" with it) to its end.
	SecretEndDates pulumi.StringMapOutput `pulumi:"secretEndDates"`
	// RoleAssignment is the HSM grant, nil without one.
	RoleAssignment *odaa.RoleAssignment
}

// NewServicePrincipal creates the application, service principal, password and grant.
func NewServicePrincipal(ctx *pulumi.Context, name string, args *ServicePrincipalArgs,
	opts ...pulumi.ResourceOption) (*ServicePrincipal, error) {
	if args == nil {
		return nil, fmt.Errorf("service principal %s: %w", name, errNilArgs)
	}
	if args.SecretRotationDays > 0 && args.Now.IsZero() {
		return nil, fmt.Errorf("service principal %s: Now is required with SecretRotationDays", args.DisplayName)
	}
	if args.SecretRotationDays <= 0 && args.SecretEndDate == "" && args.SecretLifetimeDays <= 0 {
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

	var newest *azuread.ApplicationPassword
	endDates := pulumi.StringMap{}
	if args.SecretRotationDays > 0 {
		slots, err := rotatedSecrets(ctx, name, args, app, parent)
		if err != nil {
			return nil, err
		}
		newest = slots[0]
		endDates["a"], endDates["b"] = slots[1].EndDate, slots[2].EndDate
	} else {
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
		newest, err = azuread.NewApplicationPassword(ctx, name+"-secret", pwArgs, parent)
		if err != nil {
			return nil, fmt.Errorf("creating client secret of %s: %w", args.DisplayName, err)
		}
		endDates["secret"] = newest.EndDate
	}

	if args.HsmURI != nil {
		comp.RoleAssignment, err = odaa.NewRoleAssignment(ctx, name+"-hsm-role", &odaa.RoleAssignmentArgs{
			HsmURI:      args.HsmURI,
			Role:        pulumi.String(args.HsmRole),
			Scope:       pulumi.String(args.HsmScope),
			PrincipalID: nonEmpty("object ID of service principal "+args.DisplayName, sp.ObjectId),
		}, append([]pulumi.ResourceOption{parent}, args.HsmRoleOptions...)...)
		if err != nil {
			return nil, fmt.Errorf("declaring HSM role of %s: %w", args.DisplayName, err)
		}
	}

	comp.ClientID = app.ClientId
	comp.ApplicationObjectID = app.ObjectId
	comp.ObjectID = sp.ObjectId
	comp.TenantID = pulumi.String(args.TenantID).ToStringOutput()
	comp.ClientSecret = pulumi.ToSecret(newest.Value).(pulumi.StringOutput)
	comp.SecretEndDate = newest.EndDate
	comp.SecretEndDates = endDates.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"clientId":            comp.ClientID,
		"applicationObjectId": comp.ApplicationObjectID,
		"objectId":            comp.ObjectID,
		"tenantId":            comp.TenantID,
		"clientSecret":        comp.ClientSecret,
		"secretEndDate":       comp.SecretEndDate,
		"secretEndDates":      comp.SecretEndDates,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of service principal %s: %w", args.DisplayName, err)
	}
	return comp, nil
}

// rotatedSecrets declares the two slots' secrets and returns the newest, then slot a, then slot b. A slot's
// secret is replaced when its keeper (its generation's start) changes, which happens to one slot per period;
// the provider creates the replacement before deleting the old one.
func rotatedSecrets(ctx *pulumi.Context, name string, args *ServicePrincipalArgs, app *azuread.Application,
	parent pulumi.ResourceOption) ([3]*azuread.ApplicationPassword, error) {
	var out [3]*azuread.ApplicationPassword
	newest, previous, err := SecretSchedule(args.Now, args.SecretRotationDays)
	if err != nil {
		return out, fmt.Errorf("service principal %s: %w", args.DisplayName, err)
	}
	bySlot := map[string]*azuread.ApplicationPassword{}
	for _, slot := range []SecretSlot{newest, previous} {
		pw, err := azuread.NewApplicationPassword(ctx, name+"-secret-"+slot.Name, &azuread.ApplicationPasswordArgs{
			ApplicationId:     app.ID(),
			DisplayName:       pulumi.String(args.DisplayName + " secret " + slot.Name),
			EndDate:           pulumi.String(slot.End.Format(time.RFC3339)),
			RotateWhenChanged: pulumi.StringMap{"periodStart": pulumi.String(slot.Keeper())},
		}, parent)
		if err != nil {
			return out, fmt.Errorf("creating client secret %s of %s: %w", slot.Name, args.DisplayName, err)
		}
		bySlot[slot.Name] = pw
	}
	return [3]*azuread.ApplicationPassword{bySlot[newest.Name], bySlot["a"], bySlot["b"]}, nil
}
