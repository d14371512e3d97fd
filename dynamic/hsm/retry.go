package hsm

import (
	"context"
	"fmt"
	"time"
)

// Retry repeats a call that failed only because Entra ID or RBAC has not caught up, a bounded number of times
// with exponential backoff, reporting each failed attempt as "attempt n of m".
type Retry struct {
	// What names the call in progress lines and in the final error, e.g. "assigning Crypto User to <id>".
	What string
	// Attempts bounds the calls, at least 1.
	Attempts int
	// Initial is the first pause; each later pause doubles, capped at Max.
	Initial time.Duration
	Max     time.Duration
	// Budget bounds the whole retry in wall time; zero means no bound beyond Attempts.
	Budget time.Duration
	// Retryable decides which errors are worth another attempt; nil means those Classify calls
	// NotYetPropagated.
	Retryable func(error) bool
	// Progress receives a status line per failed attempt; nil discards them.
	Progress func(msg string)
	// Sleep waits between attempts; nil means time.After. Tests replace it so that they never sleep.
	Sleep func(time.Duration) <-chan time.Time
}

// Do calls call until it succeeds, fails in a way Retryable refuses, or runs out of attempts or budget; past
// the bound it returns the last error, wrapped with the attempt count.
func (r Retry) Do(ctx context.Context, call func(context.Context) error) error {
	retryable := r.Retryable
	if retryable == nil {
		retryable = func(err error) bool { return Classify(err) == NotYetPropagated }
	}
	sleep := r.Sleep
	if sleep == nil {
		sleep = time.After
	}
	attempts := max(r.Attempts, 1)
	parent := ctx
	if r.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Budget)
		defer cancel()
	}
	pause := r.Initial
	var last error // the last answer that meant "not yet", reported if the budget runs out mid-call
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil && parent.Err() == nil && last != nil {
			return fmt.Errorf("%s: gave up during attempt %d of %d, past its %s budget; the attempt before "+
				"answered: %w", r.What, attempt, attempts, r.Budget, last)
		}
		if !retryable(err) {
			return err
		}
		last = err
		if attempt >= attempts {
			return fmt.Errorf("%s: still failing after %d attempts: %w", r.What, attempt, err)
		}
		if r.Progress != nil {
			r.Progress(fmt.Sprintf("%s: attempt %d of %d failed while Entra ID and RBAC catch up; retrying in %s",
				r.What, attempt, attempts, pause))
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf("%s: cancelled after %d of %d attempts: %w", r.What, attempt, attempts, err)
			}
			return fmt.Errorf("%s: gave up after %d of %d attempts, past its %s budget: %w", r.What, attempt,
				attempts, r.Budget, err)
		case <-sleep(pause):
		}
		if pause = pause * 2; r.Max > 0 && pause > r.Max {
			pause = r.Max
		}
	}
}
