// This file holds PrivateDnsPair: the OCI private zones that make the HSM resolve privately from the database's VCN.
package components

import (
	"fmt"

	"github.com/pulumi/pulumi-oci/sdk/v2/go/oci/core"
	"github.com/pulumi/pulumi-oci/sdk/v2/go/oci/database"
	"github.com/pulumi/pulumi-oci/sdk/v2/go/oci/dns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PrivateDnsPairType is the type token of PrivateDnsPair.
const PrivateDnsPairType = typePrefix + "PrivateDnsPair"

// PrivateDnsPairArgs say which name to publish, where it points and in which OCI private view.
type PrivateDnsPairArgs struct {
	// HsmName is the record name in both zones. Required.
	HsmName string
	// DNSSuffix, "managedhsm.azure.net": the zones are "privatelink.<suffix>" and "<suffix>". Required.
	DNSSuffix string
	// PrivateEndpointIP is the address both records answer. Required.
	PrivateEndpointIP pulumi.StringInput
	// TTL of the records in seconds. Required.
	TTL int
	// ViewID of the OCI private view. Optional: by default, the default view of the DNS resolver attached to the
	// VCN of DatabaseOcid's subnet, the view that the database's own lookups go through.
	ViewID pulumi.StringInput
	// CompartmentID for the zones. Optional: by default, DatabaseOcid's compartment.
	CompartmentID pulumi.StringInput
	// DatabaseOcid is the OCI ID of a database in the VCN; required unless ViewID and CompartmentID are set.
	DatabaseOcid pulumi.StringInput
}

// PrivateDnsPair makes the HSM's name resolve to its private endpoint from inside the database's OCI VCN: the
// two private zones the database's resolver consults, each with an A record for the HSM.
type PrivateDnsPair struct {
	pulumi.ResourceState

	ViewID pulumi.StringOutput `pulumi:"viewId"`
	// Fqdns are the names published, privatelink first.
	Fqdns pulumi.StringArrayOutput `pulumi:"fqdns"`
	// Records are the record sets, for ordering work that needs the names to resolve.
	Records []pulumi.Resource
}

// NewPrivateDnsPair creates the zones and records.
func NewPrivateDnsPair(ctx *pulumi.Context, name string, args *PrivateDnsPairArgs,
	opts ...pulumi.ResourceOption) (*PrivateDnsPair, error) {
	if args == nil {
		return nil, fmt.Errorf("private DNS pair %s: %w", name, errNilArgs)
	}
	if args.ViewID == nil || args.CompartmentID == nil {
		if args.DatabaseOcid == nil {
			return nil, fmt.Errorf("private DNS pair %s: DatabaseOcid is required to find the view or compartment",
				name)
		}
	}
	comp := &PrivateDnsPair{}
	if err := ctx.RegisterComponentResource(PrivateDnsPairType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("registering OCI private DNS pair component %s: %w", name, err)
	}
	parent := pulumi.Parent(comp)

	viewID, compartmentID := args.ViewID, args.CompartmentID
	if viewID == nil || compartmentID == nil {
		found, foundCompartment := discoverView(ctx, args.DatabaseOcid)
		if viewID == nil {
			viewID = found
		}
		if compartmentID == nil {
			compartmentID = foundCompartment
		}
	}
	view := nonEmpty("OCI private view of the database's VCN", viewID.ToStringOutput())

	zones := []struct{ suffix, label string }{
		{"privatelink." + args.DNSSuffix, "privatelink"},
		{args.DNSSuffix, "public-name"},
	}
	var fqdns pulumi.StringArray
	for _, z := range zones {
		zone, err := dns.NewZone(ctx, name+"-zone-"+z.label, &dns.ZoneArgs{
			Name:          pulumi.String(z.suffix),
			CompartmentId: compartmentID,
			ZoneType:      pulumi.String("PRIMARY"),
			Scope:         pulumi.String("PRIVATE"),
			ViewId:        view,
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating OCI private zone %s: %w", z.suffix, err)
		}
		// Items are always given: an rrset created without them deletes the records already there.
		fqdn := args.HsmName + "." + z.suffix
		rrset, err := dns.NewRrset(ctx, name+"-a-"+z.label, &dns.RrsetArgs{
			ZoneNameOrId: zone.ID(),
			Domain:       pulumi.String(fqdn),
			Rtype:        pulumi.String("A"),
			Scope:        pulumi.String("PRIVATE"),
			ViewId:       view,
			Items: dns.RrsetItemArray{&dns.RrsetItemArgs{
				Domain: pulumi.String(fqdn),
				Rtype:  pulumi.String("A"),
				Rdata:  args.PrivateEndpointIP,
				Ttl:    pulumi.Int(args.TTL),
			}},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating A record %s: %w", fqdn, err)
		}
		comp.Records = append(comp.Records, rrset)
		fqdns = append(fqdns, pulumi.String(fqdn))
	}

	comp.ViewID = view
	comp.Fqdns = fqdns.ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"viewId": comp.ViewID, "fqdns": comp.Fqdns}); err != nil {
		return nil, fmt.Errorf("registering outputs of private DNS pair %s: %w", name, err)
	}
	return comp, nil
}

// discoverView follows the database to its subnet, the subnet to its VCN, the VCN to its DNS resolver and the
// resolver to its default private view; it also returns the database's compartment.
func discoverView(ctx *pulumi.Context, databaseOcid pulumi.StringInput) (pulumi.StringOutput, pulumi.StringOutput) {
	db := database.LookupAutonomousDatabaseOutput(ctx, database.LookupAutonomousDatabaseOutputArgs{
		AutonomousDatabaseId: databaseOcid,
	})
	subnet := core.LookupSubnetOutput(ctx, core.LookupSubnetOutputArgs{
		SubnetId: nonEmpty("OCI subnet of the database", db.SubnetId()),
	})
	assoc := core.GetCnvDnsResolverAssociationOutput(ctx, core.GetCnvDnsResolverAssociationOutputArgs{
		VcnId: nonEmpty("OCI VCN of the database's subnet", subnet.VcnId()),
	})
	resolver := dns.LookupResolverOutput(ctx, dns.LookupResolverOutputArgs{
		ResolverId: nonEmpty("DNS resolver of the database's VCN", assoc.DnsResolverId()),
		Scope:      pulumi.String("PRIVATE"),
	})
	return resolver.DefaultViewId(), nonEmpty("compartment of the database", db.CompartmentId())
}
