// This file measures how late the plugin notices that the HSM finished activating: the fake HSM completes the
// download at a known moment of a virtual clock, the plugin's pauses advance that clock instead of sleeping, and
// the lag is the clock when the create returns minus that moment.
package provider

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

// virtualClock is time that moves only when the plugin pauses.
type virtualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// sleep advances the clock by d and returns at once.
func (c *virtualClock) sleep(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// activationLag activates a fake HSM that finishes after done of virtual time, pacing its answers with
// retryAfter seconds ("0": none), and returns how long after done the plugin's create returned.
func activationLag(b testing.TB, certs []property.Value, retryAfter string, done time.Duration) time.Duration {
	b.Helper()
	clock := &virtualClock{now: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	at := clock.Now().Add(done)
	fake := fakehsm.New(b, fakehsm.WithRetryAfter(retryAfter), fakehsm.WithClock(clock.Now),
		fakehsm.WithCompletionAt(at))
	env := newTestEnvWith(b, fake, Options{Credential: fake.Credential(fakehsm.DefaultAdministratorID),
		HSM: fakeClientOptions(fake), sleep: clock.sleep})
	env.mustCreate(sdToken, property.NewMap(map[string]property.Value{
		"hsmUri":        property.New(fake.URL()),
		"hsmResourceId": property.New(fake.ARMID()),
		"certificates":  property.New(property.NewArray(certs)),
		"quorum":        property.New(2.0),
		"outputPath":    property.New(filepath.Join(b.TempDir(), "sd.json")),
	}))
	if !fake.Activated() {
		b.Fatal("the fake HSM is not activated after the create")
	}
	return clock.Now().Sub(at)
}

// BenchmarkActivationLag reports, for the service's Retry-After of 10 s, 60 s and 120 s (the plugin caps pauses
// at one minute) and for no Retry-After (the plugin's 10 s interval doubling to a minute), the largest and the
// mean delay between the HSM finishing its activation and the plugin noticing, over completion moments spread
// across five minutes, and that largest delay over the poll interval in effect, which must stay below 1
// (margin-ms: by how much).
func BenchmarkActivationLag(b *testing.B) {
	certs, _ := userKeys(b, 3)
	values := make([]property.Value, len(certs))
	for i, c := range certs {
		values[i] = property.New(c)
	}
	for _, tc := range []struct {
		retryAfter string
		interval   time.Duration
	}{
		// Without a hint the plugin polls at 10 s, doubling each poll up to a minute: the bound is the cap.
		{"0", time.Minute},
		{"10", 10 * time.Second},
		{"60", time.Minute},
		{"120", time.Minute},
	} {
		b.Run(fmt.Sprintf("retry-after=%ss", tc.retryAfter), func(b *testing.B) {
			var worst, total time.Duration
			runs := 0
			for b.Loop() {
				// Completion moments step by a prime number of milliseconds, so they fall everywhere in a poll;
				// none is at the download itself (see TestActivationLagWithinOneInterval).
				done := time.Duration(1+runs*7919%299999) * time.Millisecond
				lag := activationLag(b, values, tc.retryAfter, done)
				if lag < 0 {
					b.Fatalf("the plugin reported the HSM active %s before it was", -lag)
				}
				if lag >= tc.interval {
					b.Fatalf("the plugin noticed the activation %s late, a poll interval is %s", lag, tc.interval)
				}
				worst, total, runs = max(worst, lag), total+lag, runs+1
			}
			b.ReportMetric(worst.Seconds(), "max-lag-s")
			b.ReportMetric(total.Seconds()/float64(runs), "mean-lag-s")
			b.ReportMetric(tc.interval.Seconds(), "interval-s")
			b.ReportMetric(float64(worst)/float64(tc.interval), "max-lag/interval")
			b.ReportMetric(float64(tc.interval-worst)/float64(time.Millisecond), "margin-ms")
		})
	}
}

// The plugin notices a finished activation within one poll interval, wherever in the interval it finished, and
// never before it finished. An HSM done at the download's own answer is noticed one Retry-After later: the
// plugin honours the service's first hint rather than polling at once.
func TestActivationLagWithinOneInterval(t *testing.T) {
	certs, _ := userKeys(t, 3)
	values := make([]property.Value, len(certs))
	for i, c := range certs {
		values[i] = property.New(c)
	}
	for _, done := range []time.Duration{0, 3 * time.Second, 10 * time.Second, 47 * time.Second} {
		lag := activationLag(t, values, "10", done)
		if lag < 0 || lag > 10*time.Second {
			t.Errorf("finished at %s: noticed %s later, want within the 10s Retry-After", done, lag)
		}
		if done == 0 && lag != 10*time.Second {
			t.Errorf("finished at the download: want the first poll after its 10s Retry-After, got %s", lag)
		}
		if done == 47*time.Second && lag != 3*time.Second {
			t.Errorf("finished at 47s: polls at 10s steps notice it at 50s, 3s later; got %s", lag)
		}
	}
}
