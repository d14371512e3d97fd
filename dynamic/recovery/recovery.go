// Package recovery restores a Managed HSM's security domain into a new HSM that awaits one, what
// `az keyvault security-domain upload` does: it recovers the master secret with a quorum of the wrapping keys,
// re-encrypts the domain to the new HSM's transfer key, uploads it, and waits until the HSM is active. Keys
// backed up from the old HSM then restore into the new one.
//
// Nothing here logs key material: progress lines and errors name the HSM, counts and certificate thumbprints
// only, and the recovered master secret is cleared once the restore blob is built.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// Sentinel errors for the outcomes an operator acts on.
var (
	// ErrTooFewKeys means fewer keys were given than the security domain's quorum.
	ErrTooFewKeys = errors.New("too few keys for the security domain's quorum")
	// ErrWrongKeys means the keys given do not open a quorum of the domain's shares.
	ErrWrongKeys = errors.New("the keys do not recover the security domain")
	// ErrAlreadyActive means the HSM already has a security domain: a restore is only for a new HSM.
	ErrAlreadyActive = errors.New("the managed HSM is already active")
	// ErrUploadFailed means the HSM took the upload and then reported it Failed.
	ErrUploadFailed = errors.New("the managed HSM reports the security domain upload failed")
)

// DefaultTimeout bounds the wait from the upload to an active HSM, as the plugin bounds activation.
const DefaultTimeout = 30 * time.Minute

// Options configure a restore. The zero value talks to public Azure and waits up to DefaultTimeout.
type Options struct {
	// HSM configures the data-plane clients (transport, retries, cloud endpoints).
	HSM hsm.Options
	// ResourceID is the HSM's ARM ID. When set, the activationStatus Azure Resource Manager reports decides
	// whether the HSM is active, before the upload and after it; otherwise the data plane is asked (see
	// Restore).
	ResourceID string
	// Timeout bounds the wait after the upload; zero means DefaultTimeout.
	Timeout time.Duration
	// Interval is the pause between polls when the HSM gives no Retry-After (default 10 s); MaxInterval caps
	// any pause (default 1 minute).
	Interval    time.Duration
	MaxInterval time.Duration
	// Progress receives one line per step and per poll; nil discards them.
	Progress func(msg string)
	// Sleep waits between polls; nil means time.After. Tests replace it so that they never sleep.
	Sleep func(time.Duration) <-chan time.Time
}

// Result says what a restore did. It holds names and counts only.
type Result struct {
	// HSM is the host name of the restored HSM.
	HSM string
	// Items is the number of security-domain items restored.
	Items int
	// Required and Shares are the domain's quorum and share count; KeysGiven how many keys were offered.
	Required  int
	Shares    int
	KeysGiven int
	// TransferKey is the thumbprint of the HSM's transfer key the domain was wrapped to.
	TransferKey string
	// Elapsed is the time from the upload to the HSM reporting itself active.
	Elapsed time.Duration
}

// String summarises the restore for a terminal.
func (r Result) String() string {
	return fmt.Sprintf("managed HSM %s is active with the restored security domain: %d items, quorum %d of %d "+
		"shares met with %d keys, wrapped to transfer key %s, active %s after the upload", r.HSM, r.Items,
		r.Required, r.Shares, r.KeysGiven, r.TransferKey, r.Elapsed.Round(time.Second))
}

// Restore uploads domain into the HSM at hsmURI, which must be awaiting its security domain (created, never
// activated). keys must include a quorum of the domain's wrapping keys; a key that opens no share is skipped,
// as the Azure CLI does. Too few keys, or keys that do not open a quorum, fail before the HSM is called. An
// active HSM fails with ErrAlreadyActive before anything is uploaded; an upload the HSM reports Failed fails
// with ErrUploadFailed and the HSM's details. cred must be an initial administrator of the new HSM.
//
// Whether the HSM is active is read from Azure Resource Manager when opts.ResourceID is set. Otherwise the data
// plane is asked for its role definitions, which an initial administrator reads once the HSM is active; an HSM
// awaiting its domain refuses them, and an answer that says neither is reported as a progress line before
// the upload (an active HSM refuses the upload anyway) and waited out after it.
func Restore(ctx context.Context, hsmURI string, domain *securitydomain.File, keys []securitydomain.KeyPair,
	cred azcore.TokenCredential, opts Options) (Result, error) {
	name := hostOf(hsmURI)
	fail := func(err error) (Result, error) {
		return Result{}, fmt.Errorf("restoring the security domain into managed HSM %s: %w", name, err)
	}
	if domain == nil {
		return fail(errors.New("no security domain given"))
	}
	res := Result{HSM: name, Items: len(domain.EncData.Data), Required: domain.SharedKeys.Required,
		Shares: len(domain.SharedKeys.EncShares), KeysGiven: len(keys)}
	if len(keys) < res.Required {
		return fail(fmt.Errorf("%w: %d given, the domain needs %d of its %d", ErrTooFewKeys, len(keys),
			res.Required, res.Shares))
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}

	master, err := securitydomain.RecoverMaster(domain, keys)
	if errors.Is(err, securitydomain.ErrInsufficientShares) || errors.Is(err, securitydomain.ErrInconsistentShares) {
		return fail(fmt.Errorf("%w: %w", ErrWrongKeys, err))
	}
	if err != nil {
		return fail(err)
	}
	// The master lives until the blob is built; it is cleared on every path out of here.
	defer clear(master)
	if err := securitydomain.CheckMaster(domain, master); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrWrongKeys, err))
	}
	progress(fmt.Sprintf("recovered the security domain's master secret with %d keys (quorum %d of %d)",
		len(keys), res.Required, res.Shares))

	sd, err := hsm.NewSecurityDomainClient(hsmURI, cred, opts.HSM)
	if err != nil {
		return fail(err)
	}
	probe, err := newProbe(hsmURI, cred, opts)
	if err != nil {
		return fail(err)
	}
	switch state, err := probe.check(ctx); state {
	case active:
		return fail(fmt.Errorf("%w: %s, so it holds a security domain already; restore into a new HSM that "+
			"has not been activated", ErrAlreadyActive, probe.evidence))
	case unknown:
		if opts.ResourceID != "" {
			return fail(err)
		}
		progress(fmt.Sprintf("could not tell whether %s is active (%v); going on, since an active HSM refuses "+
			"the upload", name, err))
	}

	progress("fetching the transfer key of " + name)
	raw, err := sd.TransferKey(ctx)
	if err != nil {
		return fail(hsm.Explain(err, name))
	}
	transfer, err := securitydomain.ParseTransferKey(raw)
	if err != nil {
		return fail(err)
	}
	res.TransferKey = transfer.Thumbprint
	blob, err := securitydomain.RestoreBlobFromMaster(domain, master, transfer)
	clear(master)
	if err != nil {
		return fail(err)
	}
	body, err := securitydomain.WrapValue(blob)
	if err != nil {
		return fail(err)
	}

	progress(fmt.Sprintf("uploading the security domain (%d items) to %s, wrapped to its transfer key %s",
		res.Items, name, transfer.Thumbprint))
	start := time.Now()
	status, err := sd.Upload(ctx, body)
	if err != nil {
		if _, httpStatus := hsm.ErrorCode(err); httpStatus == http.StatusConflict {
			return fail(fmt.Errorf("%w: it refused the upload: %w", ErrAlreadyActive, err))
		}
		return fail(hsm.Explain(err, name))
	}
	if err := awaitActive(ctx, sd, probe, name, status.RetryAfter, opts); err != nil {
		return fail(err)
	}
	res.Elapsed = time.Since(start)
	progress(res.String())
	return res, nil
}

// awaitActive polls the upload's status until Success, then the probe until it reports the HSM active.
func awaitActive(ctx context.Context, sd *hsm.SecurityDomainClient, probe *probe, name string,
	firstPause time.Duration, opts Options) error {
	w := hsm.Wait{
		What:        "restore of the security domain into managed HSM " + name,
		Timeout:     orDefault(opts.Timeout, DefaultTimeout),
		Interval:    orDefault(opts.Interval, 10*time.Second),
		MaxInterval: orDefault(opts.MaxInterval, time.Minute),
		Progress:    opts.Progress,
		Sleep:       opts.Sleep,
	}
	pause := firstPause
	var notYet error // the probe's last "not yet" after the upload succeeded, reported on timeout
	err := w.Poll(ctx, func(ctx context.Context) (bool, time.Duration, error) {
		if pause > 0 {
			// The upload's own Retry-After paces the first poll.
			hint := pause
			pause = 0
			return false, hint, nil
		}
		st, err := sd.UploadStatus(ctx)
		if err != nil {
			return false, 0, hsm.Explain(err, name)
		}
		if st.Failed() {
			return false, 0, fmt.Errorf("%w: %s", ErrUploadFailed, orText(st.Details, "no details given"))
		}
		if !st.Done() {
			return false, st.RetryAfter, nil
		}
		state, err := probe.check(ctx)
		if state == active {
			return true, 0, nil
		}
		if state == inactive || hsm.Classify(err) == hsm.NotYetPropagated {
			// The upload finished; the data plane opens moments later.
			notYet = err
			return false, 0, nil
		}
		return false, 0, err
	})
	if err != nil && notYet != nil && !errors.Is(err, ErrUploadFailed) {
		return fmt.Errorf("%w; the upload reported Success but the last activation check answered: %w", err,
			notYet)
	}
	return err
}

// activation is what the data plane says of the HSM's security domain.
type activation int

const (
	unknown  activation = iota // the answer says neither
	inactive                   // the HSM refuses calls because it is not activated
	active                     // the HSM answers: it holds a security domain
)

// probe tells whether the HSM is active, from ARM or from its data plane.
type probe struct {
	check func(context.Context) (activation, error)
	// evidence says what showed an HSM active, for the error that refuses it.
	evidence string
}

// newProbe reads the HSM's activationStatus through ARM when opts.ResourceID is set, and otherwise asks the
// data plane for the role definitions at "/": an initial administrator may read them once the HSM holds a
// security domain, and an HSM awaiting one refuses them. Unless the HSM is active, check returns why not.
func newProbe(hsmURI string, cred azcore.TokenCredential, opts Options) (*probe, error) {
	if opts.ResourceID != "" {
		if _, err := hsm.ParseHsmID(opts.ResourceID); err != nil {
			return nil, err
		}
		mgmt := hsm.NewManagementClient(cred, opts.HSM)
		return &probe{evidence: "Azure Resource Manager reports its activationStatus Active",
			check: func(ctx context.Context) (activation, error) {
				res, err := mgmt.Get(ctx, opts.ResourceID)
				switch {
				case err != nil:
					return unknown, err
				case res.Active():
					return active, nil
				}
				return inactive, fmt.Errorf("its activationStatus in Azure Resource Manager is %q",
					res.ActivationStatus)
			}}, nil
	}
	roles, err := hsm.NewRBACClient(hsmURI, cred, opts.HSM)
	if err != nil {
		return nil, err
	}
	return &probe{evidence: "its data plane answers",
		check: func(ctx context.Context) (activation, error) {
			_, err := roles.NewListRoleDefinitionsPager(rbac.RoleScopeGlobal, nil).NextPage(ctx)
			switch {
			case err == nil:
				return active, nil
			case hsm.Classify(err) == hsm.NotActivated:
				return inactive, err
			}
			return unknown, err
		}}, nil
}

// hostOf is the HSM's host name for messages; the URI itself when it has none.
func hostOf(hsmURI string) string {
	if u, err := url.Parse(hsmURI); err == nil && u.Host != "" {
		return u.Host
	}
	return hsmURI
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
