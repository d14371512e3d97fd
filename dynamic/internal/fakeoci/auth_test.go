// This file tests the fake's signature check with requests signed by the SDK's own signer: a good signature is
// served, and a missing one, another key, a tampered body, unsigned body headers and a stale date are refused
// with 401 NotAuthenticated, as OCI refuses them.
package fakeoci_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakeoci"
)

func identity(t *testing.T) fakeoci.Identity {
	t.Helper()
	id, err := fakeoci.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// request builds a request to path on fake, dated now, with body as JSON when not nil.
func request(t *testing.T, fake *fakeoci.Server, method, path string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, fake.Endpoint()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// sign signs req as id with the SDK's default signer.
func sign(t *testing.T, id fakeoci.Identity, req *http.Request) {
	t.Helper()
	if err := common.DefaultRequestSigner(id.ConfigProvider("us-ashburn-1")).Sign(req); err != nil {
		t.Fatal(err)
	}
}

// send sends req and returns the status and the decoded JSON body.
func send(t *testing.T, fake *fakeoci.Server, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := fake.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding answer to %s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, out
}

// later is a clock ten minutes ahead, past OCI's allowed skew.
func later() time.Time { return time.Now().Add(10 * time.Minute) }

const dbPath = "/20160918/autonomousDatabases/" + fakeoci.DefaultDatabaseID

func TestSignedRequestIsServed(t *testing.T) {
	id := identity(t)
	fake := fakeoci.New(t, fakeoci.WithIdentity(id))
	req := request(t, fake, http.MethodGet, dbPath, nil)
	sign(t, id, req)

	status, body := send(t, fake, req)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if body["id"] != fakeoci.DefaultDatabaseID || body["lifecycleState"] != "AVAILABLE" {
		t.Errorf("body %v", body)
	}
	if key, _ := body["encryptionKey"].(map[string]any); key["provider"] != "ORACLE_MANAGED" {
		t.Errorf("encryptionKey %v", body["encryptionKey"])
	}
	if log := fake.RequestLog(); len(log) != 1 || !log[0].Authenticated || log[0].KeyID != id.KeyID() {
		t.Errorf("log %+v", log)
	}
}

func TestSignedPutIsServed(t *testing.T) {
	id := identity(t)
	fake := fakeoci.New(t, fakeoci.WithIdentity(id))
	req := request(t, fake, http.MethodPut, dbPath, []byte(`{"displayName":"renamed"}`))
	sign(t, id, req)

	if status, body := send(t, fake, req); status != http.StatusOK || body["displayName"] != "renamed" {
		t.Fatalf("status %d: %v", status, body)
	}
}

func TestBadSignaturesAreRefused(t *testing.T) {
	id := identity(t)
	put := []byte(`{"encryptionKey":{"provider":"ORACLE_MANAGED"}}`)
	for _, tc := range []struct {
		name   string
		opts   []fakeoci.Option
		build  func(t *testing.T, fake *fakeoci.Server) *http.Request
		reason string
	}{
		{"unsigned", nil, func(t *testing.T, fake *fakeoci.Server) *http.Request {
			return request(t, fake, http.MethodGet, dbPath, nil)
		}, "no Signature"},
		{"another-key", nil, func(t *testing.T, fake *fakeoci.Server) *http.Request {
			other := identity(t)
			other.Tenancy, other.User, other.Fingerprint = id.Tenancy, id.User, id.Fingerprint
			req := request(t, fake, http.MethodGet, dbPath, nil)
			sign(t, other, req)
			return req
		}, "does not verify"},
		{"unknown-key-id", nil, func(t *testing.T, fake *fakeoci.Server) *http.Request {
			req := request(t, fake, http.MethodGet, dbPath, nil)
			sign(t, identity(t), req)
			return req
		}, "unknown keyId"},
		{"tampered-body", nil, func(t *testing.T, fake *fakeoci.Server) *http.Request {
			req := request(t, fake, http.MethodPut, dbPath, put)
			sign(t, id, req)
			tampered := bytes.Replace(put, []byte("ORACLE_MANAGED"), []byte("ORACLE_MANAGEE"), 1)
			req.Body = io.NopCloser(bytes.NewReader(tampered))
			return req
		}, "x-content-sha256"},
		{"body-headers-unsigned", nil, func(t *testing.T, fake *fakeoci.Server) *http.Request {
			// The body headers are right, but the signature leaves them out.
			req := request(t, fake, http.MethodPut, dbPath, put)
			hash, err := common.GetBodyHash(req)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Content-Sha256", hash)
			signer := common.RequestSignerWithBodyHashingPredicate(id.ConfigProvider("us-ashburn-1"),
				common.DefaultGenericHeaders(), common.DefaultBodyHeaders(), func(*http.Request) bool { return false })
			if err := signer.Sign(req); err != nil {
				t.Fatal(err)
			}
			return req
		}, "is not signed"},
		{"stale-date", []fakeoci.Option{fakeoci.WithClock(later)},
			func(t *testing.T, fake *fakeoci.Server) *http.Request {
				req := request(t, fake, http.MethodGet, dbPath, nil)
				sign(t, id, req)
				return req
			}, "off the server's clock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakeoci.New(t, append([]fakeoci.Option{fakeoci.WithIdentity(id)}, tc.opts...)...)

			status, body := send(t, fake, tc.build(t, fake))
			if status != http.StatusUnauthorized || body["code"] != "NotAuthenticated" {
				t.Fatalf("status %d body %v, want 401 NotAuthenticated", status, body)
			}
			log := fake.RequestLog()
			if len(log) != 1 || log[0].Authenticated || !strings.Contains(log[0].AuthError, tc.reason) {
				t.Errorf("log %+v, want a refusal saying %q", log, tc.reason)
			}
			if d, _ := fake.Database(fakeoci.DefaultDatabaseID); d.Key.Provider != "ORACLE_MANAGED" ||
				d.DisplayName != "adbhsmdemo" {
				t.Errorf("a refused request changed the database: %+v", d)
			}
		})
	}
}

func TestUnknownPathsAndBadKeysAreRefused(t *testing.T) {
	id := identity(t)
	fake := fakeoci.New(t, fakeoci.WithIdentity(id))
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"unknown-operation", http.MethodGet, "/20160918/autonomousDatabases", nil, 404, "NotFound"},
		{"unknown-database", http.MethodGet, "/20160918/autonomousDatabases/ocid1.autonomousdatabase.oc1.iad.x",
			nil, 404, "NotAuthorizedOrNotFound"},
		{"azure-key-without-name", http.MethodPut, dbPath,
			[]byte(`{"encryptionKey":{"provider":"AZURE","vaultUri":"https://h.managedhsm.azure.net"}}`), 400,
			"MissingParameter"},
		{"nothing-to-update", http.MethodPut, dbPath, []byte(`{}`), 400, "MissingParameter"},
		{"unknown-work-request", http.MethodGet, "/20160918/workRequests/ocid1.coreservicesworkrequest.oc1.x", nil,
			404, "NotAuthorizedOrNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(t, fake, tc.method, tc.path, tc.body)
			sign(t, id, req)
			status, body := send(t, fake, req)
			if status != tc.status || body["code"] != tc.code {
				t.Errorf("status %d body %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}
