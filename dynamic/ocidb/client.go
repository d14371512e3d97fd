// Package ocidb is the plugin's client for the OCI side of an Autonomous Database: reading its lifecycle state
// and encryption key, switching its TDE master key to a key in Azure (or back to Oracle-managed keys) through
// UpdateAutonomousDatabase, and restarting it. It calls OCI through oci-go-sdk's database and workrequests
// clients, bounds their retries with the SDK's own retry policy, and paces every long wait with hsm.Wait.
//
// This file holds the client: its options, construction from an OCI configuration provider, and Get.
package ocidb

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/database"
	"github.com/oracle/oci-go-sdk/v65/workrequests"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
)

// Key providers as the database reports them (AutonomousDatabaseEncryptionKeyDetails' provider).
const (
	ProviderAzure         = string(database.AutonomousDatabaseEncryptionKeyDetailsProviderAzure)
	ProviderOracleManaged = string(database.AutonomousDatabaseEncryptionKeyDetailsProviderOracleManaged)
)

// Lifecycle states this package acts on.
const (
	StateAvailable  = string(database.AutonomousDatabaseLifecycleStateAvailable)
	StateUpdating   = string(database.AutonomousDatabaseLifecycleStateUpdating)
	StateRestarting = string(database.AutonomousDatabaseLifecycleStateRestarting)
	StateStopped    = string(database.AutonomousDatabaseLifecycleStateStopped)
)

// Defaults of Options' zero fields.
const (
	DefaultAttempts         = 5
	DefaultRetryDelay       = 2 * time.Second
	DefaultMaxRetryDelay    = 30 * time.Second
	DefaultKeySwitchTimeout = time.Hour
	DefaultRestartTimeout   = 30 * time.Minute
	// DefaultConflictAttempts bounds how often a change is sent again after the database answered 409 because
	// another change was running.
	DefaultConflictAttempts = 3
)

// Options configure a Client. The zero value is what `pulumi up` runs with: credentials and region from
// common.DefaultConfigProvider(), the public OCI endpoints of that region, and the defaults above.
type Options struct {
	// ConfigProvider gives the tenancy, user, key fingerprint, private key and region that sign every request.
	// Nil means common.DefaultConfigProvider(): the DEFAULT profile of ~/.oci/config (or of the file
	// OCI_CONFIG_FILE names when ~/.oci/config does not exist), then ~/.oraclebmc/config, then the variables
	// TF_VAR_tenancy_ocid, TF_VAR_user_ocid, TF_VAR_fingerprint, TF_VAR_private_key_path and TF_VAR_region.
	ConfigProvider common.ConfigurationProvider
	// Endpoint replaces the hosts of the database service (https://database.<region>.oraclecloud.com) and of
	// work requests (https://iaas.<region>.oraclecloud.com), for a local stand-in. Empty means the region's.
	Endpoint string
	// HTTPClient sends the requests, for example one trusting a local stand-in's certificate. Nil means the
	// SDK's own.
	HTTPClient common.HTTPRequestDispatcher
	// Attempts bounds the calls of one request answered 429 (throttling) or 5xx. Default 5.
	Attempts int
	// RetryDelay is the first pause between attempts when OCI gives no Retry-After; each later pause doubles,
	// capped at MaxRetryDelay, which also caps a Retry-After. Defaults 2 s and 30 s.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// ConflictAttempts bounds how often a key switch or restart is sent again after a 409 answer because the
	// database was busy with another change; each time, the database is first awaited. Default 3.
	ConflictAttempts int
	// KeySwitchTimeout bounds a whole key switch: the wait for a busy database, the work request and the
	// return to AVAILABLE. Default one hour.
	KeySwitchTimeout time.Duration
	// RestartTimeout bounds a whole restart. Default 30 minutes.
	RestartTimeout time.Duration
	// Wait makes the poller of each wait and carries the progress lines and the sleep of retries too. The
	// plugin passes one that reports status lines of the resource in ctx. Nil means an hsm.Wait polling every
	// 15 s (at most every minute with a Retry-After), without progress lines.
	Wait func(ctx context.Context, what string, timeout time.Duration) hsm.Wait
}

// Client reads and changes Autonomous Databases. It is safe for concurrent use.
type Client struct {
	db   database.DatabaseClient
	wr   workrequests.WorkRequestClient
	opts Options
}

// New returns a client signing with opts.ConfigProvider, or with common.DefaultConfigProvider() (see Options).
// Missing or incomplete credentials fail here, saying where they are looked for.
func New(opts Options) (*Client, error) {
	provider := opts.ConfigProvider
	if provider == nil {
		provider = common.DefaultConfigProvider()
	}
	if ok, err := common.IsConfigurationProviderValid(provider); !ok {
		return nil, fmt.Errorf("finding OCI credentials (the DEFAULT profile of ~/.oci/config or of the file "+
			"OCI_CONFIG_FILE names, or the TF_VAR_tenancy_ocid, TF_VAR_user_ocid, TF_VAR_fingerprint, "+
			"TF_VAR_private_key_path and TF_VAR_region variables): %w", err)
	}
	db, err := database.NewDatabaseClientWithConfigurationProvider(provider)
	if err != nil {
		return nil, fmt.Errorf("making the OCI database client: %w", err)
	}
	wr, err := workrequests.NewWorkRequestClientWithConfigurationProvider(provider)
	if err != nil {
		return nil, fmt.Errorf("making the OCI work request client: %w", err)
	}
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("OCI endpoint %q must be an https URL with a host", opts.Endpoint)
		}
		host := strings.TrimSuffix(opts.Endpoint, "/")
		db.Host, wr.Host = host, host
	}
	if opts.HTTPClient != nil {
		db.HTTPClient, wr.HTTPClient = opts.HTTPClient, opts.HTTPClient
	}
	return &Client{db: db, wr: wr, opts: opts}, nil
}

// RegionOf returns the region key an OCID carries (ocid1.<type>.<realm>.<region>.<unique>), such as "iad", or
// "" for an OCID without one.
func RegionOf(ocid string) string {
	parts := strings.Split(ocid, ".")
	if len(parts) < 5 || parts[0] != "ocid1" {
		return ""
	}
	return parts[3]
}

// dbFor returns the database client for the region the OCID names. A resource lives in one region and is
// reached only through that region's endpoint, whatever region the OCI profile names; with Options.Endpoint
// every call goes there.
func (c *Client) dbFor(ocid string) database.DatabaseClient {
	db := c.db
	if region := RegionOf(ocid); region != "" && c.opts.Endpoint == "" {
		db.SetRegion(region)
	}
	return db
}

// wrFor is dbFor for the work request API.
func (c *Client) wrFor(ocid string) workrequests.WorkRequestClient {
	wr := c.wr
	if region := RegionOf(ocid); region != "" && c.opts.Endpoint == "" {
		wr.SetRegion(region)
	}
	return wr
}

// Key is the encryption key a database reports.
type Key struct {
	// Provider is AZURE, ORACLE_MANAGED, or another provider OCI knows (OCI, AWS, GCP, OKV).
	Provider string
	// VaultURI and KeyName name a key in Azure; both are empty for other providers.
	VaultURI string
	KeyName  string
}

// String names the key for messages.
func (k Key) String() string {
	if k.Provider == ProviderAzure {
		return fmt.Sprintf("Azure key %s in %s", k.KeyName, k.VaultURI)
	}
	if k.Provider == ProviderOracleManaged {
		return "Oracle-managed keys"
	}
	return k.Provider + " key"
}

// Same reports whether k and o are the same key: vault URIs compare without case and without a trailing slash,
// key names without case, as Azure compares them.
func (k Key) Same(o Key) bool {
	return k.Provider == o.Provider && normalVaultURI(k.VaultURI) == normalVaultURI(o.VaultURI) &&
		strings.EqualFold(k.KeyName, o.KeyName)
}

func normalVaultURI(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "/"))
}

// Database is what Get reports of an Autonomous Database.
type Database struct {
	ID               string
	DisplayName      string
	LifecycleState   string
	LifecycleDetails string
	// Key is the key the database reports; a database that reports none uses Oracle-managed keys, the default.
	Key Key
}

// Get reads the database's lifecycle state and encryption key.
func (c *Client) Get(ctx context.Context, ocid string) (Database, error) {
	var last attemptCounter
	resp, err := c.dbFor(ocid).GetAutonomousDatabase(ctx, database.GetAutonomousDatabaseRequest{
		AutonomousDatabaseId: common.String(ocid),
		RequestMetadata:      c.metadata(ctx, "reading database "+ocid, &last, false),
	})
	if err != nil {
		return Database{}, last.wrap(fmt.Errorf("reading autonomous database %s: %w", ocid, explain(err)))
	}
	return databaseOf(resp.AutonomousDatabase), nil
}

// databaseOf reads the fields this package uses from the SDK's model.
func databaseOf(adb database.AutonomousDatabase) Database {
	d := Database{
		ID:               deref(adb.Id),
		DisplayName:      deref(adb.DisplayName),
		LifecycleState:   string(adb.LifecycleState),
		LifecycleDetails: deref(adb.LifecycleDetails),
		Key:              Key{Provider: ProviderOracleManaged},
	}
	switch k := adb.EncryptionKey.(type) {
	case database.AzureKeyDetails:
		d.Key = Key{Provider: ProviderAzure, VaultURI: deref(k.VaultUri), KeyName: deref(k.KeyName)}
	case database.OracleManagedKeyDetails:
	case database.OciKeyDetails:
		d.Key = Key{Provider: string(database.AutonomousDatabaseEncryptionKeyDetailsProviderOci)}
	case database.AwsKeyDetails:
		d.Key = Key{Provider: string(database.AutonomousDatabaseEncryptionKeyDetailsProviderAws)}
	case database.GcpKeyDetails:
		d.Key = Key{Provider: "GCP"}
	case database.OkvKeyDetails:
		d.Key = Key{Provider: string(database.AutonomousDatabaseEncryptionKeyDetailsProviderOkv)}
	case nil:
	default:
		d.Key = Key{Provider: fmt.Sprintf("unknown (%T)", k)}
	}
	return d
}

// wait returns the poller for what, from Options.Wait or the default.
func (c *Client) wait(ctx context.Context, what string, timeout time.Duration) hsm.Wait {
	if c.opts.Wait != nil {
		return c.opts.Wait(ctx, what, timeout)
	}
	return hsm.Wait{What: what, Timeout: timeout, Interval: 15 * time.Second, MaxInterval: time.Minute}
}

// progress reports a status line through the poller's Progress, the one channel of progress lines.
func (c *Client) progress(ctx context.Context, format string, args ...any) {
	if w := c.wait(ctx, "", 0); w.Progress != nil {
		w.Progress(fmt.Sprintf(format, args...))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
