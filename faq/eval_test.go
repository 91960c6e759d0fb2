package faq

import (
	"os"
	"strings"
	"testing"
)

// The acceptance bar of the matcher on testdata/eval.jsonl.
const (
	wantAccuracy = 0.95
	wantRefusal  = 0.95
)

func TestEvaluation(t *testing.T) {
	f, err := os.Open("testdata/eval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Evaluate(Default(), f)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if rep.Accuracy() < wantAccuracy || rep.RefusalRate() < wantRefusal || testing.Verbose() {
		t.Logf("report:\n%s", b.String())
	}
	if rep.Accuracy() < wantAccuracy {
		t.Errorf("in-scope accuracy %.3f, want >= %.2f", rep.Accuracy(), wantAccuracy)
	}
	if rep.RefusalRate() < wantRefusal {
		t.Errorf("off-topic refusal %.3f, want >= %.2f", rep.RefusalRate(), wantRefusal)
	}
}
