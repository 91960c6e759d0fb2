package faq

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func evalQuestions(tb testing.TB) []EvalCase {
	tb.Helper()
	f, err := os.Open("testdata/eval.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cases, _, err := ReadEval(f)
	if err != nil {
		tb.Fatal(err)
	}
	return cases
}

// BenchmarkMatch asks every question of the evaluation set; ns/op is per
// question.
func BenchmarkMatch(b *testing.B) {
	m := Default()
	cases := evalQuestions(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.Ask(cases[i%len(cases)].Q, "en")
	}
}

// BenchmarkLoad builds the matcher from the embedded knowledge base, as
// Default does once per process.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(bytes.NewReader(kbJSON)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLexicon builds the shared lexicon index, which the first Load of
// a process also pays for.
func BenchmarkLexicon(b *testing.B) {
	for b.Loop() {
		buildLexicon()
	}
}

// Loading the knowledge base must stay well under 20 ms so that a process
// starts (and a test builds its matcher) without notice. The best of a few
// runs is taken, so that a busy machine does not fail the build.
func TestLoadTime(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("timing is meaningless under -race or -short")
	}
	const limit = 20 * time.Millisecond
	best := time.Hour
	for range 5 {
		start := time.Now()
		if _, err := Load(bytes.NewReader(kbJSON)); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	t.Logf("Load: %v", best)
	if best > limit {
		t.Errorf("Load took %v at best, want <= %v", best, limit)
	}
}
