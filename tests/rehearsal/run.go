// This file holds the rehearsal itself: up from empty, an up that changes nothing, a tag change previewed with
// --diff, and destroy, each checked against what the real engine reported.
package rehearsal

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// hsmType is the Managed HSM's type token: the resource a tag change must update and destroy must retain.
const hsmType = "azure-native:keyvault:ManagedHsm"

// Summary is what each step of a rehearsal did.
type Summary struct {
	FirstUp    map[string]int
	SecondUp   map[string]int
	TagPreview []Step
	// UnprotectUp applies the tag change and hsm.protect false before destroy.
	UnprotectUp map[string]int
	Destroy     map[string]int
	// HsmDeleted is true when the stand-in was asked to delete the HSM.
	HsmDeleted bool
	Durations  map[string]time.Duration
}

// Run rehearses the four steps on a prepared stack and returns an error naming the first expectation the
// engine's report does not meet.
func Run(ctx context.Context, r *Rehearsal, logf func(format string, args ...any)) (Summary, error) {
	s := Summary{Durations: map[string]time.Duration{}}
	timed := func(step string, f func() error) error {
		logf("%s ...", step)
		start := time.Now()
		err := f()
		s.Durations[step] = time.Since(start).Round(time.Millisecond)
		if err == nil {
			logf("%s: done in %s", step, s.Durations[step])
		}
		return err
	}

	err := timed("up", func() (err error) {
		s.FirstUp, err = r.Up(ctx)
		if err == nil && s.FirstUp["create"] == 0 {
			err = fmt.Errorf("the first up created nothing: %v", s.FirstUp)
		}
		return err
	})
	if err != nil {
		return s, err
	}

	err = timed("second up", func() (err error) {
		s.SecondUp, err = r.Up(ctx)
		if err == nil {
			for op, n := range s.SecondUp {
				if op != "same" && n > 0 {
					return fmt.Errorf("the second up changed something: %v", s.SecondUp)
				}
			}
		}
		return err
	})
	if err != nil {
		return s, err
	}

	err = timed("preview --diff after a tag change", func() error {
		if err := r.SetTag(ctx, "rehearsal", "changed"); err != nil {
			return err
		}
		tagged, err := r.Tagged(ctx)
		if err != nil {
			return err
		}
		if s.TagPreview, err = r.Preview(ctx); err != nil {
			return err
		}
		return checkTagPreview(s.TagPreview, tagged)
	})
	if err != nil {
		return s, err
	}

	// The README's teardown: the HSM is protected by default, so protection comes off in state first; destroy
	// then retains it unless hsm.allowDelete.
	err = timed("unprotect up", func() error {
		if err := r.SetConfig(ctx, "hsm.protect", "false"); err != nil {
			return err
		}
		var err error
		s.UnprotectUp, err = r.Up(ctx)
		return err
	})
	if err != nil {
		return s, err
	}

	err = timed("destroy", func() error {
		var err error
		if s.Destroy, err = r.Destroy(ctx); err != nil {
			return err
		}
		journal, err := r.Journal()
		if err != nil {
			return err
		}
		for _, line := range journal {
			if strings.HasPrefix(line, "delete "+hsmType+" ") {
				s.HsmDeleted = true
			}
		}
		if s.HsmDeleted {
			return fmt.Errorf("destroy deleted the HSM, which the stack retains unless hsm.allowDelete")
		}
		return nil
	})
	return s, err
}

// checkTagPreview accepts a plan that updates in place exactly the tagged resources, the HSM among them,
// changes nothing but their tags, and creates, replaces or deletes nothing.
func checkTagPreview(steps []Step, tagged map[string]bool) error {
	var problems []string
	hsmUpdated := false
	updated := map[string]bool{}
	for _, st := range steps {
		switch {
		case st.Op != "update":
			problems = append(problems, fmt.Sprintf("%s %s (keys %v)", st.Op, st.URN, st.Keys))
		case len(st.Diffs) != 1 || st.Diffs[0] != "tags":
			problems = append(problems, fmt.Sprintf("update of %s changes %v, not only tags", st.URN, st.Diffs))
		case !tagged[st.URN]:
			problems = append(problems, "update of untagged "+st.URN)
		default:
			updated[st.URN] = true
			hsmUpdated = hsmUpdated || st.Type == hsmType
		}
	}
	if !hsmUpdated {
		problems = append(problems, "the HSM is not updated")
	}
	for urn := range tagged {
		if !updated[urn] {
			problems = append(problems, "tagged "+urn+" is not updated")
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("the tag change plans more than tag updates: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Lines renders the summary for a person, one line per step.
func (s Summary) Lines() []string {
	types := map[string]int{}
	for _, st := range s.TagPreview {
		types[st.Op+" "+st.Type]++
	}
	planned := make([]string, 0, len(types))
	for k, n := range types {
		planned = append(planned, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(planned)
	hsm := "retained (never deleted)"
	if s.HsmDeleted {
		hsm = "DELETED"
	}
	lines := []struct{ step, text string }{
		{"up", fmt.Sprintf("up from empty:      %s (%s)", counts(s.FirstUp), s.Durations["up"])},
		{"second up", fmt.Sprintf("second up:          %s (%s)", counts(s.SecondUp), s.Durations["second up"])},
		{"preview --diff after a tag change", fmt.Sprintf("tag change preview: %s (%s)",
			strings.Join(planned, ", "), s.Durations["preview --diff after a tag change"])},
		{"unprotect up", fmt.Sprintf("unprotect up:       %s (%s)", counts(s.UnprotectUp),
			s.Durations["unprotect up"])},
		{"destroy", fmt.Sprintf("destroy:            %s; HSM %s (%s)", counts(s.Destroy), hsm,
			s.Durations["destroy"])},
	}
	// Only the steps that ran: a run stopped part way must not claim what it never did.
	var out []string
	for _, l := range lines {
		if _, ran := s.Durations[l.step]; ran {
			out = append(out, l.text)
		}
	}
	return out
}

func counts(m map[string]int) string {
	ops := make([]string, 0, len(m))
	for op := range m {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = fmt.Sprintf("%d %s", m[op], op)
	}
	return strings.Join(parts, ", ")
}
