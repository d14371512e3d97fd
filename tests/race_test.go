//go:build race

// This file tells timing assertions that the race detector is on: it slows every step of the SDK several times,
// which the wall-time bound does not allow for.
package tests

const raceEnabled = true
