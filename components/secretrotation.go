// This file holds the schedule of a rotated client secret: two slots whose generations alternate, each secret
// living two periods, so that one valid secret always exists while the other is replaced.
package components

import (
	"fmt"
	"time"
)

// SecretSlot is one of the two alternating client secrets at a given time.
type SecretSlot struct {
	// Name is "a" (even generations) or "b" (odd ones).
	Name string
	// Generation counts rotation periods since the Unix epoch; the slot holds the latest generation of its parity.
	Generation int64
	// Start is when the generation's period starts; End is two periods later, when its secret expires.
	Start, End time.Time
}

// Keeper is the value whose change replaces the slot's secret: the start date of its generation.
func (s SecretSlot) Keeper() string { return s.Start.Format(time.RFC3339) }

// SecretSchedule returns the two slots at now for a period of periodDays, newest first. Periods are counted
// from the Unix epoch in UTC, so the schedule depends only on the date and the period: every run within one
// period yields the same slots, and crossing a period boundary moves exactly one slot to a new generation,
// whose secret starts while the other slot's secret has one more period to live.
func SecretSchedule(now time.Time, periodDays int) (newest, previous SecretSlot, err error) {
	if periodDays < 1 {
		return newest, previous, fmt.Errorf("a rotation period of %d days: it must be at least 1", periodDays)
	}
	period := time.Duration(periodDays) * 24 * time.Hour
	n := now.UTC().Unix() / int64(period/time.Second)
	slot := func(g int64) SecretSlot {
		start := time.Unix(g*int64(period/time.Second), 0).UTC()
		name := "a"
		if g%2 != 0 {
			name = "b"
		}
		return SecretSlot{Name: name, Generation: g, Start: start, End: start.Add(2 * period)}
	}
	return slot(n), slot(n - 1), nil
}
