// This file holds what the fake's tests share: the principals, download key pairs generated once per test
// binary, azcore options pointing the real SDK clients at a fake, a transport that records answers, and
// helpers that unpack service errors.

package fakehsm_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// Principals of the tests (object IDs); the administrator is the fake's initial administrator.
const (
	admin         = fakehsm.DefaultAdministratorID
	cryptoUser    = "c0000000-0000-4000-8000-000000000001"
	cryptoOfficer = "0f000000-0000-4000-8000-000000000002"
	serviceUser   = "5e000000-0000-4000-8000-000000000003"
	stranger      = "57000000-0000-4000-8000-000000000004"
)

// armScope is the token scope azcore's ARM clients ask for with the fake's cloud configuration.
const armScope = "https://management.azure.com/.default"

var (
	downloadKeysOnce sync.Once
	downloadKeysVal  []securitydomain.KeyPair
	downloadKeysErr  error
)

// downloadKeys returns three 2048-bit key pairs, generated once: key generation would dominate the run time.
func downloadKeys(t *testing.T) []securitydomain.KeyPair {
	t.Helper()
	downloadKeysOnce.Do(func() {
		for range 3 {
			certPEM, keyPEM, err := securitydomain.GenerateKeyPair(securitydomain.MinRSABits, "fakehsm test")
			if err != nil {
				downloadKeysErr = err
				return
			}
			kp, err := securitydomain.LoadKeyPair(certPEM, keyPEM)
			if err != nil {
				downloadKeysErr = err
				return
			}
			downloadKeysVal = append(downloadKeysVal, kp)
		}
	})
	require.NoError(t, downloadKeysErr)
	return downloadKeysVal
}

func certificatesOf(pairs []securitydomain.KeyPair) []*x509.Certificate {
	out := make([]*x509.Certificate, len(pairs))
	for i, kp := range pairs {
		out[i] = kp.Cert
	}
	return out
}

// testCtx bounds every test well below the package budget, so a hang fails instead of stalling the run.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// option adjusts the client options of one client.
type option func(*hsm.Options)

// withTransport sends the client's requests through tr.
func withTransport(tr policy.Transporter) option {
	return func(o *hsm.Options) { o.ClientOptions.Transport = tr }
}

// withRetries sets azcore's MaxRetries; -1 disables retries, so a fault reaches the caller.
func withRetries(n int32) option {
	return func(o *hsm.Options) { o.ClientOptions.Retry.MaxRetries = n }
}

// options point azcore at fake the way the provider's tests do: its TLS transport, its ARM endpoint, and
// retries paced in milliseconds. A Retry-After above MaxRetryDelay makes azcore give up instead of waiting.
func options(fake *fakehsm.Server, opts ...option) hsm.Options {
	o := hsm.Options{
		ClientOptions: azcore.ClientOptions{
			Transport: fake.Client(),
			Cloud: cloud.Configuration{
				ActiveDirectoryAuthorityHost: "https://login.invalid/",
				Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
					cloud.ResourceManager: {Endpoint: fake.ARMEndpoint(), Audience: "https://management.azure.com"},
				},
			},
			Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond,
				MaxRetryDelay: 50 * time.Millisecond},
		},
		DisableChallengeResourceVerification: true,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// private sends the client's requests through the fake's private endpoint.
func private(fake *fakehsm.Server) option { return withTransport(fake.PrivateClient()) }

func keysClient(t *testing.T, fake *fakehsm.Server, principal string, opts ...option) *azkeys.Client {
	t.Helper()
	c, err := hsm.NewKeysClient(fake.URL(), fake.Credential(principal), options(fake, opts...))
	require.NoError(t, err)
	return c
}

func rbacClient(t *testing.T, fake *fakehsm.Server, principal string, opts ...option) *rbac.Client {
	t.Helper()
	c, err := hsm.NewRBACClient(fake.URL(), fake.Credential(principal), options(fake, opts...))
	require.NoError(t, err)
	return c
}

func sdClient(t *testing.T, fake *fakehsm.Server, principal string, opts ...option) *hsm.SecurityDomainClient {
	t.Helper()
	c, err := hsm.NewSecurityDomainClient(fake.URL(), fake.Credential(principal), options(fake, opts...))
	require.NoError(t, err)
	return c
}

func mgmtClient(fake *fakehsm.Server, principal string, opts ...option) *hsm.ManagementClient {
	return hsm.NewManagementClient(fake.Credential(principal), options(fake, opts...))
}

// hsmsClient is armkeyvault's client of the fake's subscription, for what hsm.ManagementClient hides.
func hsmsClient(t *testing.T, fake *fakehsm.Server, principal string, opts ...option) *armkeyvault.ManagedHsmsClient {
	t.Helper()
	c, err := armkeyvault.NewManagedHsmsClient(fakehsm.DefaultSubscriptionID, fake.Credential(principal),
		&arm.ClientOptions{ClientOptions: options(fake, opts...).ClientOptions})
	require.NoError(t, err)
	return c
}

// newActive starts a fake that is already activated.
func newActive(t *testing.T, opts ...fakehsm.Option) *fakehsm.Server {
	t.Helper()
	return fakehsm.New(t, append([]fakehsm.Option{fakehsm.WithActivated()}, opts...)...)
}

// activate downloads fake's security domain with downloadKeys (quorum 2) and polls until activation; it
// returns the downloaded domain.
func activate(t *testing.T, fake *fakehsm.Server) *securitydomain.File {
	t.Helper()
	ctx := testCtx(t)
	sd := sdClient(t, fake, admin)
	body, err := securitydomain.NewDownloadRequest(certificatesOf(downloadKeys(t)), 2)
	require.NoError(t, err)
	data, _, err := sd.Download(ctx, body)
	require.NoError(t, err)
	for range 10 {
		st, err := sd.DownloadStatus(ctx)
		require.NoError(t, err)
		if st.Done() {
			break
		}
	}
	require.True(t, fake.Activated(), "activation did not complete within 10 polls")
	file, err := securitydomain.Parse(data)
	require.NoError(t, err)
	return file
}

// serviceError asserts err is the service answering status with code and returns the answer's body.
func serviceError(t *testing.T, err error, status int, code string) string {
	t.Helper()
	require.Error(t, err)
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "want a service error, got %v", err)
	require.Equal(t, status, re.StatusCode, "status of %v", err)
	require.Equal(t, code, re.ErrorCode, "error code of %v", err)
	body, perr := runtime.Payload(re.RawResponse)
	require.NoError(t, perr)
	return string(body)
}

// answer is one response a recorder saw.
type answer struct {
	Method string
	Path   string
	Status int
	Header http.Header
}

// recorder is an azcore transport that forwards to the fake and remembers every answer's status and
// headers, for what the SDK clients do not expose (202 versus 200, Retry-After, the challenge).
type recorder struct {
	next    *http.Client
	mu      sync.Mutex
	answers []answer
}

func newRecorder(next *http.Client) *recorder { return &recorder{next: next} }

// Do implements policy.Transporter.
func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.answers = append(r.answers, answer{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode,
		Header: resp.Header.Clone()})
	r.mu.Unlock()
	return resp, nil
}

// last returns the latest answer.
func (r *recorder) last(t *testing.T) answer {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.answers, "no answer recorded")
	return r.answers[len(r.answers)-1]
}

// all returns the answers, oldest first.
func (r *recorder) all() []answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]answer(nil), r.answers...)
}

// noSleep is an hsm.Wait Sleep that records each pause and returns at once.
type noSleep struct {
	mu     sync.Mutex
	pauses []time.Duration
}

func (n *noSleep) sleep(d time.Duration) <-chan time.Time {
	n.mu.Lock()
	n.pauses = append(n.pauses, d)
	n.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

func (n *noSleep) recorded() []time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]time.Duration(nil), n.pauses...)
}
