// This file holds the test harness: a client signed by a key generated in the test, pointed at a fake OCI
// endpoint, whose pauses are recorded instead of slept and whose progress lines are captured.
package ocidb_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakeoci"
	"github.com/odaa-platform/adbs-hsm/dynamic/ocidb"
)

const (
	testVault  = "https://hsm-odaa-demo.managedhsm.azure.net"
	testKey    = "odaa-hsm-encryption-key"
	testRegion = "us-ashburn-1"
)

// recorder records the pauses a client asks for and the progress lines it reports.
type recorder struct {
	mu     sync.Mutex
	pauses []time.Duration
	lines  []string
}

func (r *recorder) sleep(d time.Duration) <-chan time.Time {
	r.mu.Lock()
	r.pauses = append(r.pauses, d)
	r.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

func (r *recorder) progress(msg string) {
	r.mu.Lock()
	r.lines = append(r.lines, msg)
	r.mu.Unlock()
}

func (r *recorder) wait(_ context.Context, what string, timeout time.Duration) hsm.Wait {
	return hsm.Wait{What: what, Timeout: timeout, Interval: 10 * time.Second, MaxInterval: time.Minute,
		Progress: r.progress, Sleep: r.sleep}
}

func (r *recorder) Pauses() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.pauses...)
}

// Has reports whether some line contains every one of parts.
func (r *recorder) Has(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func (r *recorder) All() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// newIdentity generates the test's signing identity.
func newIdentity(t testing.TB) fakeoci.Identity {
	t.Helper()
	id, err := fakeoci.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// setup starts a fake trusting a fresh identity and returns a client signing with it.
func setup(t testing.TB, opts ...fakeoci.Option) (*fakeoci.Server, *ocidb.Client, *recorder) {
	t.Helper()
	id := newIdentity(t)
	fake := fakeoci.New(t, append([]fakeoci.Option{fakeoci.WithIdentity(id)}, opts...)...)
	rec := &recorder{}
	return fake, newClient(t, fake, id, rec, ocidb.Options{}), rec
}

// newClient returns a client of fake signing as id, with rec's waits, on top of opts.
func newClient(t testing.TB, fake *fakeoci.Server, id fakeoci.Identity, rec *recorder,
	opts ocidb.Options) *ocidb.Client {
	t.Helper()
	opts.ConfigProvider = id.ConfigProvider(testRegion)
	opts.Endpoint = fake.Endpoint()
	opts.HTTPClient = fake.Client()
	opts.Wait = rec.wait
	c, err := ocidb.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
