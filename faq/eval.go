package faq

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// EvalCase is one line of an evaluation file: a question and the intent it
// should get, "none" for a question the bot must refuse.
type EvalCase struct {
	Q      string `json:"q"`
	Intent string `json:"intent"`
}

// Miss is a question the matcher got wrong.
type Miss struct {
	Line     int
	Question string
	Want     string
	Got      string
	Score    float64
}

// Report is the outcome of an evaluation. In-scope questions are scored on
// top-1 accuracy; off-topic ones on how often the matcher refused them.
type Report struct {
	InScope        int
	InScopeCorrect int
	OffTopic       int
	Refused        int
	// PerIntent counts, for each intent expected at least once, the
	// questions expecting it and those answered right.
	PerIntent map[string]IntentCount
	Misses    []Miss
}

// IntentCount is the tally of one intent in a Report.
type IntentCount struct {
	Total, Correct int
}

// Accuracy is the share of in-scope questions matched to their intent.
func (r Report) Accuracy() float64 { return ratio(r.InScopeCorrect, r.InScope) }

// RefusalRate is the share of off-topic questions answered "none".
func (r Report) RefusalRate() float64 { return ratio(r.Refused, r.OffTopic) }

// Total is the number of questions evaluated.
func (r Report) Total() int { return r.InScope + r.OffTopic }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ReadEval reads an evaluation file: JSON lines {"q": ..., "intent": ...}.
// Blank lines are skipped; a line that is not such an object, has an empty
// question or no intent is an error naming its line number.
func ReadEval(r io.Reader) ([]EvalCase, []int, error) {
	var cases []EvalCase
	var lines []int
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for s.Scan() {
		n++
		line := bytes.TrimSpace(s.Bytes())
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var c EvalCase
		if err := dec.Decode(&c); err != nil {
			return nil, nil, fmt.Errorf("faq: eval line %d: %w", n, err)
		}
		if dec.More() {
			return nil, nil, fmt.Errorf("faq: eval line %d: more than one JSON value", n)
		}
		switch {
		case strings.TrimSpace(c.Q) == "":
			return nil, nil, fmt.Errorf("faq: eval line %d: empty question (\"q\")", n)
		case strings.TrimSpace(c.Intent) == "":
			return nil, nil, fmt.Errorf("faq: eval line %d: missing intent", n)
		}
		cases = append(cases, c)
		lines = append(lines, n)
	}
	if err := s.Err(); err != nil {
		return nil, nil, fmt.Errorf("faq: eval line %d: %w", n+1, err)
	}
	return cases, lines, nil
}

// Evaluate asks m every question of an evaluation file (see ReadEval) and
// reports how it did. An expected intent that m does not know is an error,
// since it would count as a miss that no matcher could avoid.
func Evaluate(m *Matcher, r io.Reader) (Report, error) {
	cases, lines, err := ReadEval(r)
	if err != nil {
		return Report{}, err
	}
	if len(cases) == 0 {
		return Report{}, errors.New("faq: eval file has no questions")
	}
	rep := Report{PerIntent: make(map[string]IntentCount)}
	for i, c := range cases {
		if _, ok := m.byID[c.Intent]; !ok && c.Intent != None {
			return Report{}, fmt.Errorf("faq: eval line %d: unknown intent %q", lines[i], c.Intent)
		}
		res := m.Ask(c.Q, "")
		ok := res.Intent == c.Intent
		if c.Intent == None {
			rep.OffTopic++
			if ok {
				rep.Refused++
			}
		} else {
			rep.InScope++
			if ok {
				rep.InScopeCorrect++
			}
		}
		pc := rep.PerIntent[c.Intent]
		pc.Total++
		if ok {
			pc.Correct++
		}
		rep.PerIntent[c.Intent] = pc
		if !ok {
			rep.Misses = append(rep.Misses, Miss{Line: lines[i], Question: c.Q, Want: c.Intent, Got: res.Intent, Score: res.Score})
		}
	}
	return rep, nil
}

// WriteText prints the report for people: the two rates, per-intent counts
// and every miss with its line number.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "questions:     %d (%d in scope, %d off-topic)\n", r.Total(), r.InScope, r.OffTopic)
	fmt.Fprintf(&b, "accuracy:      %.1f%% (%d/%d in-scope questions matched their intent)\n", 100*r.Accuracy(), r.InScopeCorrect, r.InScope)
	fmt.Fprintf(&b, "refusal:       %.1f%% (%d/%d off-topic questions answered none)\n", 100*r.RefusalRate(), r.Refused, r.OffTopic)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nintent\tcorrect\ttotal")
	ids := make([]string, 0, len(r.PerIntent))
	for id := range r.PerIntent {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := r.PerIntent[id]
		fmt.Fprintf(tw, "%s\t%d\t%d\n", id, c.Correct, c.Total)
	}
	if len(r.Misses) > 0 {
		fmt.Fprintf(tw, "\nmisses (%d):\nline\twant\tgot\tscore\tquestion\n", len(r.Misses))
		for _, m := range r.Misses {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.2f\t%s\n", m.Line, m.Want, m.Got, m.Score, m.Question)
		}
	}
	return tw.Flush()
}
