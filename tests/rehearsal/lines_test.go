package rehearsal

import (
	"strings"
	"testing"
	"time"
)

// A rehearsal stopped after its first step reports that step only, and nothing of a destroy that never ran.
func TestSummaryLinesOnlyForStepsThatRan(t *testing.T) {
	s := Summary{FirstUp: map[string]int{"create": 45}, Durations: map[string]time.Duration{"up": time.Second}}
	lines := s.Lines()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "up from empty:") {
		t.Errorf("lines %q, want the first up only", lines)
	}
	if strings.Contains(strings.Join(lines, "\n"), "retained") {
		t.Errorf("a destroy that never ran is reported: %q", lines)
	}
}
