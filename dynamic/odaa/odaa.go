// Package odaa declares, for Pulumi programs, the resources of this project's own provider plugin
// (pulumi-resource-odaa): the Managed HSM data plane and the Oracle SQL and OCI steps that no published
// provider performs. Each constructor registers a custom resource by type token; the plugin does the work.
//
// This package is all a program imports from the plugin side: it has no cgo and no Oracle client, so programs
// build without them.
package odaa

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Package is the plugin's package name; the engine finds "pulumi-resource-odaa" through Pulumi.yaml.
const Package = "odaa"

// Type tokens, "odaa:<module>:<Type>", one per resource the plugin serves.
const (
	SecurityDomainType   = Package + ":hsm:SecurityDomain"
	RoleAssignmentType   = Package + ":hsm:RoleAssignment"
	KeyType              = Package + ":hsm:Key"
	NetworkLockType      = Package + ":hsm:NetworkLock"
	NameGuardType        = Package + ":hsm:NameGuard"
	NetworkACLType       = Package + ":oracle:NetworkAcl"
	DatabasePropertyType = Package + ":oracle:DatabaseProperty"
	PrincipalAuthType    = Package + ":oracle:PrincipalAuth"
	EncryptionKeyType    = Package + ":oracle:EncryptionKey"
	KeystoreCheckType    = Package + ":oracle:KeystoreCheck"
)

// Connection says how the plugin reaches a database as its administrator. It is flattened into the inputs
// of every SQL resource, so that each can connect on its own.
type Connection struct {
	// ConnectString is a TNS alias (with WalletDirectory) or a full one-way TLS descriptor. Required.
	ConnectString pulumi.StringInput
	// WalletDirectory holds tnsnames.ora, sqlnet.ora and the wallet. Optional with one-way TLS.
	WalletDirectory pulumi.StringInput
	// User to connect as. Required; "ADMIN" on Autonomous Database.
	User pulumi.StringInput
	// Password of User. Required; must be a secret.
	Password pulumi.StringInput
}

func (c Connection) props(m pulumi.Map) pulumi.Map {
	m["connectString"] = c.ConnectString
	m["user"] = c.User
	m["password"] = pulumi.ToSecret(c.Password)
	if c.WalletDirectory != nil {
		m["walletDirectory"] = c.WalletDirectory
	}
	return m
}

// register is the one path by which this package registers a resource; secret outputs are named here so that
// state keeps them encrypted whatever the plugin returns.
func register(ctx *pulumi.Context, token, name string, props pulumi.Map, res pulumi.CustomResource,
	secretOutputs []string, opts []pulumi.ResourceOption) error {
	if len(secretOutputs) > 0 {
		opts = append([]pulumi.ResourceOption{pulumi.AdditionalSecretOutputs(secretOutputs)}, opts...)
	}
	return ctx.RegisterResource(token, name, props, res, opts...)
}

func optional(m pulumi.Map, key string, v pulumi.Input) {
	if v != nil {
		m[key] = v
	}
}
