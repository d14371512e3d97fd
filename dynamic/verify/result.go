// Package verify checks a deployed stack the way the scenario guide's "Testing and Validation" section does by
// hand (Tests 1–6): private DNS of the HSM, encrypted tablespaces and an open cloud keystore, the key's shape,
// the service principal's least privilege, rotation and the security-domain backup. Each check is a function
// over injectable clients (a resolver, a database/sql Executor, azkeys and RBAC clients) that returns a Result
// with its reason, so that the same logic runs against the deployed stack and, in its tests, against local
// stand-ins. It lives under dynamic/ because it reuses the plugin's Oracle code, which imports godror.
package verify

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Status is the outcome of one check.
type Status string

// The outcomes: a skipped check was not asked for (rotation is opt-in) or had nothing to check.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Result is what one check found. Reason says why it passed or failed in terms an operator can act on; it
// never carries a secret.
type Result struct {
	// Check names the check and what it was about: "dns hsm-x.managedhsm.azure.net".
	Check string
	// Guide is the scenario guide's test the check stands for: "Test 1".
	Guide  string
	Status Status
	Reason string
}

func passed(check, guide, format string, args ...any) Result {
	return Result{Check: check, Guide: guide, Status: Pass, Reason: fmt.Sprintf(format, args...)}
}

func failed(check, guide, format string, args ...any) Result {
	return Result{Check: check, Guide: guide, Status: Fail, Reason: fmt.Sprintf(format, args...)}
}

func skipped(check, guide, format string, args ...any) Result {
	return Result{Check: check, Guide: guide, Status: Skip, Reason: fmt.Sprintf(format, args...)}
}

// Failed reports whether any result failed.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// WriteTable prints results as an aligned table, one line per check, and a summary line.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if _, err := fmt.Fprintln(tw, "STATUS\tGUIDE\tCHECK\tREASON"); err != nil {
		return fmt.Errorf("writing the result table: %w", err)
	}
	counts := map[Status]int{}
	for _, r := range results {
		counts[r.Status]++
		reason := strings.ReplaceAll(r.Reason, "\n", " ")
		if _, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Status, r.Guide, r.Check, reason); err != nil {
			return fmt.Errorf("writing the result table: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the result table: %w", err)
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", counts[Pass], counts[Fail], counts[Skip])
	if err != nil {
		return fmt.Errorf("writing the result table: %w", err)
	}
	return nil
}
