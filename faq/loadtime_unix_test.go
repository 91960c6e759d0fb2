//go:build unix

package faq

import (
	"bytes"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process has used. Timing by it rather than
// by the clock keeps other processes on a busy machine out of the result.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Loading the knowledge base must stay under 20 ms of CPU, so that starting
// a process, or a test, is not held up. The first load of a process also
// builds the shared lexicon, which is logged alongside.
func TestLoadTime(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("timing is meaningless under -race or -short")
	}
	const limit = 20 * time.Millisecond
	const runs = 5
	lexicon() // built once per process, like Default does
	start := cpuTime(t)
	for range runs {
		if _, err := Load(bytes.NewReader(kbJSON)); err != nil {
			t.Fatal(err)
		}
	}
	load := (cpuTime(t) - start) / runs
	start = cpuTime(t)
	for range runs {
		buildLexicon()
	}
	lex := (cpuTime(t) - start) / runs
	t.Logf("CPU per build: knowledge base %v, lexicon %v (first load of a process: %v)", load, lex, load+lex)
	if load > limit {
		t.Errorf("loading the knowledge base took %v of CPU, want <= %v", load, limit)
	}
}
