//go:build !race

// This file tells timing assertions that the race detector is off.
package tests

const raceEnabled = false
