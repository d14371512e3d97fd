// This file measures the deployment's critical path under the mock engine: each resource takes a scaled
// provisioning time (tests/timeline), and the recorded run is compared with the chain of dependencies the
// clouds really impose. The test runs in the normal suite; the benchmarks only with -bench.
package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/internal/stack"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
	"github.com/odaa-platform/adbs-hsm/tests/timeline"
)

// testScale is the real time of one cloud minute in the normal suite: the dev stack's ~34 minutes of critical
// path take under a second, and 5% of it (the allowed scheduling overhead) is tens of milliseconds.
const testScale = 25 * time.Millisecond

// benchScale is the real time of one cloud minute in the timeline benchmark.
const benchScale = 10 * time.Millisecond

// goalWallOverCritical is the goal for a run's wall time over its critical path (the engine's own scheduling),
// which the timeline benchmark reports (docs/performance.md). The test holds runs to the looser
// maxWallOverCritical: it measures real time on a shared machine, and a false edge of any size is caught
// exactly by comparing the declared critical path with the true one, not by the clock.
const (
	goalWallOverCritical = 1.05
	maxWallOverCritical  = 1.25
)

// withDatabases sets the stack's databases to names, each with a password.
func withDatabases(t testing.TB, cfg *stackConfig, names ...string) {
	t.Helper()
	dbs := make([]map[string]any, len(names))
	passwords := map[string]string{}
	for i, n := range names {
		dbs[i] = map[string]any{"name": n, "workload": "OLTP", "access": "privateVnetOnly", "mtlsRequired": false}
		passwords[n] = testPassword
	}
	cfg.set(t, project+":databases", dbs)
	cfg.secret(t, "adminPasswords", passwords)
}

// runTimed deploys cfg on the mock cloud with one cloud minute taking scale, and returns the recorded spans.
func runTimed(t testing.TB, cfg *stackConfig, scale time.Duration) []timeline.Span {
	t.Helper()
	rec := timeline.NewRecorder(mockcloud.New(), scale)
	require.NoError(t, cfg.runProgram(t, rec, stack.Program))
	return rec.Spans()
}

// trueDeps is what each resource of the stack really needs before it can be created, from the clouds' rules
// (platform facts, field cases) and the orderings tests/program_test.go pins; nothing else. dbs are the
// databases in configuration order; the first one's VCN holds the OCI zones.
func trueDeps(dbs []string) map[string][]string {
	deps := map[string][]string{
		"network-rg":            nil,
		"network-vnet":          {"network-rg"},
		"network-nsg-oracle":    {"network-rg"},
		"network-nsg-pe":        {"network-rg"},
		"network-subnet-oracle": {"network-vnet", "network-nsg-oracle"},
		// Azure refuses concurrent subnet writes to one VNet.
		"network-subnet-pe": {"network-vnet", "network-nsg-pe", "network-subnet-oracle"},
		"hsm-name-guard":    nil,
		"hsm-hsm":           {"network-rg", "hsm-name-guard"},
		"hsm-pe":            {"hsm-hsm", "network-subnet-pe"},
		"hsm-zone":          {"network-rg"},
		"hsm-zone-link":     {"hsm-zone", "network-vnet"},
		"hsm-zone-group":    {"hsm-pe", "hsm-zone"},
		// The data plane opens at activation; the Administrator role cannot create keys.
		"hsm-security-domain":        {"hsm-hsm"},
		"hsm-deployer-crypto-role":   {"hsm-security-domain"},
		"hsm-key":                    {"hsm-deployer-crypto-role"},
		"service-principal-app":      nil,
		"service-principal-sp":       {"service-principal-app"},
		"service-principal-secret":   {"service-principal-app"},
		"service-principal-secret-a": {"service-principal-app"},
		"service-principal-secret-b": {"service-principal-app"},
		// The audit trail needs the HSM's ARM ID and nothing of its data plane; the alert reads the workspace
		// the diagnostic setting fills, and an action group needs only the resource group.
		"audit-workspace":             {"network-rg"},
		"audit-hsm-diagnostics":       {"hsm-hsm", "audit-workspace"},
		"audit-action-group":          {"network-rg"},
		"audit-failed-key-operations": {"audit-workspace", "audit-hsm-diagnostics"},
		"service-principal-hsm-role":  {"service-principal-sp", "hsm-security-domain"},
		// The view is found from the first database; the records hold the endpoint's IP.
		"oci-dns-zone-privatelink": {"adb-" + dbs[0] + "-adb"},
		"oci-dns-zone-public-name": {"adb-" + dbs[0] + "-adb"},
		"oci-dns-a-privatelink":    {"oci-dns-zone-privatelink", "hsm-pe"},
		"oci-dns-a-public-name":    {"oci-dns-zone-public-name", "hsm-pe"},
		"hsm-network-lock": {"hsm-security-domain", "hsm-deployer-crypto-role", "hsm-key",
			"service-principal-hsm-role"},
	}
	dns := []string{"hsm-zone-link", "hsm-zone-group", "oci-dns-a-privatelink", "oci-dns-a-public-name"}
	for _, db := range dbs {
		c := "cmek-" + db
		deps["adb-"+db+"-adb"] = []string{"network-rg", "network-vnet", "network-subnet-oracle"}
		// DNS on both sides precedes the SQL steps (pinned by TestOrdering).
		deps[c+"-acl-hsm"] = append([]string{"adb-" + db + "-adb"}, dns...)
		deps[c+"-acl-login"] = append([]string{"adb-" + db + "-adb"}, dns...)
		deps[c+"-route-outbound"] = []string{c + "-acl-hsm", c + "-acl-login"}
		deps[c+"-principal-auth"] = []string{c + "-route-outbound"}
		deps[c+"-consent"] = []string{c + "-principal-auth"}
		deps[c+"-key-role"] = []string{c + "-consent", "hsm-key"}
		deps[c+"-encryption-key"] = []string{c + "-key-role", "hsm-key", c + "-principal-auth"}
		deps[c+"-keystore-check"] = []string{c + "-encryption-key"}
		deps["hsm-network-lock"] = append(deps["hsm-network-lock"], c+"-key-role")
	}
	return deps
}

// trueGraph is the graph of the recorded resources with only their true dependencies. Components and the stack
// take no time and add no edge.
func trueGraph(t testing.TB, spans []timeline.Span, dbs []string) timeline.Graph {
	t.Helper()
	deps := trueDeps(dbs)
	g := timeline.Graph{Minutes: map[string]timeline.Minutes{}, Deps: map[string][]string{}}
	for _, s := range spans {
		g.Minutes[s.Name] = s.Minutes
		if !s.Custom {
			continue
		}
		d, ok := deps[s.Name]
		require.Truef(t, ok, "%s (%s) has no entry in trueDeps: say what it really waits for", s.Name, s.Type)
		g.Deps[s.Name] = d
	}
	return g
}

// figures is what one timed run shows.
type figures struct {
	spans             []timeline.Span
	declared, true    timeline.Path
	declaredGraph     timeline.Graph
	wall              time.Duration
	wallMin, sumMin   float64
	wallOverCritical  float64
	criticalMin       float64
	trueCriticalSteps []string
}

func analyse(t testing.TB, spans []timeline.Span, dbs []string, scale time.Duration) figures {
	t.Helper()
	for _, s := range spans {
		if s.Custom {
			require.Truef(t, timeline.Known(s.Type), "no provisioning time for %s (%s) in tests/timeline", s.Type,
				s.Name)
		}
	}
	f := figures{spans: spans, declaredGraph: timeline.GraphOf(spans), wall: timeline.Wall(spans)}
	var err error
	f.declared, err = f.declaredGraph.CriticalPath()
	require.NoError(t, err)
	tg := trueGraph(t, spans, dbs)
	f.true, err = tg.CriticalPath()
	require.NoError(t, err)
	f.trueCriticalSteps = f.true.Significant(tg)
	f.criticalMin = float64(f.declared.Minutes)
	f.wallMin = float64(f.wall) / float64(scale)
	f.sumMin = float64(f.declaredGraph.Sum())
	f.wallOverCritical = f.wallMin / f.criticalMin
	return f
}

// No edge serialises work that does not depend on each other: the run takes its true critical path, and the
// pieces the scenario can do side by side overlap in time.
func TestNoFalseEdges(t *testing.T) {
	dbs := []string{"salesdb", "hrdb"}
	cfg := devConfig(t)
	withDatabases(t, cfg, dbs...)

	// Timing is measured, so a loaded machine may add scheduling delay: the best of three runs counts.
	var f figures
	for attempt := 1; attempt <= 3; attempt++ {
		f = analyse(t, runTimed(t, cfg, testScale), dbs, testScale)
		if f.wallOverCritical <= goalWallOverCritical {
			break
		}
		t.Logf("attempt %d: wall %.1f min over a critical path of %.1f min; largest release delays %v", attempt,
			f.wallMin, f.criticalMin, timeline.Lags(f.spans)[:3])
	}

	g := f.declaredGraph
	assert.Equal(t, f.trueCriticalSteps, f.declared.Significant(g),
		"the declared dependencies give another critical path than the true one")
	assert.InDelta(t, float64(f.true.Minutes), f.criticalMin, 1e-9,
		"the declared dependencies make the critical path longer than the clouds require")
	if raceEnabled {
		t.Logf("race detector on: wall %.1f min over a critical path of %.1f min, not bounded", f.wallMin,
			f.criticalMin)
	} else {
		assert.LessOrEqualf(t, f.wallOverCritical, maxWallOverCritical,
			"wall %.1f min over a critical path of %.1f min", f.wallMin, f.criticalMin)
	}

	// The long steps are seen to overlap in time; short ones last a few milliseconds at this scale, too little
	// for a shared machine's clock, so for them the declared graph itself must not chain one after the other.
	s := timeline.ByName(f.spans)
	overlap := func(a, b string) {
		t.Helper()
		assert.Truef(t, s[a].Start < s[b].End && s[b].Start < s[a].End, "%s and %s must run together", a, b)
	}
	waitsFor := func(a, b string) bool { return dependsOn(g, a, b) }
	independent := func(a, b string) {
		t.Helper()
		assert.Falsef(t, waitsFor(a, b) || waitsFor(b, a), "%s and %s must not wait for each other", a, b)
	}
	notAfter := func(a, b string) {
		t.Helper()
		assert.Falsef(t, waitsFor(a, b), "%s must not wait for %s", a, b)
	}
	// A control: the graph holds the real chains, so that "does not wait" below cannot pass on an empty graph.
	require.True(t, waitsFor("cmek-"+dbs[0]+"-keystore-check", "hsm-hsm"), "the declared graph lost its edges")
	for _, db := range dbs {
		overlap("adb-"+db+"-adb", "hsm-hsm")
		independent("adb-"+db+"-adb", "hsm-hsm")
	}
	for _, dns := range []string{"hsm-zone", "hsm-zone-link", "hsm-zone-group", "oci-dns-zone-privatelink",
		"oci-dns-zone-public-name", "oci-dns-a-privatelink", "oci-dns-a-public-name"} {
		notAfter(dns, "hsm-key")
	}
	for _, sp := range []string{"service-principal-app", "service-principal-sp", "service-principal-secret-a",
		"service-principal-secret-b"} {
		notAfter(sp, "hsm-hsm")
	}
	for _, step := range []string{"acl-hsm", "acl-login", "route-outbound", "principal-auth", "consent", "key-role",
		"encryption-key", "keystore-check"} {
		independent("cmek-"+dbs[0]+"-"+step, "cmek-"+dbs[1]+"-"+step)
	}
	// The long twins overlap in time as well.
	overlap("cmek-"+dbs[0]+"-encryption-key", "cmek-"+dbs[1]+"-encryption-key")
}

// dependsOn reports whether a waits for b, directly or through others, in g's declared edges.
func dependsOn(g timeline.Graph, a, b string) bool {
	seen := map[string]bool{}
	var walk func(n string) bool
	walk = func(n string) bool {
		for _, d := range g.Deps[n] {
			if d == b || (!seen[d] && func() bool { seen[d] = true; return walk(d) }()) {
				return true
			}
		}
		return false
	}
	return walk(a)
}

// The critical path finder itself: a false edge in a graph lengthens the path it reports.
func TestCriticalPath(t *testing.T) {
	g := timeline.Graph{
		Minutes: map[string]timeline.Minutes{"net": 1, "hsm": 20, "db": 15, "switch": 10},
		Deps:    map[string][]string{"hsm": {"net"}, "db": {"net"}, "switch": {"hsm", "db"}},
	}
	p, err := g.CriticalPath()
	require.NoError(t, err)
	assert.Equal(t, []string{"net", "hsm", "switch"}, p.Steps)
	assert.InDelta(t, 31, float64(p.Minutes), 1e-9)
	assert.InDelta(t, 46, float64(g.Sum()), 1e-9)

	g.Deps["db"] = []string{"net", "hsm"} // the database waiting for the HSM
	p, err = g.CriticalPath()
	require.NoError(t, err)
	assert.Equal(t, []string{"net", "hsm", "db", "switch"}, p.Steps)

	g.Deps["net"] = []string{"switch"}
	_, err = g.CriticalPath()
	assert.ErrorContains(t, err, "cycle")
}

// BenchmarkTimeline deploys the scenario's stack (Pulumi.dev.yaml) with scaled provisioning times and reports,
// in cloud minutes: the simulated wall time, the critical path of the declared dependencies and of the true
// ones, the sum of all steps, and wall over critical path (median run; best and worst too). The same for the
// dev stack with the restart after routing (the guide's step 7.4), and with 10 databases sharing the HSM. With
// ODAA_TIMELINE_OUT=<dir> the dev stack's median run also writes timeline.svg and timeline.txt (the critical
// path step by step) there.
func BenchmarkTimeline(b *testing.B) {
	for _, tc := range []struct {
		name    string
		restart bool
		dbs     int
	}{
		{name: "dev", dbs: 1},
		{name: "dev-restart", restart: true, dbs: 1},
		{name: "databases=10", dbs: 10},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := devConfig(b)
			dbs := []string{"adbhsmdemo"}
			if tc.dbs > 1 {
				dbs = make([]string, tc.dbs)
				for i := range dbs {
					dbs[i] = fmt.Sprintf("adb%02d", i+1)
				}
				withDatabases(b, cfg, dbs...)
			}
			if tc.restart {
				cfg.patch(b, "cmek", map[string]any{"restartAfterRouting": true})
			}
			var runs []figures
			for b.Loop() {
				runs = append(runs, analyse(b, runTimed(b, cfg, benchScale), dbs, benchScale))
			}
			// Scheduling noise of a millisecond is a tenth of a cloud minute here: report the median run, and
			// the best and the worst.
			sort.Slice(runs, func(i, j int) bool { return runs[i].wallOverCritical < runs[j].wallOverCritical })
			f := runs[len(runs)/2]
			b.ReportMetric(f.wallMin, "wall-min")
			b.ReportMetric(f.criticalMin, "critical-min")
			b.ReportMetric(float64(f.true.Minutes), "true-critical-min")
			b.ReportMetric(f.sumMin, "sum-min")
			b.ReportMetric(f.wallOverCritical, "wall/critical")
			b.ReportMetric(runs[0].wallOverCritical, "best-wall/critical")
			b.ReportMetric(runs[len(runs)-1].wallOverCritical, "worst-wall/critical")
			if dir := os.Getenv("ODAA_TIMELINE_OUT"); dir != "" && tc.name == "dev" {
				writeTimeline(b, dir, f)
			}
		})
	}
}

func writeTimeline(b *testing.B, dir string, f figures) {
	b.Helper()
	title := fmt.Sprintf("Dev stack under mocks: wall %.1f min, critical path %.1f min, sum of steps %.1f min",
		f.wallMin, f.criticalMin, f.sumMin)
	svg := timeline.Picture{Title: title, Scale: benchScale, Critical: f.declared}.SVG(f.spans)
	require.NoError(b, os.WriteFile(filepath.Join(dir, "timeline.svg"), []byte(svg), 0o644))

	var txt strings.Builder
	fmt.Fprintf(&txt, "%s\n\ncritical path, step by step (cloud minutes: duration, finish):\n", title)
	var at timeline.Minutes
	for i, n := range f.declared.Significant(f.declaredGraph) {
		at += f.declaredGraph.Minutes[n]
		fmt.Fprintf(&txt, "%2d. %-32s %5.2f  %6.2f\n", i+1, n, float64(f.declaredGraph.Minutes[n]), float64(at))
	}
	fmt.Fprintf(&txt, "\nall steps as recorded (cloud minutes: start, end, duration):\n")
	s0 := f.spans[0].Start
	for _, s := range f.spans {
		if s.Custom {
			fmt.Fprintf(&txt, "%-34s %6.2f %6.2f %5.2f\n", s.Name, float64(s.Start-s0)/float64(benchScale),
				float64(s.End-s0)/float64(benchScale), float64(s.Minutes))
		}
	}
	require.NoError(b, os.WriteFile(filepath.Join(dir, "timeline.txt"), []byte(txt.String()), 0o644))
}
