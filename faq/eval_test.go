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

func evaluateFile(t *testing.T, path string) Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Evaluate(Default(), f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func reportText(t *testing.T, rep Report) string {
	t.Helper()
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestEvaluation(t *testing.T) {
	rep := evaluateFile(t, "testdata/eval.jsonl")
	if rep.Accuracy() < wantAccuracy || rep.RefusalRate() < wantRefusal || testing.Verbose() {
		t.Logf("report:\n%s", reportText(t, rep))
	}
	if rep.Accuracy() < wantAccuracy {
		t.Errorf("in-scope accuracy %.3f, want >= %.2f", rep.Accuracy(), wantAccuracy)
	}
	if rep.RefusalRate() < wantRefusal {
		t.Errorf("off-topic refusal %.3f, want >= %.2f", rep.RefusalRate(), wantRefusal)
	}
}

// testdata/holdout.jsonl was written after the matcher's tuning and is
// never tuned against: it shows how the matcher does on questions nobody
// fitted it to. Its bar only catches a collapse.
func TestHoldout(t *testing.T) {
	rep := evaluateFile(t, "testdata/holdout.jsonl")
	t.Logf("held-out: accuracy %.1f%% (%d/%d), refusal %.1f%% (%d/%d)",
		100*rep.Accuracy(), rep.InScopeCorrect, rep.InScope, 100*rep.RefusalRate(), rep.Refused, rep.OffTopic)
	if rep.Accuracy() < 0.80 || rep.RefusalRate() < 0.80 {
		t.Errorf("held-out accuracy %.3f, refusal %.3f; want both >= 0.80\n%s", rep.Accuracy(), rep.RefusalRate(), reportText(t, rep))
	}
}

// The evaluation set is big enough to mean something: at least 240
// questions, 40 off-topic, and for each intent 12, with 3 in each language.
func TestEvalFileShape(t *testing.T) {
	cases := evalQuestions(t)
	if len(cases) < 240 {
		t.Errorf("eval.jsonl has %d questions, want >= 240", len(cases))
	}
	perLang := make(map[string]map[string]int)
	for _, c := range cases {
		if perLang[c.Intent] == nil {
			perLang[c.Intent] = make(map[string]int)
		}
		l, ok := DetectLang(c.Q)
		if !ok {
			l = "?"
		}
		perLang[c.Intent][l]++
		perLang[c.Intent]["all"]++
	}
	if n := perLang[None]["all"]; n < 40 {
		t.Errorf("eval.jsonl has %d off-topic questions, want >= 40", n)
	}
	for _, id := range wantIntents {
		counts := perLang[id]
		if counts["all"] < 12 {
			t.Errorf("%s: %d questions, want >= 12", id, counts["all"])
		}
		for _, l := range langNames {
			if counts[l] < 3 {
				t.Errorf("%s: %d questions detected as %s, want >= 3 (%v)", id, counts[l], l, counts)
			}
		}
	}
}

// Evaluation questions are not knowledge-base examples: a matcher that
// had memorised its examples would otherwise look good.
func TestEvalDisjointFromExamples(t *testing.T) {
	examples := make(map[string]string)
	for _, e := range embeddedEntries(t) {
		for _, l := range langNames {
			for _, q := range e.Examples[l] {
				examples[Normalize(q)] = e.ID
			}
		}
	}
	for _, path := range []string{"testdata/eval.jsonl", "testdata/holdout.jsonl"} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		cases, lines, err := ReadEval(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		seen := make(map[string]int)
		for i, c := range cases {
			n := Normalize(c.Q)
			if id, ok := examples[n]; ok {
				t.Errorf("%s:%d: %q is an example of %s", path, lines[i], c.Q, id)
			}
			if first, ok := seen[n]; ok {
				t.Errorf("%s:%d: %q repeats line %d", path, lines[i], c.Q, first)
			}
			seen[n] = lines[i]
		}
	}
}

func TestReadEvalErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not json", "{\"q\":\"a\",\"intent\":\"pin\"}\nnot json\n", "eval line 2"},
		{"unknown field", "\n\n{\"q\":\"a\",\"intent\":\"pin\",\"lang\":\"en\"}\n", "eval line 3: json: unknown field"},
		{"empty question", "{\"q\":\" \",\"intent\":\"pin\"}", "eval line 1: empty question"},
		{"no intent", "{\"q\":\"a\"}", "eval line 1: missing intent"},
		{"two values", "{\"q\":\"a\",\"intent\":\"pin\"} {\"q\":\"b\",\"intent\":\"pin\"}", "eval line 1: more than one"},
		{"array", "[\"a\",\"pin\"]", "eval line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadEval(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadEval() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	m := Default()
	if _, err := Evaluate(m, strings.NewReader("\n\n")); err == nil {
		t.Error("Evaluate(empty file) succeeded")
	}
	in := "{\"q\":\"what is the PIN for\",\"intent\":\"pin\"}\n{\"q\":\"x\",\"intent\":\"no_such\"}\n"
	if _, err := Evaluate(m, strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), `eval line 2: unknown intent "no_such"`) {
		t.Errorf("Evaluate(unknown intent) error = %v", err)
	}
}

func TestReportWriteText(t *testing.T) {
	in := `{"q":"what is the new PIN for?","intent":"pin"}
{"q":"how long does the port take","intent":"pin"}
{"q":"tell me a joke","intent":"none"}
`
	rep, err := Evaluate(Default(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep.InScope != 2 || rep.InScopeCorrect != 1 || rep.OffTopic != 1 || rep.Refused != 1 || len(rep.Misses) != 1 {
		t.Fatalf("Evaluate() = %+v", rep)
	}
	if m := rep.Misses[0]; m.Line != 2 || m.Want != "pin" || m.Got != "duration" {
		t.Errorf("miss = %+v, want line 2, pin, got duration", m)
	}
	text := reportText(t, rep)
	for _, want := range []string{
		"questions:     3 (2 in scope, 1 off-topic)",
		"accuracy:      50.0% (1/2",
		"refusal:       100.0% (1/1",
		"pin ",
		"misses (1):",
		"how long does the port take",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("WriteText() lacks %q:\n%s", want, text)
		}
	}
}

// Clients write in chat shorthand ("vc", "pq", "qnt", "xq", "tmb", "pls",
// "u"): written out, each of these questions gets its answer.
func TestShorthand(t *testing.T) {
	rep := evaluateFile(t, "testdata/shorthand.jsonl")
	if rep.InScopeCorrect != rep.InScope {
		t.Errorf("%d of %d questions in shorthand answered right\n%s", rep.InScopeCorrect, rep.InScope, reportText(t, rep))
	}
}
