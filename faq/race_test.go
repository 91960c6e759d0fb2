//go:build race

package faq

// raceEnabled skips timing checks, which the race detector slows tenfold.
const raceEnabled = true
