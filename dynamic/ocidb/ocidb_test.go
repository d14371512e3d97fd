// This file tests the client against the fake OCI endpoint with oci-go-sdk's real clients: reads, key switches
// through UPDATING and their work requests, restarts, and every fault the fake injects.
package ocidb_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakeoci"
	"github.com/odaa-platform/adbs-hsm/dynamic/ocidb"
)

const db = fakeoci.DefaultDatabaseID

var azureKey = ocidb.Key{Provider: ocidb.ProviderAzure, VaultURI: testVault, KeyName: testKey}

func TestGetReportsStateAndKey(t *testing.T) {
	fake, c, _ := setup(t)
	ctx := context.Background()

	got, err := c.Get(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if got.LifecycleState != ocidb.StateAvailable || got.Key.Provider != ocidb.ProviderOracleManaged ||
		got.ID != db {
		t.Fatalf("Get = %+v, want AVAILABLE with Oracle-managed keys", got)
	}

	fake.SetKey(db, fakeoci.Key{Provider: fakeoci.ProviderAzure, VaultURI: testVault, KeyName: testKey})
	got, err = c.Get(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Key.Same(azureKey) || got.Key.VaultURI != testVault || got.Key.KeyName != testKey {
		t.Fatalf("Get key = %+v, want %+v", got.Key, azureKey)
	}

	_, err = c.Get(ctx, "ocid1.autonomousdatabase.oc1.iad.missing")
	if !ocidb.IsNotFound(err) {
		t.Fatalf("Get of a missing database = %v, want a 404", err)
	}
	if !strings.Contains(err.Error(), "NotAuthorizedOrNotFound") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not the short form with the code: %q", err)
	}
}

func TestSetAzureKeySwitchesThroughUpdatingAndItsWorkRequest(t *testing.T) {
	fake, c, rec := setup(t, fakeoci.WithTransitionPolls(3), fakeoci.WithWorkRequestPolls(2))

	got, err := c.SetAzureKey(context.Background(), db, testVault, testKey)
	if err != nil {
		t.Fatal(err)
	}

	if !got.Key.Same(azureKey) || got.LifecycleState != ocidb.StateAvailable {
		t.Fatalf("after the switch the database reports %+v", got)
	}
	if d, _ := fake.Database(db); d.Key.Provider != fakeoci.ProviderAzure || d.Key.KeyName != testKey {
		t.Fatalf("fake holds key %+v", d.Key)
	}
	if n := fake.KeySwitches(db); n != 1 {
		t.Errorf("%d key switches, want 1", n)
	}
	// One PUT with exactly the Azure key details, as UpdateAutonomousDatabase takes them.
	var puts []fakeoci.Request
	for _, r := range fake.RequestLog() {
		if !r.Authenticated {
			t.Errorf("request %s %s was not authenticated: %s", r.Method, r.Path, r.AuthError)
		}
		if r.Operation == fakeoci.OpUpdateAutonomousDatabase {
			puts = append(puts, r)
		}
	}
	if len(puts) != 1 {
		t.Fatalf("%d UpdateAutonomousDatabase requests, want 1", len(puts))
	}
	var body map[string]map[string]string
	if err := json.Unmarshal([]byte(puts[0].Body), &body); err != nil {
		t.Fatalf("PUT body %q: %v", puts[0].Body, err)
	}
	want := map[string]map[string]string{"encryptionKey": {"provider": "AZURE", "vaultUri": testVault,
		"keyName": testKey}}
	if len(body) != 1 || len(body["encryptionKey"]) != 3 || body["encryptionKey"]["provider"] != "AZURE" ||
		body["encryptionKey"]["vaultUri"] != testVault || body["encryptionKey"]["keyName"] != testKey {
		t.Errorf("PUT body = %v, want %v", body, want)
	}
	if want := "/20160918/autonomousDatabases/" + db; puts[0].Path != want {
		t.Errorf("PUT path %s, want %s", puts[0].Path, want)
	}

	// The work request went ACCEPTED, IN_PROGRESS, SUCCEEDED; the database UPDATING three reads, then AVAILABLE.
	if got := fake.WorkRequestStatuses(); len(got) != 1 || !slices.Equal(got[0],
		[]string{"ACCEPTED", "IN_PROGRESS", "SUCCEEDED"}) {
		t.Errorf("work request statuses %v", got)
	}
	served := fake.StatesServed(db)
	if n := countOf(served, "UPDATING"); n != 3 || served[len(served)-1] != "AVAILABLE" {
		t.Errorf("database states served %v, want three UPDATING then AVAILABLE", served)
	}
	for _, line := range []string{"switching the TDE master key", "IN_PROGRESS", "is UPDATING", "now uses Azure key"} {
		if !rec.Has(line) {
			t.Errorf("no progress line with %q:\n%s", line, rec.All())
		}
	}
	// Each wait starts at the poll interval and doubles, OCI giving no hint: nothing slept, nothing retried.
	wantPauses := []time.Duration{10 * time.Second, 20 * time.Second, // the work request
		10 * time.Second, 20 * time.Second, 40 * time.Second} // the database
	if !slices.Equal(rec.Pauses(), wantPauses) {
		t.Errorf("pauses %v, want %v", rec.Pauses(), wantPauses)
	}
	if len(rec.Pauses()) != 5 {
		t.Errorf("%d pauses, want 2 for the work request and 3 for the database: %v", len(rec.Pauses()),
			rec.Pauses())
	}
}

func TestSetAzureKeyAlreadyInUseSwitchesNothing(t *testing.T) {
	fake, c, rec := setup(t)
	fake.SetKey(db, fakeoci.Key{Provider: fakeoci.ProviderAzure, VaultURI: testVault + "/", KeyName: testKey})

	if _, err := c.SetAzureKey(context.Background(), db, testVault, testKey); err != nil {
		t.Fatal(err)
	}
	if n := fake.Changes(); n != 0 {
		t.Errorf("%d changing requests for a key already in use", n)
	}
	if !rec.Has("already uses") {
		t.Errorf("no line saying the key is already in use:\n%s", rec.All())
	}
}

func TestSetOracleManagedKeyReverts(t *testing.T) {
	fake, c, _ := setup(t)
	ctx := context.Background()
	if _, err := c.SetAzureKey(ctx, db, testVault, testKey); err != nil {
		t.Fatal(err)
	}
	got, err := c.SetOracleManagedKey(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key.Provider != ocidb.ProviderOracleManaged || got.Key.VaultURI != "" {
		t.Errorf("after revert the database reports %+v", got.Key)
	}
	if d, _ := fake.Database(db); d.Key.Provider != fakeoci.ProviderOracleManaged {
		t.Errorf("fake holds %+v", d.Key)
	}
}

func TestSetAzureKeyWaitsForABusyDatabaseFirst(t *testing.T) {
	fake, c, rec := setup(t)
	fake.BeginUpdate(db)

	if _, err := c.SetAzureKey(context.Background(), db, testVault, testKey); err != nil {
		t.Fatal(err)
	}
	log := fake.RequestLog()
	firstPut := slices.IndexFunc(log, func(r fakeoci.Request) bool {
		return r.Operation == fakeoci.OpUpdateAutonomousDatabase
	})
	if firstPut < 0 || log[firstPut].Status != http.StatusOK {
		t.Fatalf("the switch was not sent once the database was free: %+v", log)
	}
	if served := fake.StatesServed(db); served[0] != "UPDATING" {
		t.Errorf("states served %v, want the first read UPDATING", served)
	}
	if !rec.Has("is UPDATING") {
		t.Errorf("no progress line for the busy database:\n%s", rec.All())
	}
}

func TestRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []fakeoci.Option
		states []string
	}{
		{"restarting", nil, []string{"RESTARTING"}},
		{"stop-then-start", []fakeoci.Option{fakeoci.WithStopStartRestart()}, []string{"STOPPING", "STOPPED",
			"STARTING"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, rec := setup(t, tc.opts...)

			if err := c.Restart(context.Background(), db); err != nil {
				t.Fatal(err)
			}
			if n := fake.Restarts(db); n != 1 {
				t.Errorf("%d restarts, want 1", n)
			}
			served := fake.StatesServed(db)
			for _, st := range tc.states {
				if !slices.Contains(served, st) {
					t.Errorf("states served %v do not pass through %s", served, st)
				}
			}
			if served[len(served)-1] != "AVAILABLE" {
				t.Errorf("last state served %s", served[len(served)-1])
			}
			if !rec.Has("restarting database") || !rec.Has("restarted and AVAILABLE") {
				t.Errorf("progress lines:\n%s", rec.All())
			}
			want := "/20160918/autonomousDatabases/" + db + "/actions/restart"
			if !slices.ContainsFunc(fake.RequestLog(), func(r fakeoci.Request) bool {
				return r.Method == http.MethodPost && r.Path == want
			}) {
				t.Errorf("no POST %s", want)
			}
		})
	}
}

// TestRestarterContract pins the signature another resource calls after ROUTE_OUTBOUND_CONNECTIONS changes.
func TestRestarterContract(t *testing.T) {
	var _ interface {
		Restart(ctx context.Context, databaseOcid string) error
	} = (*ocidb.Client)(nil)
}

func TestThrottlingIsRetriedHonouringTheHint(t *testing.T) {
	fake, c, rec := setup(t, fakeoci.WithFaults(fakeoci.Throttle(fakeoci.OpUpdateAutonomousDatabase, 1, "7")))

	if _, err := c.SetAzureKey(context.Background(), db, testVault, testKey); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rec.Pauses(), 7*time.Second) {
		t.Errorf("pauses %v do not honour the 7 s Retry-After", rec.Pauses())
	}
	if !rec.Has("attempt 1 of 5 answered 429 TooManyRequests") {
		t.Errorf("no status line for the retry:\n%s", rec.All())
	}
	if n := fake.Requests(fakeoci.OpUpdateAutonomousDatabase); n != 2 || fake.KeySwitches(db) != 1 {
		t.Errorf("%d PUTs and %d switches, want 2 and 1", n, fake.KeySwitches(db))
	}
}

func TestServerErrorOnceIsRetriedWithBackoff(t *testing.T) {
	fake, c, rec := setup(t, fakeoci.WithFaults(fakeoci.Unavailable(fakeoci.OpGetAutonomousDatabase, 1)))

	if _, err := c.Get(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if got := rec.Pauses(); len(got) != 1 || got[0] != ocidb.DefaultRetryDelay {
		t.Errorf("pauses %v, want one of %s", got, ocidb.DefaultRetryDelay)
	}
	if !rec.Has("attempt 1 of 5 answered 503 ServiceUnavailable") {
		t.Errorf("no status line for the retry:\n%s", rec.All())
	}
	if fake.PendingFaults() != 0 {
		t.Error("the fault did not fire")
	}
}

func TestRetriesAreBounded(t *testing.T) {
	id := newIdentity(t)
	fake := fakeoci.New(t, fakeoci.WithIdentity(id),
		fakeoci.WithFaults(fakeoci.Throttle(fakeoci.OpGetAutonomousDatabase, 10, "")))
	rec := &recorder{}
	c := newClient(t, fake, id, rec, ocidb.Options{Attempts: 3, RetryDelay: time.Second,
		MaxRetryDelay: 3 * time.Second})

	_, err := c.Get(context.Background(), db)
	if err == nil || !strings.Contains(err.Error(), "attempt 3 of 3") || !strings.Contains(err.Error(), "429") {
		t.Fatalf("err = %v, want the last 429 after attempt 3 of 3", err)
	}
	if n := fake.Requests(fakeoci.OpGetAutonomousDatabase); n != 3 {
		t.Errorf("%d GETs, want 3", n)
	}
	if got := rec.Pauses(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("pauses %v, want 1s then 2s (no pause after the last attempt)", got)
	}
}

func TestFailedWorkRequestReportsItsErrors(t *testing.T) {
	fake, c, _ := setup(t, fakeoci.WithFaults(fakeoci.FailWorkRequest(fakeoci.OpUpdateAutonomousDatabase,
		"KeyNotAccessible", "The database could not access the key in the Azure vault.")))

	_, err := c.SetAzureKey(context.Background(), db, testVault, testKey)
	if err == nil {
		t.Fatal("a failed work request passed")
	}
	for _, part := range []string{"failed", "KeyNotAccessible", "could not access the key"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	if fake.Requests(fakeoci.OpListWorkRequestErrors) != 1 {
		t.Error("the work request's errors were not listed")
	}
	if d, _ := fake.Database(db); d.Key.Provider != fakeoci.ProviderOracleManaged || fake.KeySwitches(db) != 0 {
		t.Errorf("a failed switch changed the key: %+v", d.Key)
	}
}

func TestConflictWhileUpdatingWaitsAndSendsAgain(t *testing.T) {
	fake, c, rec := setup(t, fakeoci.WithFaults(fakeoci.ConcurrentChange(fakeoci.OpUpdateAutonomousDatabase)))

	if _, err := c.SetAzureKey(context.Background(), db, testVault, testKey); err != nil {
		t.Fatal(err)
	}
	if n := fake.Requests(fakeoci.OpUpdateAutonomousDatabase); n != 2 || fake.KeySwitches(db) != 1 {
		t.Errorf("%d PUTs, %d switches; want 2 and 1", n, fake.KeySwitches(db))
	}
	if !rec.Has("attempt 1 of 3 answered 409 IncorrectState", "busy") {
		t.Errorf("no status line for the conflict:\n%s", rec.All())
	}
	if served := fake.StatesServed(db); !slices.Contains(served, "UPDATING") {
		t.Errorf("states served %v", served)
	}
}

func TestKeySwitchAnswered500IsReadBeforeItIsSentAgain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    fakeoci.Fault
		wantPuts int
	}{
		// The switch was not made: it is sent again once.
		{"not-applied", fakeoci.InternalError(fakeoci.OpUpdateAutonomousDatabase, 1), 2},
		// The switch was made but its answer lost: the database already reports the key; no second switch.
		{"applied-answer-lost", fakeoci.LostAnswer(fakeoci.OpUpdateAutonomousDatabase), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, rec := setup(t, fakeoci.WithFaults(tc.fault))

			got, err := c.SetAzureKey(context.Background(), db, testVault, testKey)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Key.Same(azureKey) {
				t.Errorf("database reports %+v", got.Key)
			}
			if n := fake.Requests(fakeoci.OpUpdateAutonomousDatabase); n != tc.wantPuts || fake.KeySwitches(db) != 1 {
				t.Errorf("%d PUTs and %d switches, want %d and 1", n, fake.KeySwitches(db), tc.wantPuts)
			}
			if !rec.Has("attempt 1 of 3 answered 500 InternalServerError", "reading the database") {
				t.Errorf("no status line for the uncertain answer:\n%s", rec.All())
			}
		})
	}
}

func TestRestartAnswered500IsSentAgain(t *testing.T) {
	fake, c, rec := setup(t, fakeoci.WithFaults(fakeoci.InternalError(fakeoci.OpRestartAutonomousDatabase, 1)))

	if err := c.Restart(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if fake.Restarts(db) != 1 || !rec.Has("attempt 1 of 5 answered 500") {
		t.Errorf("%d restarts; lines:\n%s", fake.Restarts(db), rec.All())
	}
}

func TestConflictOnRestartWaitsAndSendsAgain(t *testing.T) {
	fake, c, _ := setup(t, fakeoci.WithFaults(fakeoci.ConcurrentChange(fakeoci.OpRestartAutonomousDatabase)))

	if err := c.Restart(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if n := fake.Requests(fakeoci.OpRestartAutonomousDatabase); n != 2 || fake.Restarts(db) != 1 {
		t.Errorf("%d restart requests, %d restarts; want 2 and 1", n, fake.Restarts(db))
	}
}

func TestKeySwitchLimitIsAClearErrorNotARetry(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusConflict} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			fake, c, rec := setup(t, fakeoci.WithFaults(fakeoci.TooManyKeySwitches(status)))

			_, err := c.SetAzureKey(context.Background(), db, testVault, testKey)
			if !errors.Is(err, ocidb.ErrKeySwitchLimit) {
				t.Fatalf("err = %v, want ErrKeySwitchLimit", err)
			}
			if !strings.Contains(err.Error(), "24 hours") {
				t.Errorf("error %q does not say what the limit is", err)
			}
			if n := fake.Requests(fakeoci.OpUpdateAutonomousDatabase); n != 1 {
				t.Errorf("%d PUTs, want exactly 1: the limit is not retried", n)
			}
			if len(rec.Pauses()) != 0 {
				t.Errorf("paused %v before giving up", rec.Pauses())
			}
		})
	}
}

func TestThirdKeySwitchInADayIsRefused(t *testing.T) {
	fake, c, _ := setup(t)
	ctx := context.Background()
	if _, err := c.SetAzureKey(ctx, db, testVault, testKey); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetAzureKey(ctx, db, testVault, "second-key"); err != nil {
		t.Fatal(err)
	}
	_, err := c.SetOracleManagedKey(ctx, db)
	if !errors.Is(err, ocidb.ErrKeySwitchLimit) {
		t.Fatalf("third switch: err = %v, want ErrKeySwitchLimit", err)
	}
	if d, _ := fake.Database(db); d.Key.KeyName != "second-key" {
		t.Errorf("refused switch changed the key: %+v", d.Key)
	}
}

func TestBadSignatureIsRefused(t *testing.T) {
	fake := fakeoci.New(t, fakeoci.WithIdentity(newIdentity(t)))
	// Same tenancy, user and fingerprint, another private key: the signature cannot verify.
	other := newIdentity(t)
	c := newClient(t, fake, other, &recorder{}, ocidb.Options{})

	_, err := c.Get(context.Background(), db)
	if StatusOfErr := ocidb.StatusOf(err); StatusOfErr != http.StatusUnauthorized {
		t.Fatalf("err = %v, want 401", err)
	}
	if !strings.Contains(err.Error(), "signature") {
		t.Errorf("error %q does not point at the signature", err)
	}
	log := fake.RequestLog()
	if len(log) != 1 || log[0].Authenticated || log[0].AuthError == "" {
		t.Errorf("log %+v, want one refused request with its reason", log)
	}
}

func TestMissingCredentialsAreAClearError(t *testing.T) {
	_, err := ocidb.New(ocidb.Options{ConfigProvider: common.NewRawConfigurationProvider("", "", "", "", "", nil)})
	if err == nil || !strings.Contains(err.Error(), "finding OCI credentials") ||
		!strings.Contains(err.Error(), "~/.oci/config") {
		t.Fatalf("err = %v, want one saying where credentials are looked for", err)
	}
}

func TestKeySwitchTimeoutIsNamed(t *testing.T) {
	id := newIdentity(t)
	fake := fakeoci.New(t, fakeoci.WithIdentity(id), fakeoci.WithTransitionPolls(1<<30))
	c := newClient(t, fake, id, &recorder{}, ocidb.Options{KeySwitchTimeout: 200 * time.Millisecond})

	_, err := c.SetAzureKey(context.Background(), db, testVault, testKey)
	if err == nil || !strings.Contains(err.Error(), "timeout") || !strings.Contains(err.Error(), "key switch of") {
		t.Fatalf("err = %v, want the key switch's named timeout", err)
	}
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
