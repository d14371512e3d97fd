package hsm

import (
	"context"
	"fmt"
	"time"
)

// Wait bounds and paces polling of a long-running operation.
type Wait struct {
	// What names the wait in progress lines and in the timeout error, e.g. "activation of hsm-x".
	What string
	// Timeout is the named limit of the whole wait.
	Timeout time.Duration
	// Interval is the first pause when the service gives no Retry-After; each further poll without one doubles
	// it. MaxInterval caps any pause, the service's included.
	Interval    time.Duration
	MaxInterval time.Duration
	// Progress receives a status line per poll; nil discards them.
	Progress func(msg string)
	// Sleep waits between polls; nil means time.After. Tests replace it so that they never sleep.
	Sleep func(time.Duration) <-chan time.Time
}

// Poll calls check until it reports done or fails. It pauses for the Retry-After the service gave (capped),
// else for Interval doubled after each such poll (capped), and gives up after Timeout with an error that names
// the wait.
func (w Wait) Poll(ctx context.Context, check func(context.Context) (done bool, retryAfter time.Duration,
	err error)) error {
	sleep := w.Sleep
	if sleep == nil {
		sleep = time.After
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	start := time.Now()
	backoff := w.Interval
	for attempt := 1; ; attempt++ {
		done, hint, err := check(ctx)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("%s did not finish within its %s timeout after %d polls: %w", w.What, w.Timeout,
				attempt, err)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", w.What, err)
		}
		if done {
			return nil
		}
		pause := backoff
		if hint > 0 {
			pause = hint
		} else {
			// A service that says nothing is asked less and less often, up to MaxInterval.
			if backoff *= 2; w.MaxInterval > 0 && backoff > w.MaxInterval {
				backoff = w.MaxInterval
			}
		}
		if w.MaxInterval > 0 && pause > w.MaxInterval {
			pause = w.MaxInterval
		}
		if w.Progress != nil {
			w.Progress(fmt.Sprintf("waiting for %s: poll %d, %s elapsed of %s, next in %s", w.What, attempt,
				time.Since(start).Round(time.Second), w.Timeout, pause))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not finish within its %s timeout after %d polls", w.What, w.Timeout, attempt)
		case <-sleep(pause):
		}
	}
}
