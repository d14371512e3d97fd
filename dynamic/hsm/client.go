// Package hsm is the plugin's client for an Azure Key Vault Managed HSM: the security-domain endpoints, which
// no Azure SDK covers, over azcore's pipeline (bearer token, retries honouring Retry-After); the management-plane
// HSM resource through armkeyvault; and constructors for the SDK clients of keys (azkeys) and local RBAC
// (azadmin/rbac), all sharing one set of client options.
package hsm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// DataPlaneScope is the token scope of every Managed HSM data plane.
const DataPlaneScope = "https://managedhsm.azure.net/.default"

// apiVersion of the security-domain endpoints.
const apiVersion = "7.5"

const moduleName = "pulumi-resource-odaa/hsm"

// Options configure every client this package makes. The zero value talks to public Azure.
type Options struct {
	// ClientOptions are azcore's: transport, retry policy, cloud endpoints.
	ClientOptions azcore.ClientOptions
	// DisableChallengeResourceVerification lets the key and RBAC clients talk to an HSM whose host is not under
	// managedhsm.azure.net (sovereign clouds, local stand-ins).
	DisableChallengeResourceVerification bool
}

// SecurityDomainClient calls the security-domain endpoints of one HSM.
type SecurityDomainClient struct {
	base     *url.URL
	pipeline runtime.Pipeline
}

// NewSecurityDomainClient returns a client for the HSM at hsmURI (https://<name>.managedhsm.azure.net/).
func NewSecurityDomainClient(hsmURI string, cred azcore.TokenCredential, opts Options) (*SecurityDomainClient, error) {
	uri, err := checkURI(hsmURI)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	auth := runtime.NewBearerTokenPolicy(cred, []string{DataPlaneScope}, nil)
	pl := runtime.NewPipeline(moduleName, version, runtime.PipelineOptions{PerRetry: []policy.Policy{auth}},
		&opts.ClientOptions)
	return &SecurityDomainClient{base: base, pipeline: pl}, nil
}

// version is the client's version in its User-Agent; the plugin stamps its own in main.
var version = "v0.0.0"

// Status is what a pending endpoint reports.
type Status struct {
	// State is Success, InProgress or Failed; older services said Succeeded.
	State   string `json:"status"`
	Details string `json:"status_details"`
	// RetryAfter is the service's hint for the next poll; zero when it gave none.
	RetryAfter time.Duration `json:"-"`
}

// Done reports whether the operation finished successfully.
func (s Status) Done() bool { return s.State == "Success" || s.State == "Succeeded" }

// Failed reports whether the operation failed.
func (s Status) Failed() bool { return strings.EqualFold(s.State, "Failed") }

// Download asks the HSM for its security domain, wrapped to the certificates in body (see
// securitydomain.NewDownloadRequest). The answer carries the domain at once; activation completes later, as
// DownloadStatus reports. The returned bytes are secret.
func (c *SecurityDomainClient) Download(ctx context.Context, body []byte) ([]byte, Status, error) {
	resp, err := c.do(ctx, http.MethodPost, "/securitydomain/download", body, http.StatusOK, http.StatusAccepted)
	if err != nil {
		return nil, Status{}, fmt.Errorf("downloading security domain: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, Status{}, fmt.Errorf("reading security domain: %w", err)
	}
	return data, Status{State: "InProgress", RetryAfter: retryAfter(resp)}, nil
}

// DownloadStatus reports the progress of activation after Download.
func (c *SecurityDomainClient) DownloadStatus(ctx context.Context) (Status, error) {
	return c.status(ctx, "/securitydomain/download/pending")
}

// TransferKey returns the body of the HSM's transfer key, to which a restore blob is wrapped.
func (c *SecurityDomainClient) TransferKey(ctx context.Context) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodGet, "/securitydomain/upload", nil, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("fetching transfer key: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	return io.ReadAll(resp.Body)
}

// Upload sends a restore blob (the {"value": ...} body) to an HSM awaiting its security domain.
func (c *SecurityDomainClient) Upload(ctx context.Context, body []byte) (Status, error) {
	resp, err := c.do(ctx, http.MethodPost, "/securitydomain/upload", body, http.StatusOK, http.StatusAccepted)
	if err != nil {
		return Status{}, fmt.Errorf("uploading security domain: %w", err)
	}
	_ = resp.Body.Close()
	return Status{State: "InProgress", RetryAfter: retryAfter(resp)}, nil
}

// UploadStatus reports the progress of a restore after Upload.
func (c *SecurityDomainClient) UploadStatus(ctx context.Context) (Status, error) {
	return c.status(ctx, "/securitydomain/upload/pending")
}

func (c *SecurityDomainClient) status(ctx context.Context, path string) (Status, error) {
	resp, err := c.do(ctx, http.MethodGet, path, nil, http.StatusOK)
	if err != nil {
		return Status{}, fmt.Errorf("reading %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var s Status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return Status{}, fmt.Errorf("decoding %s: %w", path, err)
	}
	s.RetryAfter = retryAfter(resp)
	return s, nil
}

func (c *SecurityDomainClient) do(ctx context.Context, method, path string, body []byte,
	ok ...int) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = url.Values{"api-version": {apiVersion}}.Encode()
	req, err := runtime.NewRequest(ctx, method, u.String())
	if err != nil {
		return nil, err
	}
	if body != nil {
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json"); err != nil {
			return nil, err
		}
	}
	resp, err := c.pipeline.Do(req)
	if err != nil {
		return nil, err
	}
	if !runtime.HasStatusCode(resp, ok...) {
		return nil, runtime.NewResponseError(resp)
	}
	return resp, nil
}

// retryAfter reads the service's hint for the next poll: retry-after-ms or x-ms-retry-after-ms in milliseconds,
// which azcore's retry policy also prefers, else Retry-After in seconds.
func retryAfter(resp *http.Response) time.Duration {
	for _, h := range []string{"Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
		if ms, err := strconv.Atoi(resp.Header.Get(h)); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// ErrorCode returns the service's error code of err ("Forbidden", "BadParameter", ...) and its HTTP status, or
// "" and 0 when err did not come from the service.
func ErrorCode(err error) (string, int) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode, re.StatusCode
	}
	return "", 0
}
