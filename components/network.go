// This file holds Network: the resource group, the VNet, its two subnets and their network security groups.
package components

import (
	"fmt"

	network "github.com/pulumi/pulumi-azure-native-sdk/network/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NetworkType is the type token of Network.
const NetworkType = typePrefix + "Network"

// NetworkArgs describe the resource group, VNet and subnets of the stack. Every field is required.
type NetworkArgs struct {
	ResourceGroupName string
	Location          string
	Tags              pulumi.StringMapInput
	VnetName          string
	// AddressSpace is the VNet's CIDR.
	AddressSpace string
	// DelegatedSubnetName and DelegatedSubnetPrefix describe the subnet delegated to Delegation.
	DelegatedSubnetName   string
	DelegatedSubnetPrefix string
	// Delegation is the delegated service, "Oracle.Database/networkAttachments".
	Delegation string
	// PrivateEndpointSubnetName and PrivateEndpointSubnetPrefix describe the subnet for private endpoints.
	PrivateEndpointSubnetName   string
	PrivateEndpointSubnetPrefix string
	// KeepResourceGroup keeps the resource group on destroy. Set it when the group holds something destroy
	// keeps, such as a retained HSM: deleting a group deletes everything in it. Optional, default false.
	KeepResourceGroup bool
}

// Network is a resource group holding a VNet with a delegated subnet for Oracle Database@Azure and a subnet for
// private endpoints, each behind its own network security group.
type Network struct {
	pulumi.ResourceState

	ResourceGroupName       pulumi.StringOutput `pulumi:"resourceGroupName"`
	VnetID                  pulumi.StringOutput `pulumi:"vnetId"`
	DelegatedSubnetID       pulumi.StringOutput `pulumi:"delegatedSubnetId"`
	PrivateEndpointSubnetID pulumi.StringOutput `pulumi:"privateEndpointSubnetId"`
}

// NewNetwork creates the network.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil {
		return nil, fmt.Errorf("network %s: %w", name, errNilArgs)
	}
	comp := &Network{}
	if err := ctx.RegisterComponentResource(NetworkType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("registering network component %s: %w", name, err)
	}
	parent := pulumi.Parent(comp)

	rg, err := resources.NewResourceGroup(ctx, name+"-rg", &resources.ResourceGroupArgs{
		ResourceGroupName: pulumi.String(args.ResourceGroupName),
		Location:          pulumi.String(args.Location),
		Tags:              args.Tags,
	}, parent, pulumi.RetainOnDelete(args.KeepResourceGroup))
	if err != nil {
		return nil, fmt.Errorf("creating resource group %s: %w", args.ResourceGroupName, err)
	}

	vnet, err := network.NewVirtualNetwork(ctx, name+"-vnet", &network.VirtualNetworkArgs{
		ResourceGroupName:  rg.Name,
		VirtualNetworkName: pulumi.String(args.VnetName),
		Location:           pulumi.String(args.Location),
		AddressSpace: &network.AddressSpaceArgs{
			AddressPrefixes: pulumi.StringArray{pulumi.String(args.AddressSpace)},
		},
		Tags: args.Tags,
	}, parent, pulumi.IgnoreChanges([]string{"subnets"}))
	if err != nil {
		return nil, fmt.Errorf("creating virtual network %s: %w", args.VnetName, err)
	}

	// Inside the VNet the database subnet answers SQL*Net and HTTPS (Database Actions) only. Azure's default
	// rules already refuse the internet; the deny covers the rest of the VNet, and leaves the load balancer's
	// probes (another service tag) alone.
	dbNsg, err := network.NewNetworkSecurityGroup(ctx, name+"-nsg-oracle", &network.NetworkSecurityGroupArgs{
		ResourceGroupName:        rg.Name,
		NetworkSecurityGroupName: pulumi.String("nsg-" + args.DelegatedSubnetName),
		Location:                 pulumi.String(args.Location),
		Tags:                     args.Tags,
		SecurityRules: network.SecurityRuleTypeArray{
			allowInbound("allow-sqlnet-from-vnet", 100, "1521-1522"),
			allowInbound("allow-https-from-vnet", 110, "443"),
			denyInbound("deny-other-vnet-inbound", 4000),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating network security group for %s: %w", args.DelegatedSubnetName, err)
	}

	// The private endpoint subnet admits HTTPS from the VNet (the databases, and runners placed inside it)
	// and nothing else from it.
	peNsg, err := network.NewNetworkSecurityGroup(ctx, name+"-nsg-pe", &network.NetworkSecurityGroupArgs{
		ResourceGroupName:        rg.Name,
		NetworkSecurityGroupName: pulumi.String("nsg-" + args.PrivateEndpointSubnetName),
		Location:                 pulumi.String(args.Location),
		Tags:                     args.Tags,
		SecurityRules: network.SecurityRuleTypeArray{
			allowInbound("allow-https-from-vnet", 100, "443"),
			denyInbound("deny-other-vnet-inbound", 4000),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating network security group for %s: %w", args.PrivateEndpointSubnetName, err)
	}

	delegated, err := network.NewSubnet(ctx, name+"-subnet-oracle", &network.SubnetArgs{
		ResourceGroupName:  rg.Name,
		VirtualNetworkName: vnet.Name,
		SubnetName:         pulumi.String(args.DelegatedSubnetName),
		AddressPrefix:      pulumi.String(args.DelegatedSubnetPrefix),
		Delegations: network.DelegationArray{&network.DelegationArgs{
			Name:        pulumi.String("oracle-network-attachments"),
			ServiceName: pulumi.String(args.Delegation),
		}},
		NetworkSecurityGroup: &network.NetworkSecurityGroupTypeArgs{Id: dbNsg.ID()},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating delegated subnet %s: %w", args.DelegatedSubnetName, err)
	}

	// Subnets of one VNet are created one after the other: Azure refuses concurrent writes to a VNet.
	// Network policies are enabled so that the NSG applies to the private endpoint too.
	peSubnet, err := network.NewSubnet(ctx, name+"-subnet-pe", &network.SubnetArgs{
		ResourceGroupName:              rg.Name,
		VirtualNetworkName:             vnet.Name,
		SubnetName:                     pulumi.String(args.PrivateEndpointSubnetName),
		AddressPrefix:                  pulumi.String(args.PrivateEndpointSubnetPrefix),
		PrivateEndpointNetworkPolicies: pulumi.String("Enabled"),
		NetworkSecurityGroup:           &network.NetworkSecurityGroupTypeArgs{Id: peNsg.ID()},
	}, parent, pulumi.DependsOn([]pulumi.Resource{delegated}))
	if err != nil {
		return nil, fmt.Errorf("creating private endpoint subnet %s: %w", args.PrivateEndpointSubnetName, err)
	}

	comp.ResourceGroupName = rg.Name
	comp.VnetID = vnet.ID().ToStringOutput()
	comp.DelegatedSubnetID = delegated.ID().ToStringOutput()
	comp.PrivateEndpointSubnetID = peSubnet.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"resourceGroupName":       comp.ResourceGroupName,
		"vnetId":                  comp.VnetID,
		"delegatedSubnetId":       comp.DelegatedSubnetID,
		"privateEndpointSubnetId": comp.PrivateEndpointSubnetID,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of network %s: %w", name, err)
	}
	return comp, nil
}

func allowInbound(name string, priority int, ports string) network.SecurityRuleTypeArgs {
	return network.SecurityRuleTypeArgs{
		Name:                     pulumi.String(name),
		Priority:                 pulumi.Int(priority),
		Direction:                pulumi.String("Inbound"),
		Access:                   pulumi.String("Allow"),
		Protocol:                 pulumi.String("Tcp"),
		SourceAddressPrefix:      pulumi.String("VirtualNetwork"),
		SourcePortRange:          pulumi.String("*"),
		DestinationAddressPrefix: pulumi.String("*"),
		DestinationPortRange:     pulumi.String(ports),
	}
}

func denyInbound(name string, priority int) network.SecurityRuleTypeArgs {
	return network.SecurityRuleTypeArgs{
		Name:                     pulumi.String(name),
		Priority:                 pulumi.Int(priority),
		Direction:                pulumi.String("Inbound"),
		Access:                   pulumi.String("Deny"),
		Protocol:                 pulumi.String("*"),
		SourceAddressPrefix:      pulumi.String("VirtualNetwork"),
		SourcePortRange:          pulumi.String("*"),
		DestinationAddressPrefix: pulumi.String("*"),
		DestinationPortRange:     pulumi.String("*"),
	}
}
