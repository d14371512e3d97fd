// This file holds SecurityDomain: activating a Managed HSM by downloading its security domain, keeping the file
// safe, proving the quorum, and waiting for the HSM to report itself active.
package provider

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// SecurityDomain is the resource; its methods are the CRUD the engine calls.
type SecurityDomain struct{ env *env }

// SecurityDomainArgs are the inputs.
type SecurityDomainArgs struct {
	HsmURI           string   `pulumi:"hsmUri"`
	HsmResourceID    string   `pulumi:"hsmResourceId"`
	Certificates     []string `pulumi:"certificates,optional"`
	CertificateCount int      `pulumi:"certificateCount,optional"`
	KeyDirectory     string   `pulumi:"keyDirectory,optional"`
	Quorum           int      `pulumi:"quorum"`
	OutputPath       string   `pulumi:"outputPath"`
	// RequireBackupOnDelete makes Delete fail unless the file holds a readable domain, so that the HSM, which
	// the engine deletes only after this resource, cannot go without one.
	RequireBackupOnDelete bool `pulumi:"requireBackupOnDelete,optional"`
}

// SecurityDomainState is what the engine stores.
type SecurityDomainState struct {
	SecurityDomainArgs
	ActivationStatus   string `pulumi:"activationStatus"`
	SecurityDomainPath string `pulumi:"securityDomainPath"`
	SecurityDomainJSON string `pulumi:"securityDomain" provider:"secret"`
	// WrappingCertificates are the certificates the shares are wrapped to (PEM), given or generated.
	// Optional: an HSM found already active has none, and its state must still decode for a delete.
	WrappingCertificates []string `pulumi:"wrappingCertificates,optional"`
	// PrivateKeys are the generated private keys (PEM); empty when certificates were given.
	PrivateKeys []string `pulumi:"privateKeys,optional" provider:"secret"`
	// QuorumProof summarises the proof run after the download, empty when no private keys were at hand.
	QuorumProof string `pulumi:"quorumProof"`
}

// Annotate sets the token the program registers.
func (r *SecurityDomain) Annotate(a infer.Annotator) {
	a.SetToken("hsm", "SecurityDomain")
	a.Describe(r, "The security domain of a Managed HSM, whose download activates the HSM.")
}

// WireDependencies marks the domain and the private keys secret whatever the inputs are.
func (r *SecurityDomain) WireDependencies(f infer.FieldSelector, _ *SecurityDomainArgs,
	state *SecurityDomainState) {
	f.OutputField(&state.SecurityDomainJSON).AlwaysSecret()
	f.OutputField(&state.PrivateKeys).AlwaysSecret()
}

// Check validates the inputs before anything runs, so that preview already reports them.
func (r *SecurityDomain) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[SecurityDomainArgs], error) {
	in, failures, err := infer.DefaultCheck[SecurityDomainArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[SecurityDomainArgs]{Inputs: in, Failures: failures}, err
	}
	count := in.CertificateCount
	if len(in.Certificates) > 0 {
		count = len(in.Certificates)
		holders := map[string]int{} // public key → index of the first certificate carrying it
		for i, c := range in.Certificates {
			cert, err := securitydomain.ParseCertificatePEM([]byte(c))
			if err != nil {
				failures = append(failures, p.CheckFailure{Property: fmt.Sprintf("certificates[%d]", i),
					Reason: err.Error()})
				continue
			}
			if first, seen := holders[string(cert.RawSubjectPublicKeyInfo)]; seen {
				failures = append(failures, p.CheckFailure{Property: fmt.Sprintf("certificates[%d]", i),
					Reason: fmt.Sprintf("carries the same public key as certificates[%d]: each certificate must "+
						"belong to a different key holder", first)})
				continue
			}
			holders[string(cert.RawSubjectPublicKeyInfo)] = i
		}
	} else if strings.TrimSpace(in.KeyDirectory) == "" {
		failures = append(failures, p.CheckFailure{Property: "keyDirectory",
			Reason: "a directory for generated private keys is required when no certificates are given"})
	}
	if count < 3 || count > 10 {
		failures = append(failures, p.CheckFailure{Property: "certificates",
			Reason: fmt.Sprintf("the security domain needs 3–10 certificates, not %d", count)})
	}
	if in.Quorum < 2 || in.Quorum > count {
		failures = append(failures, p.CheckFailure{Property: "quorum",
			Reason: fmt.Sprintf("must be from 2 to the certificate count (%d), not %d", count, in.Quorum)})
	}
	return infer.CheckResponse[SecurityDomainArgs]{Inputs: in, Failures: failures}, nil
}

// Create downloads the security domain unless the HSM is already active. A download that succeeded is never
// lost: whatever fails afterwards, the domain is returned in the state alongside the error.
func (r *SecurityDomain) Create(ctx context.Context, req infer.CreateRequest[SecurityDomainArgs]) (
	infer.CreateResponse[SecurityDomainState], error) {
	in := req.Inputs
	name := hsmNameOf(in)
	state := SecurityDomainState{SecurityDomainArgs: in, SecurityDomainPath: in.OutputPath}
	resp := infer.CreateResponse[SecurityDomainState]{ID: name + "-security-domain", Output: state}
	if req.DryRun {
		return resp, nil
	}
	log := p.GetLogger(ctx)
	cred, err := r.env.credential()
	if err != nil {
		return resp, err
	}

	mgmt := hsm.NewManagementClient(cred, r.env.opts.HSM)
	current, err := mgmt.Get(ctx, in.HsmResourceID)
	if err != nil {
		return resp, err
	}
	if current.Active() {
		// A download happens once per HSM; a second one is refused. What the first wrote is all there is.
		log.Warningf("managed HSM %s is already active: nothing downloaded; its security domain is wherever the "+
			"first activation put it", name)
		resp.Output.ActivationStatus = current.ActivationStatus
		return resp, nil
	}

	certs, keys, err := r.wrappingKeys(in, name)
	if err != nil {
		return resp, err
	}
	resp.Output.WrappingCertificates = pemsOf(certs)
	for _, k := range keys {
		resp.Output.PrivateKeys = append(resp.Output.PrivateKeys, string(k.keyPEM))
	}
	body, err := securitydomain.NewDownloadRequest(certs, in.Quorum)
	if err != nil {
		return resp, err
	}
	client, err := hsm.NewSecurityDomainClient(in.HsmURI, cred, r.env.opts.HSM)
	if err != nil {
		return resp, err
	}
	log.InfoStatusf("downloading the security domain of %s (quorum %d of %d)", name, in.Quorum, len(certs))
	raw, status, err := client.Download(ctx, body)
	if err != nil {
		return resp, fmt.Errorf("activating managed HSM %s: %w", name, hsm.Explain(err, name))
	}
	// From here on the domain exists only in this process and the HSM will not hand it out again: keep it in
	// the state and on disk whatever happens next, as the HSM sent it when this plugin cannot read it.
	var problems []string
	domain, err := securitydomain.Parse(raw)
	text := raw
	if err != nil {
		problems = append(problems, fmt.Sprintf("managed HSM %s returned a security domain this plugin cannot "+
			"read (%v); it is kept as received", name, err))
	} else if text, err = domain.Marshal(); err != nil {
		problems = append(problems, fmt.Sprintf("re-encoding the security domain of %s failed (%v); it is kept "+
			"as received", name, err))
		text = raw
	}
	resp.Output.SecurityDomainJSON = string(text)
	if err := writeSecretFile(in.OutputPath, text); err != nil {
		problems = append(problems, fmt.Sprintf("writing the security domain to %s failed (%v); it is kept "+
			"in the stack's state as the secret output securityDomain: recover it with `pulumi stack output "+
			"--show-secrets`", in.OutputPath, err))
	}
	if domain == nil {
		// Without a readable domain neither the quorum proof nor the activation wait can be trusted.
		return resp, infer.ResourceInitFailedError{Reasons: problems}
	}
	if len(keys) > 0 {
		proof, err := securitydomain.Prove(domain, pairsOf(keys))
		if err != nil {
			problems = append(problems, fmt.Sprintf("quorum proof failed: %v", err))
		} else {
			resp.Output.QuorumProof = proof.String()
			log.Infof("security domain of %s: %s", name, proof)
		}
	} else {
		log.Infof("security domain of %s is wrapped to the certificates given; its key holders prove the "+
			"quorum with `odaa-sd prove --domain %s --key <key file> ...`", name, in.OutputPath)
	}

	if err := r.awaitActivation(ctx, client, mgmt, in.HsmResourceID, name, status.RetryAfter); err != nil {
		problems = append(problems, err.Error())
	} else {
		resp.Output.ActivationStatus = "Active"
	}
	if len(problems) > 0 {
		return resp, infer.ResourceInitFailedError{Reasons: problems}
	}
	return resp, nil
}

// awaitActivation polls the download's pending status, then the HSM resource, until the HSM is active.
func (r *SecurityDomain) awaitActivation(ctx context.Context, client *hsm.SecurityDomainClient,
	mgmt *hsm.ManagementClient, resourceID, name string, firstPause time.Duration) error {
	w := r.env.wait(ctx, "activation of managed HSM "+name, r.env.activationTimeout())
	pause := firstPause
	return w.Poll(ctx, func(ctx context.Context) (bool, time.Duration, error) {
		if pause > 0 {
			// The download's own Retry-After paces the first poll.
			hint := pause
			pause = 0
			return false, hint, nil
		}
		st, err := client.DownloadStatus(ctx)
		if err != nil {
			return false, 0, err
		}
		if st.Failed() {
			return false, 0, fmt.Errorf("the HSM reports the download failed: %s", st.Details)
		}
		if !st.Done() {
			return false, st.RetryAfter, nil
		}
		res, err := mgmt.Get(ctx, resourceID)
		if err != nil {
			return false, 0, err
		}
		return res.Active(), 0, nil
	})
}

// Read reports the HSM's activation as Azure sees it.
func (r *SecurityDomain) Read(ctx context.Context, req infer.ReadRequest[SecurityDomainArgs, SecurityDomainState]) (
	infer.ReadResponse[SecurityDomainArgs, SecurityDomainState], error) {
	resp := infer.ReadResponse[SecurityDomainArgs, SecurityDomainState](req)
	cred, err := r.env.credential()
	if err != nil {
		return resp, err
	}
	current, err := hsm.NewManagementClient(cred, r.env.opts.HSM).Get(ctx, req.State.HsmResourceID)
	if hsm.IsNotFound(err) {
		return infer.ReadResponse[SecurityDomainArgs, SecurityDomainState]{}, nil
	}
	if err != nil {
		return resp, err
	}
	resp.State.ActivationStatus = current.ActivationStatus
	if _, err := os.Stat(req.State.SecurityDomainPath); err != nil && req.State.SecurityDomainJSON != "" {
		p.GetLogger(ctx).Warningf("the security domain file %s is missing; a copy is in the secret output "+
			"securityDomain", req.State.SecurityDomainPath)
	}
	return resp, nil
}

// Delete forgets the security domain after making sure its file is there: it is the only way to recover the
// HSM's keys, and this resource depends on the HSM, so the engine runs this Delete before the HSM's and stops
// the destroy, HSM untouched, when it fails. A missing file is written again from the copy in state. With
// RequireBackupOnDelete (set when the HSM may really be deleted) a file that cannot be had fails the delete;
// otherwise the HSM is retained and a warning says what is missing. An HSM cannot be deactivated.
func (r *SecurityDomain) Delete(ctx context.Context, req infer.DeleteRequest[SecurityDomainState]) (
	infer.DeleteResponse, error) {
	st := req.State
	name, path := hsmNameOf(st.SecurityDomainArgs), st.SecurityDomainPath
	log := p.GetLogger(ctx)
	rewritten, err := ensureBackup(path, st.SecurityDomainJSON)
	keys, keyErr := ensureKeys(st, name)
	err = errors.Join(err, keyErr)
	if err != nil {
		if st.RequireBackupOnDelete {
			return infer.DeleteResponse{}, fmt.Errorf("refusing to let managed HSM %s be deleted without a "+
				"backup of its security domain: %w", name, err)
		}
		log.Warningf("managed HSM %s is retained, but its security domain backup is not usable: %v", name, err)
	}
	if rewritten {
		log.Warningf("the security domain file %s of %s was missing; written again from the stack's state", path,
			name)
	}
	if len(keys) > 0 {
		log.Warningf("key pair files of %s were missing; written again from the stack's state: %s", name,
			strings.Join(keys, ", "))
	}
	log.Warningf("managed HSM %s stays active: a security domain cannot be withdrawn; keep %s", name, path)
	return infer.DeleteResponse{}, nil
}

// ensureBackup checks that path holds the security domain: a file this plugin can parse, or exactly the copy
// kept in state (kept as received when the plugin cannot read its format). A missing file is written from the
// kept copy, mode 0600; rewritten says so. Anything else is an error saying what to do.
func ensureBackup(path, kept string) (rewritten bool, err error) {
	if path == "" {
		return false, errors.New("the state names no security domain file")
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && kept == "":
		return false, fmt.Errorf("%s is missing and the state holds no copy (the HSM was active before this "+
			"stack downloaded anything): put the file back from where the first activation saved it", path)
	case errors.Is(err, fs.ErrNotExist):
		if err := writeSecretFile(path, []byte(kept)); err != nil {
			return false, fmt.Errorf("writing the security domain back to %s from state: %w", path, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("reading the security domain file %s: %w", path, err)
	}
	if kept != "" {
		// The state's copy is this HSM's domain: a file that differs, even a readable one, belongs to another
		// (an earlier HSM of the same name and path) and restores nothing of this one.
		if string(data) == kept {
			return false, nil
		}
		return false, fmt.Errorf("%s differs from this HSM's security domain kept in state (another HSM's?): "+
			"move it aside and delete again, and the copy from state is written there", path)
	}
	if _, perr := securitydomain.Parse(data); perr != nil {
		return false, fmt.Errorf("%s is not a readable security domain (%w) and the state holds no copy", path,
			perr)
	}
	return false, nil
}

// ensureKeys checks that the key pairs the plugin generated, which the state also holds, are still in the key
// directory: without a quorum of them the security domain opens nothing. Missing files are written back from
// state (private keys mode 0600); a file with other content is an error. It returns the files written.
func ensureKeys(st SecurityDomainState, name string) ([]string, error) {
	if len(st.PrivateKeys) == 0 {
		return nil, nil // the holders keep their keys; nothing of theirs is here to check
	}
	if len(st.WrappingCertificates) != len(st.PrivateKeys) || st.KeyDirectory == "" {
		return nil, errors.New("the state's key pairs are incomplete: recover them with `pulumi stack output " +
			"--show-secrets`")
	}
	var written []string
	for i, keyPEM := range st.PrivateKeys {
		files := []struct {
			path    string
			data    string
			private bool
		}{
			{filepath.Join(st.KeyDirectory, fmt.Sprintf("%s-sd-key%d.pem", name, i+1)), keyPEM, true},
			{filepath.Join(st.KeyDirectory, fmt.Sprintf("%s-sd-cert%d.pem", name, i+1)), st.WrappingCertificates[i],
				false},
		}
		for _, f := range files {
			old, err := os.ReadFile(f.path)
			switch {
			case err == nil && string(old) == f.data:
				continue
			case err == nil:
				return written, fmt.Errorf("%s differs from the key pair kept in state: move it aside and delete "+
					"again, and the copy from state is written there", f.path)
			case !errors.Is(err, fs.ErrNotExist):
				return written, fmt.Errorf("reading %s: %w", f.path, err)
			}
			if f.private {
				err = writeSecretFile(f.path, []byte(f.data))
			} else {
				err = writeFileAtomic(f.path, []byte(f.data), 0o644)
			}
			if err != nil {
				return written, fmt.Errorf("writing %s back from state: %w", f.path, err)
			}
			written = append(written, f.path)
		}
	}
	return written, nil
}

// Diff replaces the resource only for another HSM. Wrapping settings change in place, where Update explains
// why an active HSM cannot take them; a new output path is an update that copies the file.
func (r *SecurityDomain) Diff(_ context.Context, req infer.DiffRequest[SecurityDomainArgs, SecurityDomainState]) (
	p.DiffResponse, error) {
	in, old := req.Inputs, req.State.SecurityDomainArgs
	diff := map[string]p.PropertyDiff{}
	mark := func(name string, changed bool, kind p.DiffKind) {
		if changed {
			diff[name] = p.PropertyDiff{Kind: kind, InputDiff: true}
		}
	}
	mark("hsmUri", in.HsmURI != old.HsmURI, p.UpdateReplace)
	mark("hsmResourceId", in.HsmResourceID != old.HsmResourceID, p.UpdateReplace)
	mark("certificates", !slices.Equal(in.Certificates, old.Certificates), p.Update)
	mark("certificateCount", in.CertificateCount != old.CertificateCount, p.Update)
	mark("quorum", in.Quorum != old.Quorum, p.Update)
	mark("keyDirectory", in.KeyDirectory != old.KeyDirectory, p.Update)
	mark("outputPath", in.OutputPath != old.OutputPath, p.Update)
	mark("requireBackupOnDelete", in.RequireBackupOnDelete != old.RequireBackupOnDelete, p.Update)
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Update refuses new wrapping settings, which an active HSM cannot take (its domain is downloaded once), and
// writes the security domain kept in state to a new output path.
func (r *SecurityDomain) Update(ctx context.Context,
	req infer.UpdateRequest[SecurityDomainArgs, SecurityDomainState]) (infer.UpdateResponse[SecurityDomainState],
	error) {
	in, old := req.Inputs, req.State
	resp := infer.UpdateResponse[SecurityDomainState]{Output: old}
	name := hsmNameOf(in)
	// Certificates given at creation are kept in state as given; generated ones are not inputs.
	wrapping := in.Quorum != old.Quorum || len(in.Certificates) > 0 && !slices.Equal(in.Certificates,
		old.Certificates) || len(in.Certificates) == 0 && in.CertificateCount != old.CertificateCount
	if wrapping {
		return resp, fmt.Errorf("managed HSM %s is active: its security domain was downloaded once, wrapped to "+
			"%d certificates with quorum %d, and cannot be wrapped anew; restore it into a new HSM to change "+
			"them, or set the settings back", name, len(old.WrappingCertificates), old.Quorum)
	}
	if req.DryRun {
		resp.Output.SecurityDomainArgs = in
		resp.Output.SecurityDomainPath = in.OutputPath
		return resp, nil
	}
	if in.OutputPath != old.SecurityDomainPath {
		if old.SecurityDomainJSON == "" {
			return resp, fmt.Errorf("moving the security domain of %s to %s: the state holds no copy; move %s "+
				"by hand", name, in.OutputPath, old.SecurityDomainPath)
		}
		if err := writeSecretFile(in.OutputPath, []byte(old.SecurityDomainJSON)); err != nil {
			return resp, fmt.Errorf("moving the security domain of %s: %w", name, err)
		}
		p.GetLogger(ctx).Infof("security domain of %s written to %s; %s is left in place", name, in.OutputPath,
			old.SecurityDomainPath)
	}
	resp.Output.SecurityDomainArgs = in
	resp.Output.SecurityDomainPath = in.OutputPath
	return resp, nil
}

type wrappingKey struct {
	cert   *x509.Certificate
	keyPEM []byte
	pair   securitydomain.KeyPair
}

// wrappingKeys returns the certificates to wrap the shares to, and the private keys when the plugin holds them
// (generated for development stacks, reused from an earlier attempt when present).
func (r *SecurityDomain) wrappingKeys(in SecurityDomainArgs, name string) ([]*x509.Certificate, []wrappingKey,
	error) {
	if len(in.Certificates) > 0 {
		certs := make([]*x509.Certificate, len(in.Certificates))
		for i, c := range in.Certificates {
			cert, err := securitydomain.ParseCertificatePEM([]byte(c))
			if err != nil {
				return nil, nil, fmt.Errorf("certificate %d: %w", i+1, err)
			}
			certs[i] = cert
		}
		return certs, nil, nil
	}
	if err := os.MkdirAll(in.KeyDirectory, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating key directory %s: %w", in.KeyDirectory, err)
	}
	// The directory holds nothing but these key pairs: one made earlier by someone else is tightened too.
	if err := os.Chmod(in.KeyDirectory, 0o700); err != nil {
		return nil, nil, fmt.Errorf("restricting key directory %s to its owner: %w", in.KeyDirectory, err)
	}
	var certs []*x509.Certificate
	var keys []wrappingKey
	for i := 1; i <= in.CertificateCount; i++ {
		certPath := filepath.Join(in.KeyDirectory, fmt.Sprintf("%s-sd-cert%d.pem", name, i))
		keyPath := filepath.Join(in.KeyDirectory, fmt.Sprintf("%s-sd-key%d.pem", name, i))
		certPEM, keyPEM, err := loadOrGenerate(certPath, keyPath, fmt.Sprintf("%s security domain %d", name, i))
		if err != nil {
			return nil, nil, err
		}
		pair, err := securitydomain.LoadKeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("key pair %d in %s: %w", i, in.KeyDirectory, err)
		}
		certs = append(certs, pair.Cert)
		keys = append(keys, wrappingKey{cert: pair.Cert, keyPEM: keyPEM, pair: pair})
	}
	return certs, keys, nil
}

// loadOrGenerate reuses a key pair left by an earlier attempt, so that a retried activation wraps to the same
// keys, and otherwise generates one, writing the private key with mode 0600.
func loadOrGenerate(certPath, keyPath, commonName string) ([]byte, []byte, error) {
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if certErr == nil && keyErr == nil {
		return certPEM, keyPEM, keepPrivate(keyPath)
	}
	certPEM, keyPEM, err := securitydomain.GenerateKeyPair(2048, commonName)
	if err != nil {
		return nil, nil, err
	}
	if err := writeSecretFile(keyPath, keyPEM); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

// writeSecretFile writes data with mode 0600, atomically, and never over an existing file with other content:
// a security domain or a private key is written once.
func writeSecretFile(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil {
		if string(old) == string(data) {
			return keepPrivate(path)
		}
		return fmt.Errorf("%s exists with other content; refusing to overwrite it", path)
	}
	return writeFileAtomic(path, data, 0o600)
}

// keepPrivate makes a secret file that already existed readable by its owner only, as a new one would be.
func keepPrivate(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("checking the permissions of %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restricting %s to its owner: %w", path, err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	err = errors.Join(tmp.Chmod(mode), writeAll(tmp, data), tmp.Sync(), tmp.Close())
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func writeAll(f *os.File, data []byte) error {
	_, err := f.Write(data)
	return err
}

func pemsOf(certs []*x509.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = securitydomain.CertificatePEM(c)
	}
	return out
}

func pairsOf(keys []wrappingKey) []securitydomain.KeyPair {
	out := make([]securitydomain.KeyPair, len(keys))
	for i, k := range keys {
		out[i] = k.pair
	}
	return out
}

// hsmNameOf is the HSM's name for messages and IDs: the last segment of its ARM ID.
func hsmNameOf(in SecurityDomainArgs) string {
	if id, err := hsm.ParseHsmID(in.HsmResourceID); err == nil {
		return id.Name
	}
	host := strings.TrimPrefix(in.HsmURI, "https://")
	return strings.SplitN(strings.SplitN(host, "/", 2)[0], ".", 2)[0]
}
