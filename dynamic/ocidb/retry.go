// This file holds the bounded retry of single requests: the SDK's own retry loop (common.Retry) driven by a
// policy that repeats only transient answers, honours a retry hint when OCI sends one, reports "attempt n of
// m" as a status line, and takes its pauses through the poller's Sleep.
package ocidb

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
)

// attemptCounter remembers how many attempts a request took, for the final error. The SDK runs its loop in a
// goroutine that may outlive a cancelled call, hence the atomics.
type attemptCounter struct {
	attempt atomic.Uint32
	max     atomic.Uint32
}

// wrap adds the attempt count to err when the request was tried more than once.
func (n *attemptCounter) wrap(err error) error {
	if err == nil || n.attempt.Load() <= 1 {
		return err
	}
	return fmt.Errorf("after attempt %d of %d: %w", n.attempt.Load(), n.max.Load(), err)
}

// metadata returns the request metadata carrying the retry policy of one request named what. A change that
// must not be made twice is repeated only when its answer says it was not served (429, 503); see unanswered.
//
// The SDK's loop sleeps with time.After, which can be neither observed nor cancelled; so the policy's
// NextDuration takes the pause itself through the poller's Sleep, honouring ctx, and gives the loop zero.
func (c *Client) metadata(ctx context.Context, what string, n *attemptCounter,
	change bool) common.RequestMetadata {
	attempts := c.opts.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	first, limit := c.opts.RetryDelay, c.opts.MaxRetryDelay
	if first <= 0 {
		first = DefaultRetryDelay
	}
	if limit <= 0 {
		limit = DefaultMaxRetryDelay
	}
	w := c.wait(ctx, what, 0)
	sleep := w.Sleep
	if sleep == nil {
		sleep = time.After
	}
	n.max.Store(uint32(attempts))

	policy := common.NewRetryPolicy(uint(attempts), func(r common.OCIOperationResponse) bool {
		n.attempt.Store(uint32(r.AttemptNumber))
		retry := transient(r.Error) && (!change || !unanswered(r.Error))
		return r.AttemptNumber < uint(attempts) && retry && ctx.Err() == nil
	}, func(r common.OCIOperationResponse) time.Duration {
		pause := first << min(r.AttemptNumber-1, 16)
		if hint := retryHint(r.Response); hint > 0 {
			pause = hint
		}
		pause = min(pause, limit)
		if w.Progress != nil {
			w.Progress(fmt.Sprintf("%s: attempt %d of %d answered %s; retrying in %s", what, r.AttemptNumber,
				attempts, describe(r.Error), pause))
		}
		select {
		case <-ctx.Done():
		case <-sleep(pause):
		}
		return 0
	})
	return common.RequestMetadata{RetryPolicy: &policy}
}

// retryHint reads the pause an answer asks for. OCI documents none for 429; when one comes, in the standard
// Retry-After header or with OCI's opc- prefix, in seconds or as an HTTP date, it is honoured.
func retryHint(resp common.OCIResponse) time.Duration {
	if resp == nil {
		return 0
	}
	raw := resp.HTTPResponse()
	if raw == nil {
		return 0
	}
	return parseRetryAfter(raw.Header)
}

func parseRetryAfter(h http.Header) time.Duration {
	for _, name := range []string{"Retry-After", "opc-retry-after"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
		}
	}
	return 0
}
