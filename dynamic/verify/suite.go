// This file runs every check against one stack: Env says how to reach the clouds (real clients in the
// command, local stand-ins in tests), Run returns one Result per check, in the guide's order.
package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// CheckTimeout bounds each check, so that an unreachable endpoint fails its check instead of stalling the run.
const CheckTimeout = 3 * time.Minute

// Env is how the checks reach the stack.
type Env struct {
	// Resolver answers the DNS check; net.DefaultResolver on a host inside the VNet.
	Resolver Resolver
	// Operator is the credential that reads and rotates the key: the operator's own (azidentity's default
	// chain), which holds a crypto role on the HSM.
	Operator azcore.TokenCredential
	// PrincipalCredential authenticates as the guide's service principal; nil means azidentity's
	// ClientSecretCredential with the stack's client ID, tenant and secret.
	PrincipalCredential func(sp ServicePrincipal) (azcore.TokenCredential, error)
	// HSM are the data-plane client options.
	HSM hsm.Options
	// OpenDB opens a database; oracle.Open (godror) in the command, sqlmock in tests.
	OpenDB oracle.Opener
	// Propagation bounds the retries of the round trip while Entra ID and RBAC catch up with a fresh stack;
	// its What is set per call. The zero value tries once.
	Propagation hsm.Retry
	// Rotate opts in to the rotation check, which creates a new key version.
	Rotate bool
	// Progress, when set, receives a line as each check starts.
	Progress func(string)
}

// Run runs every check against s and returns their results: DNS, per database tablespaces and keystore, key,
// the service principal's round trip and refusals, rotation, security domain.
func Run(ctx context.Context, s Stack, env Env) []Result {
	var results []Result
	step := func(what string, check func(context.Context) Result) {
		if env.Progress != nil {
			env.Progress("checking " + what)
		}
		cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
		defer cancel()
		results = append(results, check(cctx))
	}

	step("dns", func(ctx context.Context) Result {
		return CheckDNS(ctx, env.Resolver, s.HsmHost(), s.PrivateEndpointIP)
	})
	for _, d := range s.Databases {
		results = append(results, runDatabase(ctx, d, env)...)
	}

	operator, err := hsm.NewKeysClient(s.HsmURI, env.Operator, env.HSM)
	step("key", func(ctx context.Context) Result {
		if err != nil {
			return failed("key "+s.Key.Name, "Test 3", "%v", err)
		}
		return CheckKey(ctx, operator, s.Key)
	})

	results = append(results, runPrincipal(ctx, s, env)...)

	step("rotation", func(ctx context.Context) Result {
		if err != nil {
			return failed("rotation "+s.Key.Name, "Test 5", "%v", err)
		}
		return CheckRotation(ctx, operator, s.Key, env.Rotate)
	})
	step("security domain", func(context.Context) Result {
		return CheckSecurityDomain(s.SecurityDomainPath, s.SecurityDomainKeys)
	})
	return results
}

// runDatabase connects once to d and runs the tablespace and keystore checks; a failed connection fails both.
func runDatabase(ctx context.Context, d Database, env Env) []Result {
	if env.Progress != nil {
		env.Progress("checking database " + d.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	fail := func(reason string) []Result {
		return []Result{failed("tablespaces "+d.Name, "Test 2", "%s", reason),
			failed("keystore "+d.Name, "Test 2", "%s", reason)}
	}
	switch {
	case d.ConnectString == "":
		return fail("the stack outputs carry no connection string for database " + d.Name)
	case d.Password == "":
		return fail(fmt.Sprintf("adminPasswords.%s is not set in the stack's configuration", d.Name))
	}
	conn := oracle.Conn{ConnectString: d.ConnectString, WalletDirectory: d.WalletDirectory, User: "ADMIN",
		Password: string(d.Password)}
	db, err := oracle.Connect(ctx, conn, env.OpenDB)
	if err != nil {
		return fail(fmt.Sprintf("%v; run inside the VNet or a peered network that resolves the database", err))
	}
	defer func() { _ = db.Close() }()
	ex := oracle.NewDB(db, conn.String(), nil)
	return []Result{CheckTablespaces(ctx, ex, d.Name), CheckKeystore(ctx, ex, d.Name)}
}

// runPrincipal runs the checks made as the guide's service principal.
func runPrincipal(ctx context.Context, s Stack, env Env) []Result {
	sp := s.ServicePrincipal
	who := "sp " + sp.ClientID
	if env.Progress != nil {
		env.Progress("checking least privilege of " + who)
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	fail := func(err error) []Result {
		return []Result{failed("encrypt/decrypt as "+who, "Test 4", "%v", err),
			failed("no key creation as "+who, "least privilege", "%v", err),
			failed("no role assignment as "+who, "least privilege", "%v", err)}
	}
	newCred := env.PrincipalCredential
	if newCred == nil {
		newCred = clientSecretCredential
	}
	cred, err := newCred(sp)
	if err != nil {
		return fail(fmt.Errorf("authenticating as %s: %w", who, err))
	}
	keys, err := hsm.NewKeysClient(s.HsmURI, cred, env.HSM)
	if err != nil {
		return fail(err)
	}
	roles, err := hsm.NewRBACClient(s.HsmURI, cred, env.HSM)
	if err != nil {
		return fail(err)
	}
	return []Result{
		CheckRoundTrip(ctx, keys, s.Key.Name, s.Key.Operations, who, env.Propagation),
		CheckCannotCreateKey(ctx, keys, who, sp.Role, sp.Scope),
		CheckCannotAssignRole(ctx, roles, who, sp.ObjectID),
	}
}

func clientSecretCredential(sp ServicePrincipal) (azcore.TokenCredential, error) {
	cred, err := azidentity.NewClientSecretCredential(sp.TenantID, sp.ClientID, string(sp.Secret), nil)
	if err != nil {
		return nil, fmt.Errorf("making the client secret credential of %s: %w", sp.ClientID, err)
	}
	return cred, nil
}
