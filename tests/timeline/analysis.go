// This file holds the analysis of a recorded run: wall time, the critical path of a dependency graph, the sum of
// all steps, and the waits the engine added on top of the dependencies.
package timeline

import (
	"fmt"
	"sort"
	"time"
)

// Graph is a set of resources with their durations and the resources each must wait for.
type Graph struct {
	Minutes map[string]Minutes
	Deps    map[string][]string
}

// GraphOf is the graph the recorded spans declare: their table durations and their recorded edges.
func GraphOf(spans []Span) Graph {
	g := Graph{Minutes: map[string]Minutes{}, Deps: map[string][]string{}}
	for _, s := range spans {
		g.Minutes[s.Name] = s.Minutes
		g.Deps[s.Name] = s.Deps()
	}
	return g
}

// Path is a chain of resources, each waiting for the one before, and its total length.
type Path struct {
	Steps   []string
	Minutes Minutes
}

// CriticalPath is the longest chain of the graph by duration: the least time any schedule that respects its
// edges can take. Ties go to the name that sorts first, so that the answer is stable. A cycle is an error.
func (g Graph) CriticalPath() (Path, error) {
	finish := map[string]Minutes{}
	via := map[string]string{}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("dependency cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		var best Minutes
		bestDep := ""
		deps := append([]string(nil), g.Deps[n]...)
		sort.Strings(deps)
		for _, d := range deps {
			if _, known := g.Minutes[d]; !known {
				return fmt.Errorf("%s depends on %s, which is not in the graph", n, d)
			}
			if err := visit(d); err != nil {
				return err
			}
			if bestDep == "" || finish[d] > best {
				best, bestDep = finish[d], d
			}
		}
		finish[n] = best + g.Minutes[n]
		via[n] = bestDep
		state[n] = 2
		return nil
	}
	names := make([]string, 0, len(g.Minutes))
	for n := range g.Minutes {
		names = append(names, n)
	}
	sort.Strings(names)
	last := ""
	for _, n := range names {
		if err := visit(n); err != nil {
			return Path{}, err
		}
		if last == "" || finish[n] > finish[last] {
			last = n
		}
	}
	var steps []string
	for n := last; n != ""; n = via[n] {
		steps = append([]string{n}, steps...)
	}
	return Path{Steps: steps, Minutes: finish[last]}, nil
}

// Significant drops the steps that take no time (components, the stack), which only carry edges.
func (p Path) Significant(g Graph) []string {
	var out []string
	for _, s := range p.Steps {
		if g.Minutes[s] > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Sum is the time of every step done one after another, as a walkthrough by hand does them.
func (g Graph) Sum() Minutes {
	names := make([]string, 0, len(g.Minutes))
	for n := range g.Minutes {
		names = append(names, n)
	}
	sort.Strings(names) // a fixed order gives the same rounding on every run
	var total Minutes
	for _, n := range names {
		total += g.Minutes[n]
	}
	return total
}

// Wall is the real time from the first registration's start to the last one's end.
func Wall(spans []Span) time.Duration {
	if len(spans) == 0 {
		return 0
	}
	first, last := spans[0].Start, spans[0].End
	for _, s := range spans {
		first = min(first, s.Start)
		last = max(last, s.End)
	}
	return last - first
}

// Lag is, for one span, how long after its last dependency ended the engine released it.
type Lag struct {
	Name string
	Lag  time.Duration
}

// Lags are the release delays of every span that has dependencies, largest first: the cost of the engine on
// top of the dependency graph.
func Lags(spans []Span) []Lag {
	end := map[string]time.Duration{}
	for _, s := range spans {
		end[s.Name] = s.End
	}
	var out []Lag
	for _, s := range spans {
		var ready time.Duration
		for _, d := range s.Deps() {
			ready = max(ready, end[d])
		}
		out = append(out, Lag{Name: s.Name, Lag: s.Start - ready})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Lag > out[j].Lag })
	return out
}

// ByName indexes spans by resource name.
func ByName(spans []Span) map[string]Span {
	m := make(map[string]Span, len(spans))
	for _, s := range spans {
		m[s.Name] = s
	}
	return m
}
