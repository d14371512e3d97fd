package hsm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// serviceError builds the error azcore returns for an answer of status with body.
func serviceError(t *testing.T, status int, body string) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://hsm.managedhsm.azure.net/keys/k", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: req}
	return runtime.NewResponseError(resp)
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		plain  error
		want   Class
	}{
		{name: "pool-creation-disabled", status: 503,
			body: `{"error":{"code":"ServiceUnavailable","message":"Pool creation is disabled in this region"}}`,
			want: RegionCapacity},
		{name: "plain-503", status: 503, body: `{"error":{"code":"ServiceUnavailable","message":"later"}}`,
			want: Permanent},
		{name: "public-access-disabled", status: 403, body: `{"error":{"code":"Forbidden","message":"Public ` +
			`network access is disabled","innererror":{"code":"ForbiddenByConnection"}}}`, want: NetworkClosed},
		{name: "firewall", status: 403, body: `{"error":{"code":"Forbidden","message":"Client address is not ` +
			`authorized and caller is not a trusted service."}}`, want: NetworkClosed},
		{name: "not-activated", status: 403, body: `{"error":{"code":"Forbidden","message":"The managed HSM is ` +
			`not activated"}}`, want: NotActivated},
		{name: "principal-not-found", status: 400, body: `{"error":{"code":"PrincipalNotFound","message":"x"}}`,
			want: NotYetPropagated},
		{name: "access-denied", status: 403, body: `{"error":{"code":"AccessDenied","message":"x"}}`,
			want: NotYetPropagated},
		{name: "unauthorized", status: 401, body: `{"error":{"code":"Unauthorized","message":"x"}}`,
			want: NotYetPropagated},
		{name: "not-found", status: 404, body: `{"error":{"code":"KeyNotFound","message":"x"}}`, want: Permanent},
		{name: "bad-parameter", status: 400, body: `{"error":{"code":"BadParameter","message":"x"}}`,
			want: Permanent},
		{name: "fresh-secret", plain: errors.New("AADSTS7000215: Invalid client secret provided"),
			want: NotYetPropagated},
		{name: "other-plain-error", plain: errors.New("dial tcp: connection refused"), want: Permanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.plain
			if err == nil {
				err = serviceError(t, tc.status, tc.body)
			}
			if got := Classify(fmt.Errorf("wrapped: %w", err)); got != tc.want {
				t.Errorf("Classify = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestExplainSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		body, want string
		status     int
	}{
		{`{"error":{"code":"Forbidden","innererror":{"code":"ForbiddenByFirewall"}}}`, "hsm.runnerInsideVnet", 403},
		{`{"error":{"code":"Forbidden","message":"not activated"}}`, "is not activated", 403},
		{`{"error":{"message":"Pool creation is disabled in this region"}}`, "choose another region", 503},
	} {
		err := serviceError(t, tc.status, tc.body)
		got := Explain(err, "hsm-x")
		if !strings.Contains(got.Error(), tc.want) || !strings.Contains(got.Error(), "hsm-x") {
			t.Errorf("Explain(%s) = %v, want it to name hsm-x and say %q", tc.body, got, tc.want)
		}
		if !errors.Is(got, err) {
			t.Error("Explain lost the original error")
		}
	}
	plain := errors.New("other")
	if got := Explain(plain, "hsm-x"); !errors.Is(got, plain) || got.Error() != plain.Error() {
		t.Error("Explain changed an error it has nothing to add to")
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header map[string]string
		want   time.Duration
	}{
		{map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{map[string]string{"Retry-After-Ms": "20", "Retry-After": "3"}, 20 * time.Millisecond},
		{map[string]string{"X-Ms-Retry-After-Ms": "15"}, 15 * time.Millisecond},
		{map[string]string{"Retry-After": "soon"}, 0},
		{map[string]string{"Retry-After": "0"}, 0},
		{nil, 0},
	} {
		resp := &http.Response{Header: http.Header{}}
		for k, v := range tc.header {
			resp.Header.Set(k, v)
		}
		if got := retryAfter(resp); got != tc.want {
			t.Errorf("retryAfter(%v) = %s, want %s", tc.header, got, tc.want)
		}
	}
}

// clock records the pauses asked for and returns at once.
type clock struct{ pauses []time.Duration }

func (c *clock) sleep(d time.Duration) <-chan time.Time {
	c.pauses = append(c.pauses, d)
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

func TestRetryBacksOffAndIsBounded(t *testing.T) {
	propagating := serviceError(t, 400, `{"error":{"code":"PrincipalNotFound","message":"not yet"}}`)

	t.Run("succeeds-within-the-bound", func(t *testing.T) {
		c := &clock{}
		var lines []string
		calls := 0
		r := Retry{What: "assigning a role", Attempts: 5, Initial: time.Second, Max: 3 * time.Second,
			Sleep: c.sleep, Progress: func(s string) { lines = append(lines, s) }}
		err := r.Do(context.Background(), func(context.Context) error {
			if calls++; calls < 4 {
				return propagating
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
		if fmt.Sprint(c.pauses) != fmt.Sprint(want) {
			t.Errorf("pauses %v, want %v (doubling, capped)", c.pauses, want)
		}
		if len(lines) != 3 || !strings.Contains(lines[0], "attempt 1 of 5") ||
			!strings.Contains(lines[2], "attempt 3 of 5") {
			t.Errorf("progress lines %q", lines)
		}
	})
	t.Run("reports-the-last-error-past-the-bound", func(t *testing.T) {
		c := &clock{}
		calls := 0
		r := Retry{What: "assigning a role", Attempts: 3, Initial: time.Second, Sleep: c.sleep}
		err := r.Do(context.Background(), func(context.Context) error { calls++; return propagating })
		if calls != 3 || !errors.Is(err, propagating) || !strings.Contains(err.Error(), "after 3 attempts") {
			t.Errorf("%d calls, error %v", calls, err)
		}
	})
	t.Run("never-retries-other-answers", func(t *testing.T) {
		closed := serviceError(t, 403, `{"error":{"code":"Forbidden","innererror":{"code":"ForbiddenByConnection"}}}`)
		calls := 0
		r := Retry{What: "x", Attempts: 5, Sleep: (&clock{}).sleep}
		err := r.Do(context.Background(), func(context.Context) error { calls++; return closed })
		if calls != 1 || !errors.Is(err, closed) {
			t.Errorf("%d calls, error %v", calls, err)
		}
	})
	t.Run("stops-at-its-budget", func(t *testing.T) {
		r := Retry{What: "x", Attempts: 1000, Initial: time.Hour, Budget: 10 * time.Millisecond}
		start := time.Now()
		err := r.Do(context.Background(), func(context.Context) error { return propagating })
		if err == nil || !strings.Contains(err.Error(), "past its 10ms budget") || time.Since(start) > time.Second {
			t.Errorf("error %v after %s", err, time.Since(start))
		}
	})
	t.Run("budget-ends-during-a-call", func(t *testing.T) {
		r := Retry{What: "x", Attempts: 5, Budget: 10 * time.Millisecond, Sleep: (&clock{}).sleep}
		calls := 0
		err := r.Do(context.Background(), func(ctx context.Context) error {
			if calls++; calls == 1 {
				return propagating
			}
			<-ctx.Done() // the service hangs until the budget is spent
			return ctx.Err()
		})
		if !errors.Is(err, propagating) || !strings.Contains(err.Error(), "during attempt 2 of 5") {
			t.Errorf("error %v, want the last propagation answer and the attempt it stopped in", err)
		}
	})
	t.Run("cancelled-by-the-caller", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		never := func(time.Duration) <-chan time.Time { return nil }
		r := Retry{What: "x", Attempts: 5, Budget: time.Hour, Sleep: never}
		err := r.Do(ctx, func(context.Context) error { cancel(); return propagating })
		if !errors.Is(err, propagating) || !strings.Contains(err.Error(), "cancelled after 1 of 5 attempts") {
			t.Errorf("error %v, want a cancellation, not a spent budget", err)
		}
	})
}

func TestWaitPacesAndNamesItsTimeout(t *testing.T) {
	t.Run("no-hint-backs-off-capped", func(t *testing.T) {
		c := &clock{}
		polls := 0
		w := Wait{What: "x", Timeout: time.Hour, Interval: 10 * time.Second, MaxInterval: time.Minute,
			Sleep: c.sleep}
		hints := []time.Duration{0, 0, 0, 3 * time.Second, 0, 0}
		err := w.Poll(context.Background(), func(context.Context) (bool, time.Duration, error) {
			polls++
			if polls > len(hints) {
				return true, 0, nil
			}
			return false, hints[polls-1], nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 3 * time.Second, time.Minute,
			time.Minute}
		if fmt.Sprint(c.pauses) != fmt.Sprint(want) {
			t.Errorf("pauses %v, want %v (doubling without a hint, the service's hint as given, capped)",
				c.pauses, want)
		}
	})
	t.Run("service-hint-then-interval-capped", func(t *testing.T) {
		c := &clock{}
		var lines []string
		hints := []time.Duration{2 * time.Second, 0, 5 * time.Minute}
		polls := 0
		w := Wait{What: "activation of hsm-x", Timeout: time.Hour, Interval: 10 * time.Second,
			MaxInterval: time.Minute, Sleep: c.sleep, Progress: func(s string) { lines = append(lines, s) }}
		err := w.Poll(context.Background(), func(context.Context) (bool, time.Duration, error) {
			polls++
			if polls > len(hints) {
				return true, 0, nil
			}
			return false, hints[polls-1], nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{2 * time.Second, 10 * time.Second, time.Minute}
		if fmt.Sprint(c.pauses) != fmt.Sprint(want) {
			t.Errorf("pauses %v, want %v", c.pauses, want)
		}
		if len(lines) != 3 || !strings.Contains(lines[1], "waiting for activation of hsm-x: poll 2") {
			t.Errorf("progress lines %q", lines)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		w := Wait{What: "activation of hsm-x", Timeout: 20 * time.Millisecond, Interval: time.Millisecond}
		err := w.Poll(context.Background(), func(context.Context) (bool, time.Duration, error) {
			return false, 0, nil
		})
		if err == nil || !strings.Contains(err.Error(), "activation of hsm-x did not finish within its 20ms timeout") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("check-error", func(t *testing.T) {
		boom := errors.New("boom")
		w := Wait{What: "activation of hsm-x", Timeout: time.Hour}
		err := w.Poll(context.Background(), func(context.Context) (bool, time.Duration, error) {
			return false, 0, boom
		})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "activation of hsm-x") {
			t.Errorf("error %v", err)
		}
	})
}
