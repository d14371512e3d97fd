// This file holds what the checks' tests share: a fake HSM with an operator who may create keys, client
// options pointing the real SDK clients at it, a fake resolver, sqlmock databases and a security domain
// downloaded from the fake into a temporary file.

package verify_test

import (
	"context"
	"crypto/x509"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
	"github.com/odaa-platform/adbs-hsm/dynamic/verify"
)

// Principals: the operator creates the key; the service principal is the one under test.
const (
	operator  = "c0000000-0000-4000-8000-000000000001"
	principal = "5e000000-0000-4000-8000-000000000003"
	keyName   = "odaa-hsm-encryption-key"
)

var defaultOps = []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}

func spec() verify.KeySpec {
	return verify.KeySpec{Name: keyName, Type: "RSA-HSM", Size: 2048, Operations: defaultOps}
}

// testCtx bounds each test well below the package budget.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// options point azcore at fake: its TLS transport, retries paced in milliseconds.
func options(fake *fakehsm.Server) hsm.Options {
	return hsm.Options{
		ClientOptions: azcore.ClientOptions{
			Transport: fake.Client(),
			Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: "https://login.invalid/",
				Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}},
			Retry: policy.RetryOptions{MaxRetries: -1},
		},
		DisableChallengeResourceVerification: true,
	}
}

// newFake starts an activated fake HSM whose operator holds Crypto User at /keys, plus opts.
func newFake(t *testing.T, opts ...fakehsm.Option) *fakehsm.Server {
	t.Helper()
	fake := fakehsm.New(t, append([]fakehsm.Option{fakehsm.WithActivated()}, opts...)...)
	fake.Assign(operator, fakehsm.RoleCryptoUser, "/keys")
	return fake
}

func keysClient(t *testing.T, fake *fakehsm.Server, who string) *azkeys.Client {
	t.Helper()
	c, err := hsm.NewKeysClient(fake.URL(), fake.Credential(who), options(fake))
	require.NoError(t, err)
	return c
}

// createKey creates the key as the operator.
func createKey(t *testing.T, fake *fakehsm.Server, size int32, ops ...string) {
	t.Helper()
	kty := azkeys.KeyTypeRSAHSM
	params := azkeys.CreateKeyParameters{Kty: &kty, KeySize: to.Ptr(size)}
	for _, op := range ops {
		params.KeyOps = append(params.KeyOps, to.Ptr(azkeys.KeyOperation(op)))
	}
	_, err := keysClient(t, fake, operator).CreateKey(testCtx(t), keyName, params, nil)
	require.NoError(t, err)
}

// resolver is a fixed DNS answer per host.
type resolver map[string][]string

func (r resolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if addrs, ok := r[host]; ok {
		return addrs, nil
	}
	return nil, &dnsError{host}
}

type dnsError struct{ host string }

func (e *dnsError) Error() string { return "lookup " + e.host + ": no such host" }

// mockDB returns a sqlmock database whose expectations are met by the end of the test.
func mockDB(t *testing.T) (*sql.DB, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(sqlmock.QueryMatcherEqual))
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, mock.ExpectationsWereMet())
		_ = db.Close()
	})
	return db, mock
}

func executor(db *sql.DB) oracle.Executor { return oracle.NewDB(db, "database adbhsmdemo", nil) }

const (
	selectTablespaces = "SELECT TABLESPACE_NAME, ENCRYPTED FROM DBA_TABLESPACES WHERE CONTENTS = 'PERMANENT' " +
		"AND TABLESPACE_NAME NOT IN ('SYSTEM', 'SYSAUX') ORDER BY TABLESPACE_NAME"
	selectWallet = "SELECT WRL_TYPE, WALLET_TYPE, STATUS FROM V$ENCRYPTION_WALLET"
)

var (
	pairsOnce sync.Once
	pairsPEM  [][2][]byte
	pairsErr  error
)

// keyPairs returns four 2048-bit key pairs as PEM (certificate, key), generated once per test binary: three
// wrap the domain, the fourth is a stranger's.
func keyPairs(t *testing.T) [][2][]byte {
	t.Helper()
	pairsOnce.Do(func() {
		for range 4 {
			cert, key, err := securitydomain.GenerateKeyPair(securitydomain.MinRSABits, "verify test")
			if err != nil {
				pairsErr = err
				return
			}
			pairsPEM = append(pairsPEM, [2][]byte{cert, key})
		}
	})
	require.NoError(t, pairsErr)
	return pairsPEM
}

// domainFixture downloads a security domain (quorum 2 of the first three key pairs) from a fresh fake HSM, as
// activation does, writes it with mode 0600 and each private key to its own file; it returns the domain's
// path and the key files, the fourth being the stranger's.
func domainFixture(t *testing.T) (string, []string) {
	t.Helper()
	fake := fakehsm.New(t)
	pairs := keyPairs(t)
	var certs []*x509.Certificate
	for _, p := range pairs[:3] {
		kp, err := securitydomain.LoadKeyPair(p[0], p[1])
		require.NoError(t, err)
		certs = append(certs, kp.Cert)
	}
	body, err := securitydomain.NewDownloadRequest(certs, 2)
	require.NoError(t, err)
	sd, err := hsm.NewSecurityDomainClient(fake.URL(), fake.Credential(fakehsm.DefaultAdministratorID),
		options(fake))
	require.NoError(t, err)
	data, _, err := sd.Download(testCtx(t), body)
	require.NoError(t, err)

	dir := t.TempDir()
	path := filepath.Join(dir, "hsm-sd.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	var keys []string
	for i, p := range pairs {
		k := filepath.Join(dir, "hsm-sd-key"+string(rune('0'+i))+".pem")
		content := p[1]
		if i == 1 {
			content = append(append([]byte{}, p[0]...), p[1]...) // a key file holding its certificate too
		}
		require.NoError(t, os.WriteFile(k, content, 0o600))
		keys = append(keys, k)
	}
	return path, keys
}

func fmtV(v any) string      { return fmt.Sprintf("%v", v) }
func fmtSharpV(v any) string { return fmt.Sprintf("%#v", v) }

// noSleep is an hsm.Retry Sleep that returns at once: tests never sleep.
func noSleep(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}
