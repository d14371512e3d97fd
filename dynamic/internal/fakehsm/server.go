// This file holds the Server: its options, construction on an httptest TLS listener, the request pipeline
// (authentication, logging, faults, network rules, activation) and the accessors tests assert on.

package fakehsm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/httprec"

	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// Defaults of a Server built without options.
const (
	// DefaultTenantID is the tenant the challenge names.
	DefaultTenantID = "11111111-1111-4111-8111-111111111111"
	// DefaultAdministratorID is the initial administrator (ARM initialAdminObjectIds) of the HSM.
	DefaultAdministratorID = "ad000000-0000-4000-8000-000000000001"
	// DefaultSubscriptionID, DefaultResourceGroup, DefaultName and DefaultLocation name the ARM resource.
	DefaultSubscriptionID = "22222222-2222-4222-8222-222222222222"
	DefaultResourceGroup  = "rg-fakehsm"
	DefaultName           = "fakehsm"
	DefaultLocation       = "eastus"
	// DefaultRetentionDays is softDeleteRetentionInDays: how long deleted keys stay recoverable.
	DefaultRetentionDays = 90
)

// PrivateEndpointHeader marks a request as arriving through the HSM's private endpoint when its value is
// "true"; PrivateClient sets it. Network rules that refuse public traffic let such requests through.
const PrivateEndpointHeader = "X-Fakehsm-Private-Endpoint"

// HeaderRetryAfterMs is the millisecond retry hint azcore reads before Retry-After (see WithRetryAfterMs and
// Fault.RetryAfterMs).
const HeaderRetryAfterMs = "Retry-After-Ms"

// config is what the options set.
type config struct {
	tenant                string
	admins                []string
	retryAfter            string
	retryAfterMs          int
	pendingPolls          int
	completeAt            time.Time
	knownPrincipals       map[string]bool
	propagationAttempts   int
	propagationPrincipals map[string]bool
	assignmentDelay       int
	faults                []Fault
	subscription          string
	resourceGroup         string
	name                  string
	location              string
	asyncUpdatePolls      int
	clock                 func() time.Time
	activated             bool
	downloadBody          func(envelope []byte) []byte
	uploadFailure         string
	retentionDays         int
	network               *Network
	deleted               []DeletedHSM
	purgeProtection       bool
}

// Option configures a Server.
type Option func(*config)

// WithTenant sets the tenant ID the authentication challenge and the ARM resource name.
func WithTenant(tenantID string) Option { return func(c *config) { c.tenant = tenantID } }

// WithAdministrators sets the initial administrators: they hold the Managed HSM Administrator role at "/"
// from the start, as the principals of ARM initialAdminObjectIds do. The default is DefaultAdministratorID.
func WithAdministrators(principalIDs ...string) Option {
	return func(c *config) { c.admins = append([]string(nil), principalIDs...) }
}

// WithRetryAfter sets the Retry-After header (seconds) of the security domain and ARM long-running
// operations. The default is "0" so clients poll at once.
func WithRetryAfter(seconds string) Option { return func(c *config) { c.retryAfter = seconds } }

// WithRetryAfterMs adds a retry-after-ms header (milliseconds) wherever the security domain and ARM long-running
// operations send Retry-After. azcore's pollers and retry policy prefer it to Retry-After, so a test can make
// a client honour a service hint without waiting whole seconds. The default, 0, sends no such header.
func WithRetryAfterMs(ms int) Option { return func(c *config) { c.retryAfterMs = max(ms, 0) } }

// WithPendingPolls sets how many polls of a security domain download or upload answer InProgress before
// the operation reports Success. The default is 1.
func WithPendingPolls(n int) Option { return func(c *config) { c.pendingPolls = max(n, 0) } }

// WithCompletionAt makes the security domain download (the activation) finish at a moment of the server's clock
// (see WithClock) instead of after a number of polls: polls before it answer InProgress, polls from it on Success.
// A test driving the clock can then measure how long after the service finished its client noticed.
func WithCompletionAt(at time.Time) Option { return func(c *config) { c.completeAt = at } }

// WithKnownPrincipals restricts the directory to the given principals (plus the administrators): a role
// assignment for any other principal answers PrincipalNotFound. By default every principal is known.
func WithKnownPrincipals(principalIDs ...string) Option {
	return func(c *config) {
		if c.knownPrincipals == nil {
			c.knownPrincipals = map[string]bool{}
		}
		for _, p := range principalIDs {
			c.knownPrincipals[strings.ToLower(p)] = true
		}
	}
}

// WithPrincipalPropagation simulates Entra ID replication: the first attempts role assignment PUTs naming a
// principal answer PrincipalNotFound, later ones succeed. With no principals it applies to every principal.
func WithPrincipalPropagation(attempts int, principalIDs ...string) Option {
	return func(c *config) {
		c.propagationAttempts = max(attempts, 0)
		c.propagationPrincipals = nil
		if len(principalIDs) > 0 {
			c.propagationPrincipals = map[string]bool{}
			for _, p := range principalIDs {
				c.propagationPrincipals[strings.ToLower(p)] = true
			}
		}
	}
}

// WithRoleAssignmentDelay makes every role assignment created through the API take effect late: the first
// denials authorization checks it would grant are refused with 403, as while RBAC caches catch up.
func WithRoleAssignmentDelay(denials int) Option {
	return func(c *config) { c.assignmentDelay = max(denials, 0) }
}

// WithFaults injects faults (see Fault, Throttle, Unavailable, PoolCreationDisabled, InternalError).
func WithFaults(faults ...Fault) Option {
	return func(c *config) { c.faults = append(c.faults, faults...) }
}

// WithResource names the ARM resource: /subscriptions/{subscription}/resourceGroups/{resourceGroup}/
// providers/Microsoft.KeyVault/managedHSMs/{name} in {location}.
func WithResource(subscription, resourceGroup, name, location string) Option {
	return func(c *config) {
		c.subscription, c.resourceGroup, c.name, c.location = subscription, resourceGroup, name, location
	}
}

// WithAsyncUpdate makes ARM PATCH answer 202 with Azure-AsyncOperation and Location; the operation reports
// InProgress for polls polls, then Succeeded, and only then do the new properties apply. By default PATCH
// answers 200 at once.
func WithAsyncUpdate(polls int) Option { return func(c *config) { c.asyncUpdatePolls = max(polls, 0) } }

// WithClock sets the clock used for key timestamps and token expiry; the default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithDownloadBody rewrites the body of a security-domain download answer, as a service version speaking a
// format this plugin does not know would; the HSM activates all the same.
func WithDownloadBody(rewrite func(envelope []byte) []byte) Option {
	return func(c *config) { c.downloadBody = rewrite }
}

// WithUploadFailure makes every security-domain upload end Failed with details as its status_details, after
// the InProgress polls WithPendingPolls sets; the HSM stays inactive and keeps no restored items.
func WithUploadFailure(details string) Option { return func(c *config) { c.uploadFailure = details } }

// WithActivated starts the HSM activated, as if its security domain had been downloaded before the test;
// Domain then returns nil, and the HSM holds random items of its own domain (keys backed up from it restore
// only into itself).
func WithActivated() Option { return func(c *config) { c.activated = true } }

// Server is a fake Managed HSM: data plane and ARM resource on one HTTPS listener on 127.0.0.1.
type Server struct {
	ts       *httptest.Server
	base     string
	instance string
	cfg      config

	mu            sync.Mutex
	tokens        map[string]string
	tokenRequests []TokenRequest
	activitySeq   uint64
	log           []Request
	counts        map[string]int
	faults        []*faultState

	sd    sdState
	rbac  rbacState
	keys  keyState
	arm   armState
	close sync.Once
}

// New starts a fake Managed HSM and, when t is not nil, closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	cfg := config{
		tenant:        DefaultTenantID,
		admins:        []string{DefaultAdministratorID},
		retryAfter:    "0",
		pendingPolls:  1,
		subscription:  DefaultSubscriptionID,
		resourceGroup: DefaultResourceGroup,
		name:          DefaultName,
		location:      DefaultLocation,
		clock:         time.Now,
		retentionDays: DefaultRetentionDays,
	}
	cfg.asyncUpdatePolls = -1
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{cfg: cfg, tokens: map[string]string{}, counts: map[string]int{}}
	s.addFaultsLocked(cfg.faults)
	s.rbac.init(s)
	s.keys.init()
	s.arm.init()
	if cfg.network != nil {
		s.arm.network = *cfg.network
	}
	s.sd.activated = cfg.activated
	if cfg.activated {
		s.sd.items = randomItems()
	}
	for _, d := range cfg.deleted {
		s.arm.deleted[deletedKey(d.Location, d.Name)] = d
	}
	s.ts = httptest.NewTLSServer(http.HandlerFunc(s.serveHTTP))
	s.base = s.ts.URL + "/"
	sum := sha256.Sum256([]byte(s.ts.URL))
	s.instance = hex.EncodeToString(sum[:6])
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

// Close shuts the server down; it is safe to call more than once.
func (s *Server) Close() { s.close.Do(s.ts.Close) }

// URL is the data-plane base URL, "https://127.0.0.1:<port>/", to give to azkeys.NewClient and rbac.NewClient.
func (s *Server) URL() string { return s.base }

// ARMEndpoint is the management-plane endpoint: the same listener serves ARM paths.
func (s *Server) ARMEndpoint() string { return s.base }

// ARMID is the ARM resource ID of the managed HSM.
func (s *Server) ARMID() string {
	return fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.KeyVault/managedHSMs/%s",
		s.cfg.subscription, s.cfg.resourceGroup, s.cfg.name)
}

// Client returns an HTTP client trusting the server's certificate; it also satisfies azcore's Transporter.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// PrivateClient returns an HTTP client trusting the server whose requests arrive through the private
// endpoint, so network rules refusing public traffic let them through.
func (s *Server) PrivateClient() *http.Client {
	base := s.ts.Client()
	return &http.Client{Transport: privateTransport{next: base.Transport}, Timeout: base.Timeout}
}

// privateTransport marks every request as coming through the private endpoint.
type privateTransport struct{ next http.RoundTripper }

func (p privateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(PrivateEndpointHeader, "true")
	return p.next.RoundTrip(r)
}

// TenantID is the tenant the challenge names.
func (s *Server) TenantID() string { return s.cfg.tenant }

// Administrators returns the initial administrators.
func (s *Server) Administrators() []string { return append([]string(nil), s.cfg.admins...) }

func (s *Server) now() time.Time { return s.cfg.clock() }

// nextActivityLocked returns a deterministic, GUID-shaped activity (request) ID.
func (s *Server) nextActivityLocked() string {
	s.activitySeq++
	return fmt.Sprintf("%08x-0000-4000-8000-%s%06x", s.activitySeq, s.instance, s.activitySeq&0xffffff)
}

// serveHTTP runs every request through authentication, logging, faults, network rules and activation before
// its handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &httprec.StatusRecorder{ResponseWriter: w}
	c := &call{w: rec, r: r}
	entry, matched := matchRoute(c)
	if matched {
		c.route = entry.name
	}
	principal, authenticated := s.authenticate(r)
	c.principal = principal
	s.mu.Lock()
	c.activity = s.nextActivityLocked()
	if authenticated && matched {
		s.counts[c.route]++
	}
	s.mu.Unlock()
	rec.Header().Set("x-ms-request-id", c.activity)
	defer func() {
		s.mu.Lock()
		s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Route: c.route, Principal: principal,
			Authenticated: authenticated, Status: rec.Status})
		s.mu.Unlock()
	}()

	isARM := matched && entry.arm || !matched && strings.HasPrefix(strings.ToLower(r.URL.Path), "/subscriptions/")
	if !authenticated {
		if isARM {
			s.refuseARM(rec, r)
		} else {
			s.challenge(rec, r)
		}
		return
	}
	activity := c.activity
	if isARM {
		activity = ""
	}
	if err := s.precheck(c, entry, matched, isARM); err != nil {
		writeAPIError(rec, err, activity)
		return
	}
	if err := entry.h(s, c); err != nil {
		writeAPIError(rec, err, activity)
	}
}

// precheck applies what stands between an authenticated request and its handler.
func (s *Server) precheck(c *call, entry routeEntry, matched, isARM bool) *apiError {
	if !matched {
		return newAPIError(http.StatusNotFound, CodeNotFound,
			fmt.Sprintf("the fake managed HSM does not serve %s %s", c.r.Method, c.r.URL.Path))
	}
	if c.r.URL.Query().Get("api-version") == "" {
		return newAPIError(http.StatusBadRequest, CodeMissingAPIVersion,
			"The api-version query parameter (?api-version=) is required for all requests.")
	}
	if f, ok := s.takeFault(c.route); ok {
		if f.RetryAfter != "" {
			c.w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.RetryAfterMs > 0 {
			c.w.Header().Set(HeaderRetryAfterMs, strconv.Itoa(f.RetryAfterMs))
		}
		return f.apiError()
	}
	if isARM {
		return nil
	}
	if err := s.checkNetwork(c); err != nil {
		return err
	}
	if entry.needsActive && !s.Activated() {
		return newAPIError(http.StatusForbidden, CodeForbidden, NotActivatedMessage)
	}
	return nil
}

// Activated reports whether the security domain has been downloaded (or uploaded) and the HSM is active.
func (s *Server) Activated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sd.activated
}

// Domain returns the security domain the download created, nil before a download.
func (s *Server) Domain() *securitydomain.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sd.domain
}

// Items returns a copy of the security domain's data items in plaintext: those the download created, or
// those a restore (upload) brought. Comparing two servers' Items proves a restore carried the domain over.
func (s *Server) Items() []securitydomain.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]securitydomain.Item, len(s.sd.items))
	for i, it := range s.sd.items {
		out[i] = securitydomain.Item{Tag: it.Tag, Plaintext: append([]byte(nil), it.Plaintext...)}
	}
	return out
}

// paceLRO sets the poll-again hints of a long-running answer: Retry-After, and retry-after-ms when configured.
func (s *Server) paceLRO(w http.ResponseWriter) {
	w.Header().Set("Retry-After", s.cfg.retryAfter)
	if s.cfg.retryAfterMs > 0 {
		w.Header().Set(HeaderRetryAfterMs, strconv.Itoa(s.cfg.retryAfterMs))
	}
}

// asyncOperationURL is the Azure-AsyncOperation URL of a data-plane operation, keeping the api-version.
func (s *Server) asyncOperationURL(r *http.Request, path string) string {
	u := s.base + strings.TrimPrefix(path, "/")
	if v := r.URL.Query().Get("api-version"); v != "" {
		u += "?api-version=" + v
	}
	return u
}

// CertificatePEM is the server's TLS certificate, PEM-encoded: what a client outside the process trusts.
func (s *Server) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ts.Certificate().Raw})
}
