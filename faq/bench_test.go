package faq

import (
	"bytes"
	"os"
	"testing"
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

// BenchmarkColdStart is what the first Default of a process costs: the
// lexicon, then the knowledge base.
func BenchmarkColdStart(b *testing.B) {
	for b.Loop() {
		buildLexicon()
		if _, err := Load(bytes.NewReader(kbJSON)); err != nil {
			b.Fatal(err)
		}
	}
}
