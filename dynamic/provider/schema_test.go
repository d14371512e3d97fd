package provider

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// schemaResource is the part of a Pulumi package schema this test reads.
type schemaResource struct {
	InputProperties map[string]json.RawMessage `json:"inputProperties"`
	RequiredInputs  []string                   `json:"requiredInputs"`
	Properties      map[string]json.RawMessage `json:"properties"`
}

// recorder is a mock monitor that keeps the inputs of every registration.
type recorder struct {
	mu     sync.Mutex
	inputs map[string]resource.PropertyMap
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inputs[args.TypeToken] = args.Inputs
	return args.Name + "-id", args.Inputs, nil
}

func (r *recorder) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// TestProgramDeclarationsMatchThePluginSchema checks that the program side (package odaa) sends exactly the
// inputs the plugin declares and reads only outputs the plugin returns, so that the two cannot drift apart.
func TestProgramDeclarationsMatchThePluginSchema(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	got, err := env.server.GetSchema(p.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Resources map[string]schemaResource `json:"resources"`
	}
	if err := json.Unmarshal([]byte(got.Schema), &schema); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{inputs: map[string]resource.PropertyMap{}}
	outputs := map[string]any{}
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		s := pulumi.String("x")
		sd, err := odaa.NewSecurityDomain(ctx, "sd", &odaa.SecurityDomainArgs{HsmURI: s, HsmResourceID: s,
			Certificates: pulumi.StringArray{s}, CertificateCount: pulumi.Int(3), KeyDirectory: s,
			Quorum: pulumi.Int(2), OutputPath: s, RequireBackupOnDelete: pulumi.Bool(true)})
		if err != nil {
			return err
		}
		outputs[odaa.SecurityDomainType] = sd
		ra, err := odaa.NewRoleAssignment(ctx, "ra", &odaa.RoleAssignmentArgs{HsmURI: s, Role: s, Scope: s,
			PrincipalID: s})
		if err != nil {
			return err
		}
		outputs[odaa.RoleAssignmentType] = ra
		key, err := odaa.NewKey(ctx, "key", &odaa.KeyArgs{HsmURI: s, Name: s, KeyType: s, KeySize: pulumi.Int(2048),
			Operations: pulumi.StringArray{s}, PurgeOnDelete: pulumi.Bool(true),
			RotationPolicy: &odaa.KeyRotationPolicyArgs{ExpiryTime: s, RotateAfterCreate: s, RotateBeforeExpiry: s}})
		if err != nil {
			return err
		}
		outputs[odaa.KeyType] = key
		lock, err := odaa.NewNetworkLock(ctx, "lock", &odaa.NetworkLockArgs{HsmResourceID: s,
			PublicNetworkAccess: s, DefaultAction: s, Bypass: s})
		if err != nil {
			return err
		}
		outputs[odaa.NetworkLockType] = lock
		guard, err := odaa.NewNameGuard(ctx, "guard", &odaa.NameGuardArgs{SubscriptionID: s, Location: s, Name: s,
			PurgeOnDelete: pulumi.Bool(true), PurgeProtection: pulumi.Bool(false)})
		if err != nil {
			return err
		}
		outputs[odaa.NameGuardType] = guard
		ek, err := odaa.NewEncryptionKey(ctx, "ek", &odaa.EncryptionKeyArgs{DatabaseOcid: s, VaultURI: s, KeyName: s,
			RevertOnDelete: pulumi.Bool(false)})
		if err != nil {
			return err
		}
		outputs[odaa.EncryptionKeyType] = ek
		conn := odaa.Connection{ConnectString: s, WalletDirectory: s, User: s, Password: s}
		acl, err := odaa.NewNetworkACL(ctx, "acl", &odaa.NetworkACLArgs{Connection: conn, Host: s,
			LowerPort: pulumi.Int(443), UpperPort: pulumi.Int(443), Principal: s, Privileges: pulumi.StringArray{s}})
		if err != nil {
			return err
		}
		outputs[odaa.NetworkACLType] = acl
		prop, err := odaa.NewDatabaseProperty(ctx, "prop", &odaa.DatabasePropertyArgs{Connection: conn, Name: s,
			Value: s, RestartOnChange: pulumi.Bool(true), DatabaseOcid: s})
		if err != nil {
			return err
		}
		outputs[odaa.DatabasePropertyType] = prop
		auth, err := odaa.NewPrincipalAuth(ctx, "auth", &odaa.PrincipalAuthArgs{Connection: conn, Provider: s,
			TenantID: s})
		if err != nil {
			return err
		}
		outputs[odaa.PrincipalAuthType] = auth
		check, err := odaa.NewKeystoreCheck(ctx, "check", &odaa.KeystoreCheckArgs{Connection: conn, KeyID: s})
		if err != nil {
			return err
		}
		outputs[odaa.KeystoreCheckType] = check
		return nil
	}, pulumi.WithMocks("project", "stack", rec))
	if err != nil {
		t.Fatal(err)
	}

	for token, res := range outputs {
		t.Run(token, func(t *testing.T) {
			declared, ok := schema.Resources[token]
			if !ok {
				t.Fatalf("the plugin serves no %s", token)
			}
			sent := rec.inputs[token]
			for key := range sent {
				if _, ok := declared.InputProperties[string(key)]; !ok {
					t.Errorf("the program sends input %q, which the plugin does not declare", key)
				}
			}
			for _, required := range declared.RequiredInputs {
				if _, ok := sent[resource.PropertyKey(required)]; !ok {
					t.Errorf("the plugin requires input %q, which the program does not send", required)
				}
			}
			if raw, ok := declared.InputProperties["password"]; ok {
				var prop struct {
					Secret bool `json:"secret"`
				}
				if err := json.Unmarshal(raw, &prop); err != nil || !prop.Secret {
					t.Errorf("input password is not declared secret: %s", raw)
				}
			}
			for _, name := range outputTags(res) {
				if _, ok := declared.Properties[name]; !ok {
					t.Errorf("the program reads output %q, which the plugin does not return (it has %s)", name,
						strings.Join(keys(declared.Properties), ", "))
				}
			}
		})
	}
}

// outputTags lists the `pulumi:"..."` names of a program-side resource's output fields.
func outputTags(res any) []string {
	var names []string
	typ := reflect.TypeOf(res).Elem()
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("pulumi"); tag != "" {
			names = append(names, strings.Split(tag, ",")[0])
		}
	}
	return names
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
