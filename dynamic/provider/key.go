// This file holds Key: an RSA key in a Managed HSM, created (or adopted when an identical one exists) through
// azkeys, with its operations and rotation policy changed in place, soft-deleted on delete and purged on
// request. Every data-plane call runs under the propagation retry, because the first key call after the
// deployer's crypto role was granted is often refused (field case 5).
package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"

	"github.com/odaa-platform/adbs-hsm/internal/isoduration"
)

// Key is the resource; its methods are the CRUD the engine calls.
type Key struct{ env *env }

// KeyArgs are the inputs.
type KeyArgs struct {
	HsmURI         string             `pulumi:"hsmUri"`
	Name           string             `pulumi:"name"`
	KeyType        string             `pulumi:"keyType"`
	KeySize        int                `pulumi:"keySize,optional"`
	Operations     []string           `pulumi:"operations"`
	PurgeOnDelete  bool               `pulumi:"purgeOnDelete,optional"`
	RotationPolicy *KeyRotationPolicy `pulumi:"rotationPolicy,optional"`
}

// KeyRotationPolicy is the key's automatic rotation. Durations are ISO 8601 (P90D, P1Y, PT72H). At most one
// rotation trigger is set. There is no notification setting: Managed HSM sends no Event Grid notifications.
type KeyRotationPolicy struct {
	// ExpiryTime is applied to each new version the policy creates; at least 28 days.
	ExpiryTime string `pulumi:"expiryTime,optional"`
	// RotateAfterCreate rotates this long after a version is created; at least 7 days.
	RotateAfterCreate string `pulumi:"rotateAfterCreate,optional"`
	// RotateBeforeExpiry rotates this long before a version expires; needs ExpiryTime; at least 7 days, and at
	// least 7 days after creation.
	RotateBeforeExpiry string `pulumi:"rotateBeforeExpiry,optional"`
}

// KeyState is what the engine stores: the key as the HSM reports it.
type KeyState struct {
	KeyArgs
	// KeyID is the versioned key identifier the HSM returns, https://<hsm>/keys/<name>/<version>.
	KeyID   string `pulumi:"keyId"`
	Version string `pulumi:"version"`
}

// Annotate sets the token the program registers.
func (r *Key) Annotate(a infer.Annotator) {
	a.SetToken("hsm", "Key")
	a.Describe(r, "An RSA key in a Managed HSM, such as the TDE master key of an Autonomous Database.")
}

// Annotate documents the inputs.
func (a *KeyArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.HsmURI, "Data-plane URI of an activated Managed HSM, https://<name>.managedhsm.azure.net/.")
	an.Describe(&a.Name, "Name of the key: 1–127 letters, digits and hyphens.")
	an.Describe(&a.KeyType, "RSA-HSM (RSA is accepted and stored as RSA-HSM: every Managed HSM key is HSM-backed).")
	an.Describe(&a.KeySize, "RSA modulus in bits, required: 2048, 3072 or 4096. Autonomous Database takes 2048.")
	an.Describe(&a.Operations, "Permitted operations: encrypt, decrypt, sign, verify, wrapKey, unwrapKey.")
	an.Describe(&a.PurgeOnDelete, "Purge the key after soft-deleting it, which frees its name and destroys it "+
		"for good. Default false: the key stays recoverable for the HSM's retention period.")
	an.Describe(&a.RotationPolicy, "Automatic rotation of the key. Optional.")
}

// Annotate names the nested type and documents it.
func (rp *KeyRotationPolicy) Annotate(an infer.Annotator) {
	an.SetToken("hsm", "KeyRotationPolicy")
	an.Describe(&rp.ExpiryTime, "ISO 8601 duration after which each new version expires; at least P28D.")
	an.Describe(&rp.RotateAfterCreate, "ISO 8601 duration after creation at which to rotate; at least P7D.")
	an.Describe(&rp.RotateBeforeExpiry, "ISO 8601 duration before expiry at which to rotate; needs expiryTime.")
}

// Annotate documents the outputs.
func (s *KeyState) Annotate(an infer.Annotator) {
	an.Describe(&s.KeyID, "Versioned key identifier as the HSM returns it, https://<hsm>/keys/<name>/<version>.")
	an.Describe(&s.Version, "Version of the key the ID names.")
}

const (
	// keyTypeRSAHSM is the only key type this resource creates.
	keyTypeRSAHSM = string(azkeys.KeyTypeRSAHSM)
	// adbKeySize is the RSA size Autonomous Database lists as supported for keys in Azure.
	adbKeySize = 2048
	// deletedKeyTimeout bounds the wait for a soft-deleted key to become visible, and so purgeable.
	deletedKeyTimeout = 5 * time.Minute
	// keyRoleHint says which roles the key calls need; neither Administrator nor Crypto Officer may create keys.
	keyRoleHint = "the principal running Pulumi needs Managed HSM Crypto User at /keys or /keys/<name> to read, " +
		"create and change keys (Administrator and Crypto Officer cannot), and Crypto Officer as well to purge them"
)

var (
	keySizes      = []int{2048, 3072, 4096}
	keyOperations = []string{"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}
)

// Check validates the inputs before anything runs, so that preview already reports them. Inputs still unknown
// in a preview are not judged. keyType is normalised to RSA-HSM.
func (r *Key) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[KeyArgs], error) {
	in, failures, err := infer.DefaultCheck[KeyArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[KeyArgs]{Inputs: in, Failures: failures}, err
	}
	known := func(property string) bool { return !req.NewInputs.Get(property).HasComputed() }
	fail := func(property, format string, args ...any) {
		failures = append(failures, p.CheckFailure{Property: property, Reason: fmt.Sprintf(format, args...)})
	}

	if known("hsmUri") {
		if u, err := url.Parse(in.HsmURI); err != nil || u.Scheme != "https" || u.Host == "" {
			fail("hsmUri", "must be the HSM's https URI, https://<name>.managedhsm.azure.net/, not %q", in.HsmURI)
		} else if strings.HasSuffix(strings.ToLower(u.Hostname()), ".vault.azure.net") {
			fail("hsmUri", "%s is a Key Vault; keys of a Managed HSM live under <name>.managedhsm.azure.net", u.Host)
		}
	}
	if known("name") && !hsmrbac.IsKeyName(in.Name) {
		fail("name", "must be 1–127 letters, digits and hyphens, not %q", in.Name)
	}
	if known("keyType") {
		if strings.EqualFold(in.KeyType, "RSA") || strings.EqualFold(in.KeyType, keyTypeRSAHSM) {
			in.KeyType = keyTypeRSAHSM
		} else {
			fail("keyType", "must be RSA-HSM (or RSA): Autonomous Database takes RSA keys from Azure, not %q",
				in.KeyType)
		}
	}
	if known("keySize") {
		switch {
		case in.KeySize == 0:
			fail("keySize", "is required for an RSA key: 2048, 3072 or 4096 bits")
		case !slices.Contains(keySizes, in.KeySize):
			fail("keySize", "must be 2048, 3072 or 4096 bits for an RSA key, not %d", in.KeySize)
		case in.KeySize != adbKeySize:
			p.GetLogger(ctx).Warningf("key %s: Oracle lists RSA %d as the key size Autonomous Database accepts "+
				"from Azure; a %d-bit key may be refused as its TDE key", in.Name, adbKeySize, in.KeySize)
		}
	}
	if known("operations") {
		failures = append(failures, checkOperations(in.Operations)...)
	}
	if in.RotationPolicy != nil && known("rotationPolicy") {
		failures = append(failures, checkRotationPolicy(*in.RotationPolicy)...)
	}
	return infer.CheckResponse[KeyArgs]{Inputs: in, Failures: failures}, nil
}

func checkOperations(ops []string) []p.CheckFailure {
	if len(ops) == 0 {
		return []p.CheckFailure{{Property: "operations", Reason: "at least one operation is required, such as " +
			"wrapKey and unwrapKey for a TDE key"}}
	}
	var failures []p.CheckFailure
	seen := map[string]bool{}
	for i, op := range ops {
		property := fmt.Sprintf("operations[%d]", i)
		switch {
		case seen[op]:
			failures = append(failures, p.CheckFailure{Property: property, Reason: fmt.Sprintf("%q is listed twice",
				op)})
		case !slices.Contains(keyOperations, op):
			reason := fmt.Sprintf("%q is not one of %s", op, strings.Join(keyOperations, ", "))
			if i := slices.IndexFunc(keyOperations, func(k string) bool { return strings.EqualFold(k, op) }); i >= 0 {
				// The HSM compares operations case-sensitively.
				reason = fmt.Sprintf("%q must be spelt %q", op, keyOperations[i])
			}
			failures = append(failures, p.CheckFailure{Property: property, Reason: reason})
		}
		seen[op] = true
	}
	return failures
}

// checkRotationPolicy applies the service's rules: expiry at least 28 days; a rotation at least 7 days after
// creation and at least 7 days before expiry; one trigger only. Months count 30 days and years 365, which is
// how far an approximate check can go without a creation date.
func checkRotationPolicy(rp KeyRotationPolicy) []p.CheckFailure {
	var failures []p.CheckFailure
	fail := func(field, format string, args ...any) {
		failures = append(failures, p.CheckFailure{Property: "rotationPolicy." + field,
			Reason: fmt.Sprintf(format, args...)})
	}
	durations := map[string]time.Duration{}
	for _, f := range []struct{ name, value string }{{"expiryTime", rp.ExpiryTime},
		{"rotateAfterCreate", rp.RotateAfterCreate}, {"rotateBeforeExpiry", rp.RotateBeforeExpiry}} {
		if f.value == "" {
			continue
		}
		d, err := isoduration.Parse(f.value)
		if err != nil {
			fail(f.name, "%q is not an ISO 8601 duration such as P90D, P1Y or PT72H", f.value)
			continue
		}
		durations[f.name] = d
	}
	if len(failures) > 0 {
		return failures
	}
	const day = 24 * time.Hour
	expiry, hasExpiry := durations["expiryTime"]
	after, hasAfter := durations["rotateAfterCreate"]
	before, hasBefore := durations["rotateBeforeExpiry"]
	switch {
	case !hasExpiry && !hasAfter && !hasBefore:
		failures = append(failures, p.CheckFailure{Property: "rotationPolicy", Reason: "set expiryTime, " +
			"rotateAfterCreate or rotateBeforeExpiry, or leave rotationPolicy out"})
	case hasAfter && hasBefore:
		fail("rotateBeforeExpiry", "set either rotateAfterCreate or rotateBeforeExpiry: a policy rotates on one "+
			"trigger")
	case hasBefore && !hasExpiry:
		fail("rotateBeforeExpiry", "needs expiryTime: without an expiry there is nothing to rotate before")
	}
	if hasExpiry && expiry < 28*day {
		fail("expiryTime", "%s is shorter than the 28 days the HSM requires", rp.ExpiryTime)
	}
	if hasAfter && after < 7*day {
		fail("rotateAfterCreate", "%s is shorter than the 7 days the HSM requires", rp.RotateAfterCreate)
	}
	if hasAfter && hasExpiry && after > expiry-7*day {
		fail("rotateAfterCreate", "%s after creation is not at least 7 days before the expiry (%s): each version "+
			"would expire before it is rotated", rp.RotateAfterCreate, rp.ExpiryTime)
	}
	if hasBefore && before < 7*day {
		fail("rotateBeforeExpiry", "%s is shorter than the 7 days the HSM requires", rp.RotateBeforeExpiry)
	}
	if hasBefore && hasExpiry && expiry-before < 7*day {
		fail("rotateBeforeExpiry", "%s before an expiry of %s rotates less than 7 days after creation",
			rp.RotateBeforeExpiry, rp.ExpiryTime)
	}
	return failures
}

// Create creates the key, or adopts an existing key of the same name whose type, size and operations match
// (no new version is made). A key that differs, or a soft-deleted key holding the name, fails the create with
// what to do. Nothing is called on preview. When setting the rotation policy fails after the key exists, the
// key is kept in the state and the error returned, so that the next run updates it.
func (r *Key) Create(ctx context.Context, req infer.CreateRequest[KeyArgs]) (infer.CreateResponse[KeyState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[KeyState]{ID: keyResourceID(in.HsmURI, in.Name), Output: KeyState{KeyArgs: in}}
	if req.DryRun {
		return resp, nil
	}
	log := p.GetLogger(ctx)
	c, err := r.connect(in.HsmURI, in.Name)
	if err != nil {
		return resp, err
	}

	existing, err := c.get(ctx)
	if err != nil {
		return resp, err
	}
	var bundle azkeys.KeyBundle
	if existing != nil {
		found := keyStateOf(in, *existing)
		if diffs := mismatches(in, found.KeyArgs); len(diffs) > 0 {
			return resp, fmt.Errorf("creating %s: a key of that name already exists with %s; make the inputs "+
				"match it, choose another name, or delete it first", c, strings.Join(diffs, ", "))
		}
		log.Warningf("%s already exists with keyType %s, keySize %d and operations %v: adopting version %s "+
			"instead of creating a new version", c, found.KeyType, found.KeySize, found.Operations, found.Version)
		bundle = *existing
	} else if bundle, err = c.create(ctx, in); err != nil {
		return resp, err
	}
	resp.Output = keyStateOf(in, bundle)

	if in.RotationPolicy != nil {
		if err := c.setRotationPolicy(ctx, in.RotationPolicy); err != nil {
			return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
		}
	}
	log.Infof("%s: version %s, %s %d bits, operations %v", c, resp.Output.Version, resp.Output.KeyType,
		resp.Output.KeySize, resp.Output.Operations)
	return resp, nil
}

// Read reports the key as the HSM has it: type, size from the modulus, operations and the latest version, so
// that drift shows in the next diff. A key that is gone (deleted or purged outside Pulumi) reads as an empty
// ID. The rotation policy is read only when the state holds one: the HSM answers a default policy for keys
// that never had one, which would otherwise show as drift. An import (an ID alone) takes its inputs from the
// key.
func (r *Key) Read(ctx context.Context, req infer.ReadRequest[KeyArgs, KeyState]) (
	infer.ReadResponse[KeyArgs, KeyState], error) {
	st, inputs := req.State, req.Inputs
	if st.HsmURI == "" || st.Name == "" {
		uri, name, err := parseKeyResourceID(req.ID)
		if err != nil {
			return infer.ReadResponse[KeyArgs, KeyState]{}, err
		}
		st.HsmURI, st.Name = uri, name
	}
	c, err := r.connect(st.HsmURI, st.Name)
	if err != nil {
		return infer.ReadResponse[KeyArgs, KeyState]{}, err
	}
	bundle, err := c.get(ctx)
	if err != nil {
		return infer.ReadResponse[KeyArgs, KeyState]{}, err
	}
	if bundle == nil {
		p.GetLogger(ctx).Warningf("%s no longer exists: it was deleted outside this stack", c)
		return infer.ReadResponse[KeyArgs, KeyState]{}, nil
	}
	next := keyStateOf(st.KeyArgs, *bundle)
	if st.RotationPolicy != nil {
		if next.RotationPolicy, err = c.rotationPolicy(ctx); err != nil {
			return infer.ReadResponse[KeyArgs, KeyState]{}, err
		}
	}
	if inputs.Name == "" {
		inputs = next.KeyArgs
	}
	return infer.ReadResponse[KeyArgs, KeyState]{ID: keyResourceID(st.HsmURI, st.Name), Inputs: inputs,
		State: next}, nil
}

// Diff plans a replacement for a new HSM, name, type or size, which a key cannot change; deleting first when
// the name stays, since one name holds one key. Operations and the rotation policy change in place;
// purgeOnDelete changes only the state.
func (r *Key) Diff(ctx context.Context, req infer.DiffRequest[KeyArgs, KeyState]) (infer.DiffResponse, error) {
	old, in := req.State.KeyArgs, req.Inputs
	diff := map[string]p.PropertyDiff{}
	replace := func(property string) { diff[property] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true} }
	sameHSM := strings.TrimSuffix(old.HsmURI, "/") == strings.TrimSuffix(in.HsmURI, "/")
	// Key Vault names are case-insensitive: another case names the same key.
	sameName := strings.EqualFold(old.Name, in.Name)
	if !sameHSM {
		replace("hsmUri")
	}
	if !sameName {
		replace("name")
	}
	if normalKeyType(old.KeyType) != normalKeyType(in.KeyType) {
		replace("keyType")
	}
	if old.KeySize != in.KeySize {
		replace("keySize")
	}
	if !sameOperations(old.Operations, in.Operations) {
		diff["operations"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	switch {
	case old.RotationPolicy == nil && in.RotationPolicy != nil:
		diff["rotationPolicy"] = p.PropertyDiff{Kind: p.Add, InputDiff: true}
	case old.RotationPolicy != nil && in.RotationPolicy == nil:
		diff["rotationPolicy"] = p.PropertyDiff{Kind: p.Delete, InputDiff: true}
	case old.RotationPolicy != nil && *old.RotationPolicy != *in.RotationPolicy:
		diff["rotationPolicy"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if old.PurgeOnDelete != in.PurgeOnDelete {
		diff["purgeOnDelete"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}

	replacing := slices.ContainsFunc([]string{"hsmUri", "name", "keyType", "keySize"}, func(k string) bool {
		_, ok := diff[k]
		return ok
	})
	resp := infer.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff,
		DeleteBeforeReplace: replacing && sameHSM && sameName}
	if resp.DeleteBeforeReplace && !old.PurgeOnDelete {
		p.GetLogger(ctx).Warningf("replacing key %s deletes it first, and without purgeOnDelete in the current "+
			"state the soft-deleted key keeps its name reserved, so the new key cannot be created: apply "+
			"purgeOnDelete first (it destroys the old key and whatever it encrypts) or choose another name", old.Name)
	}
	return resp, nil
}

// Update changes the operations (of the latest version) and the rotation policy in place; a policy removed
// from the inputs is cleared on the key. A change of purgeOnDelete alone makes no call, nor does a preview.
func (r *Key) Update(ctx context.Context, req infer.UpdateRequest[KeyArgs, KeyState]) (
	infer.UpdateResponse[KeyState], error) {
	old, in := req.State, req.Inputs
	resp := infer.UpdateResponse[KeyState]{Output: KeyState{KeyArgs: in, KeyID: old.KeyID, Version: old.Version}}
	resp.Output.KeyType, resp.Output.KeySize = old.KeyType, old.KeySize
	opsChanged := !sameOperations(old.Operations, in.Operations)
	policyChanged := !samePolicy(old.RotationPolicy, in.RotationPolicy)
	if req.DryRun || !opsChanged && !policyChanged {
		return resp, nil
	}
	c, err := r.connect(in.HsmURI, in.Name)
	if err != nil {
		return resp, err
	}

	// On failure the engine keeps the old state, so the next run repeats both calls; both are idempotent.
	if opsChanged {
		bundle, err := c.setOperations(ctx, in.Operations)
		if err != nil {
			return resp, err
		}
		resp.Output = keyStateOf(in, bundle)
	}
	if policyChanged {
		if err := c.setRotationPolicy(ctx, in.RotationPolicy); err != nil {
			return resp, err
		}
	}
	return resp, nil
}

// Delete soft-deletes the key; a key already gone is success with a warning. With purgeOnDelete it then waits
// for the deleted key to show and purges it, also when an earlier delete left it soft-deleted.
func (r *Key) Delete(ctx context.Context, req infer.DeleteRequest[KeyState]) (infer.DeleteResponse, error) {
	st := req.State
	log := p.GetLogger(ctx)
	c, err := r.connect(st.HsmURI, st.Name)
	if err != nil {
		return infer.DeleteResponse{}, err
	}

	deleted, err := c.softDelete(ctx)
	switch {
	case hsm.IsNotFound(err) && st.PurgeOnDelete:
		found, err := c.deletedKeyExists(ctx)
		if err != nil {
			return infer.DeleteResponse{}, err
		}
		if !found {
			log.Warningf("%s was already gone: nothing to delete or purge", c)
			return infer.DeleteResponse{}, nil
		}
	case hsm.IsNotFound(err):
		log.Warningf("%s was already gone: nothing to delete", c)
		return infer.DeleteResponse{}, nil
	case err != nil:
		return infer.DeleteResponse{}, err
	}

	if !st.PurgeOnDelete {
		log.Warningf("%s is soft-deleted, not destroyed: it stays recoverable %s, and its name stays reserved "+
			"until then or until it is purged", c, retentionOf(deleted))
		return infer.DeleteResponse{}, nil
	}
	if err := c.purge(ctx); err != nil {
		return infer.DeleteResponse{}, err
	}
	log.Infof("%s is purged: it cannot be recovered", c)
	return infer.DeleteResponse{}, nil
}

// keyClient is one key of one HSM, reached through azkeys; its methods are the data-plane calls, each under
// the propagation retry. It prints itself for messages.
type keyClient struct {
	env    *env
	client *azkeys.Client
	hsm    string
	name   string
}

func (r *Key) connect(hsmURI, name string) (*keyClient, error) {
	cred, err := r.env.credential()
	if err != nil {
		return nil, err
	}
	client, err := hsm.NewKeysClient(hsmURI, cred, r.env.opts.HSM)
	if err != nil {
		return nil, err
	}
	return &keyClient{env: r.env, client: client, hsm: keyHSMName(hsmURI), name: name}, nil
}

func (c *keyClient) String() string { return fmt.Sprintf("key %s in managed HSM %s", c.name, c.hsm) }

// call runs fn under the bounded retry for 401/403 answers while a new role propagates. A NotActivated or
// NetworkClosed answer is never retried, and is explained; past the bound the last error is kept, with the
// roles the call needs.
func (c *keyClient) call(ctx context.Context, what string, fn func(context.Context) error) error {
	what = what + " " + c.String()
	err := c.env.retry(ctx, what).Do(ctx, fn)
	switch {
	case err == nil:
		return nil
	case hsm.Classify(err) == hsm.NotYetPropagated:
		// Do only returns such an error past its bound, already prefixed with what; the service's answer spans
		// several lines, so the hint follows on its own.
		return fmt.Errorf("%w\n%s", err, keyRoleHint)
	}
	return fmt.Errorf("%s: %w", what, hsm.Explain(err, c.hsm))
}

// get returns the latest version of the key, nil when there is none.
func (c *keyClient) get(ctx context.Context) (*azkeys.KeyBundle, error) {
	var bundle azkeys.KeyBundle
	err := c.call(ctx, "reading", func(ctx context.Context) error {
		resp, err := c.client.GetKey(ctx, c.name, "", nil)
		bundle = resp.KeyBundle
		return err
	})
	if hsm.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &bundle, nil
}

func (c *keyClient) create(ctx context.Context, in KeyArgs) (azkeys.KeyBundle, error) {
	size := int32(in.KeySize)
	params := azkeys.CreateKeyParameters{Kty: new(azkeys.KeyTypeRSAHSM), KeySize: &size,
		KeyOps: operationsOf(in.Operations)}
	var bundle azkeys.KeyBundle
	err := c.call(ctx, "creating", func(ctx context.Context) error {
		resp, err := c.client.CreateKey(ctx, c.name, params, nil)
		bundle = resp.KeyBundle
		return err
	})
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusConflict {
		return bundle, fmt.Errorf("creating %s: a soft-deleted key holds the name %s until the HSM's retention "+
			"period ends: recover it (az keyvault key recover --hsm-name %s --name %s) and adopt it, purge it "+
			"(az keyvault key purge, with Crypto Officer), or choose another name: %w", c, c.name, c.hsm, c.name,
			re)
	}
	return bundle, err
}

// setOperations replaces the operations of the latest version.
func (c *keyClient) setOperations(ctx context.Context, ops []string) (azkeys.KeyBundle, error) {
	var bundle azkeys.KeyBundle
	err := c.call(ctx, "changing the operations of", func(ctx context.Context) error {
		resp, err := c.client.UpdateKey(ctx, c.name, "", azkeys.UpdateKeyParameters{KeyOps: operationsOf(ops)}, nil)
		bundle = resp.KeyBundle
		return err
	})
	return bundle, err
}

// setRotationPolicy writes rp; nil writes an empty policy, which stops rotation and expiry of new versions.
func (c *keyClient) setRotationPolicy(ctx context.Context, rp *KeyRotationPolicy) error {
	policy := azkeys.KeyRotationPolicy{Attributes: &azkeys.KeyRotationPolicyAttributes{},
		LifetimeActions: []*azkeys.LifetimeAction{}}
	if rp != nil {
		if rp.ExpiryTime != "" {
			policy.Attributes.ExpiryTime = &rp.ExpiryTime
		}
		trigger := &azkeys.LifetimeActionTrigger{}
		if rp.RotateAfterCreate != "" {
			trigger.TimeAfterCreate = &rp.RotateAfterCreate
		}
		if rp.RotateBeforeExpiry != "" {
			trigger.TimeBeforeExpiry = &rp.RotateBeforeExpiry
		}
		if trigger.TimeAfterCreate != nil || trigger.TimeBeforeExpiry != nil {
			policy.LifetimeActions = append(policy.LifetimeActions, &azkeys.LifetimeAction{Trigger: trigger,
				Action: &azkeys.LifetimeActionType{Type: new(azkeys.KeyRotationPolicyActionRotate)}})
		}
	}
	return c.call(ctx, "setting the rotation policy of", func(ctx context.Context) error {
		_, err := c.client.UpdateKeyRotationPolicy(ctx, c.name, policy, nil)
		return err
	})
}

// rotationPolicy reads the policy back; nil when it neither rotates nor expires versions.
func (c *keyClient) rotationPolicy(ctx context.Context) (*KeyRotationPolicy, error) {
	var policy azkeys.KeyRotationPolicy
	err := c.call(ctx, "reading the rotation policy of", func(ctx context.Context) error {
		resp, err := c.client.GetKeyRotationPolicy(ctx, c.name, nil)
		policy = resp.KeyRotationPolicy
		return err
	})
	if err != nil {
		return nil, err
	}
	var rp KeyRotationPolicy
	if policy.Attributes != nil && policy.Attributes.ExpiryTime != nil {
		rp.ExpiryTime = *policy.Attributes.ExpiryTime
	}
	for _, a := range policy.LifetimeActions {
		if a == nil || a.Action == nil || a.Action.Type == nil || a.Trigger == nil ||
			!strings.EqualFold(string(*a.Action.Type), string(azkeys.KeyRotationPolicyActionRotate)) {
			continue
		}
		rp.RotateAfterCreate = deref(a.Trigger.TimeAfterCreate)
		rp.RotateBeforeExpiry = deref(a.Trigger.TimeBeforeExpiry)
	}
	if rp == (KeyRotationPolicy{}) {
		return nil, nil
	}
	return &rp, nil
}

func (c *keyClient) softDelete(ctx context.Context) (azkeys.DeletedKey, error) {
	var deleted azkeys.DeletedKey
	err := c.call(ctx, "deleting", func(ctx context.Context) error {
		resp, err := c.client.DeleteKey(ctx, c.name, nil)
		deleted = resp.DeletedKey
		return err
	})
	return deleted, err
}

func (c *keyClient) deletedKeyExists(ctx context.Context) (bool, error) {
	err := c.call(ctx, "looking for the deleted", func(ctx context.Context) error {
		_, err := c.client.GetDeletedKey(ctx, c.name, nil)
		return err
	})
	if hsm.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// purge waits until the soft-deleted key is visible (deletion completes asynchronously), then purges it.
func (c *keyClient) purge(ctx context.Context) error {
	w := c.env.wait(ctx, "soft deletion of "+c.String(), deletedKeyTimeout)
	err := w.Poll(ctx, func(ctx context.Context) (bool, time.Duration, error) {
		found, err := c.deletedKeyExists(ctx)
		return found, 0, err
	})
	if err != nil {
		return fmt.Errorf("purging %s: %w", c, err)
	}
	return c.call(ctx, "purging", func(ctx context.Context) error {
		_, err := c.client.PurgeDeletedKey(ctx, c.name, nil)
		return err
	})
}

// keyStateOf is the state for inputs in and the key the HSM returned. Operations keep the order of the
// inputs when they are the same set, so that the order the HSM answers in is no drift.
func keyStateOf(in KeyArgs, b azkeys.KeyBundle) KeyState {
	st := KeyState{KeyArgs: in}
	if b.Key == nil {
		return st
	}
	k := b.Key
	if k.Kty != nil {
		st.KeyType = normalKeyType(string(*k.Kty))
	}
	st.KeySize = new(big.Int).SetBytes(k.N).BitLen()
	var ops []string
	for _, op := range k.KeyOps {
		if op != nil {
			ops = append(ops, string(*op))
		}
	}
	if !sameOperations(ops, in.Operations) {
		st.Operations = ops
	}
	if k.KID != nil {
		st.KeyID = string(*k.KID)
		st.Version = k.KID.Version()
	}
	return st
}

// mismatches names each way the key found differs from the inputs.
func mismatches(want, found KeyArgs) []string {
	var out []string
	if normalKeyType(found.KeyType) != normalKeyType(want.KeyType) {
		out = append(out, fmt.Sprintf("keyType %s (not %s)", found.KeyType, want.KeyType))
	}
	if found.KeySize != want.KeySize {
		out = append(out, fmt.Sprintf("keySize %d (not %d)", found.KeySize, want.KeySize))
	}
	if !sameOperations(found.Operations, want.Operations) {
		out = append(out, fmt.Sprintf("operations %v (not %v)", found.Operations, want.Operations))
	}
	return out
}

// normalKeyType folds RSA into RSA-HSM: a Managed HSM stores every RSA key in the HSM.
func normalKeyType(kty string) string {
	if strings.EqualFold(kty, "RSA") || strings.EqualFold(kty, keyTypeRSAHSM) {
		return keyTypeRSAHSM
	}
	return kty
}

func sameOperations(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func samePolicy(a, b *KeyRotationPolicy) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func operationsOf(ops []string) []*azkeys.KeyOperation {
	out := make([]*azkeys.KeyOperation, len(ops))
	for i, op := range ops {
		out[i] = new(azkeys.KeyOperation(op))
	}
	return out
}

// keyResourceID is the key's versionless identifier, https://<hsm>/keys/<name>, which stays the same across
// versions and imports the key.
func keyResourceID(hsmURI, name string) string {
	return strings.TrimSuffix(hsmURI, "/") + "/keys/" + name
}

// parseKeyResourceID splits an ID made by keyResourceID (or a versioned key ID) into HSM URI and key name.
func parseKeyResourceID(id string) (string, string, error) {
	u, err := url.Parse(id)
	if err == nil && u.Scheme == "https" && u.Host != "" {
		segs := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(segs) >= 2 && segs[0] == "keys" && hsmrbac.IsKeyName(segs[1]) {
			return u.Scheme + "://" + u.Host + "/", segs[1], nil
		}
	}
	return "", "", fmt.Errorf("reading key %q: the ID must be https://<hsm>.managedhsm.azure.net/keys/<name>", id)
}

// keyHSMName is the HSM's name for messages: the first label of its URI's host.
func keyHSMName(hsmURI string) string {
	u, err := url.Parse(hsmURI)
	switch {
	case err != nil || u.Host == "":
		return hsmURI
	case net.ParseIP(u.Hostname()) != nil:
		return u.Host
	}
	return strings.SplitN(u.Hostname(), ".", 2)[0]
}

// retentionOf says until when a deleted key can be recovered, as far as the answer tells.
func retentionOf(d azkeys.DeletedKey) string {
	switch {
	case d.ScheduledPurgeDate != nil:
		return "until " + d.ScheduledPurgeDate.UTC().Format(time.RFC3339)
	case d.Attributes != nil && d.Attributes.RecoverableDays != nil:
		return fmt.Sprintf("for %d days", *d.Attributes.RecoverableDays)
	}
	return "for the HSM's soft-delete retention period"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
