package fsm_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"portabot/fsm"
)

var update = flag.Bool("update", false, "rewrite docs/flow.md from fsm.Mermaid()")

const flowDoc = "../docs/flow.md"

const (
	fenceOpen  = "```mermaid\n"
	fenceClose = "```\n"
)

const flowIntro = `# Conversation flow

The state machine of a number port, as a diagram. It is generated from
` + "`fsm.Table`" + ` by ` + "`portabot flow`" + `; do not edit it by hand. A test keeps this
file and the table identical: after changing the table, run
` + "`go test ./fsm -update`" + ` and commit the result.

States whose name starts with an -ing word (` + "`adding_number`, `verifying`" + `...)
are transient: a Graph call is in flight. ` + "`back`" + ` is the state the
conversation returns to (the check a blocked client fixed, the state an agent
hands back). The "any state but" boxes stand for the events a client can
send from nearly anywhere: ` + "`menu`, `cancel` and `agent`" + `.

`

// mermaidBlock returns the body of the only ```mermaid block of doc, and
// the offsets of that body.
func mermaidBlock(doc string) (body string, start, end int, err error) {
	i := strings.Index(doc, fenceOpen)
	if i < 0 || (i > 0 && doc[i-1] != '\n') {
		return "", 0, 0, errors.New("no ```mermaid block")
	}
	if strings.Contains(doc[i+len(fenceOpen):], fenceOpen) {
		return "", 0, 0, errors.New("more than one ```mermaid block")
	}
	start = i + len(fenceOpen)
	j := 0
	for {
		k := strings.Index(doc[start+j:], fenceClose)
		if k < 0 {
			return "", 0, 0, errors.New("unterminated ```mermaid block")
		}
		if at := start + j + k; at == start || doc[at-1] == '\n' {
			end = at
			break
		}
		j += k + len(fenceClose)
	}
	return doc[start:end], start, end, nil
}

func TestMermaidBlock(t *testing.T) {
	for _, c := range []struct {
		doc, want string
		ok        bool
	}{
		{"# t\n\n```mermaid\na\nb\n```\n", "a\nb\n", true},
		{"```mermaid\n```\n", "", true},
		{"x\n```mermaid\na --> b: `q```\n```\ntail\n", "a --> b: `q```\n", true},
		{"# t\n", "", false},
		{"```mermaid\na\n", "", false},
		{"x```mermaid\na\n```\n", "", false},
		{"```mermaid\na\n```\n```mermaid\nb\n```\n", "", false},
	} {
		got, _, _, err := mermaidBlock(c.doc)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("mermaidBlock(%q) = %q, %v; want %q, ok=%v", c.doc, got, err, c.want, c.ok)
		}
	}
}

// TestFlowDoc keeps docs/flow.md in step with the table. With -update it
// rewrites the diagram, keeping any prose around it.
func TestFlowDoc(t *testing.T) {
	want := fsm.Mermaid()
	if *update {
		doc := flowIntro + fenceOpen + want + fenceClose
		if old, err := os.ReadFile(flowDoc); err == nil {
			if _, start, end, err := mermaidBlock(string(old)); err == nil {
				doc = string(old[:start]) + want + string(old[end:])
			}
		}
		if err := os.WriteFile(flowDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(flowDoc)
	if err != nil {
		t.Fatalf("%v (generate it with go test ./fsm -update)", err)
	}
	got, _, _, err := mermaidBlock(string(data))
	if err != nil {
		t.Fatalf("docs/flow.md: %v", err)
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("docs/flow.md is out of date; run go test ./fsm -update (-Mermaid() +file):\n%s", diff)
	}
}

var (
	arrowLine = regexp.MustCompile(`^    (\S+) --> (\S+)(?:: (\S+))?$`)
	stateLine = regexp.MustCompile(`^    state "([^"]*)" as (\S+)$`)
)

// TestMermaid checks the diagram against the table: every row is drawn,
// and every state and event is named.
func TestMermaid(t *testing.T) {
	d := fsm.Mermaid()
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	if lines[0] != "stateDiagram-v2" {
		t.Fatalf("first line = %q, want stateDiagram-v2", lines[0])
	}
	arrows := map[string]bool{}
	labels := map[string]string{}
	nodes := map[string]bool{}
	events := map[string]bool{}
	for _, l := range lines[1:] {
		if m := arrowLine.FindStringSubmatch(l); m != nil {
			arrows[l] = true
			nodes[m[1]], nodes[m[2]] = true, true
			events[m[3]] = true
			continue
		}
		if m := stateLine.FindStringSubmatch(l); m != nil {
			labels[m[2]] = m[1]
			continue
		}
		t.Errorf("unexpected line %q", l)
	}

	for _, s := range allStates {
		if !nodes[string(s)] {
			t.Errorf("state %s is not drawn", s)
		}
	}
	for _, e := range allEvents {
		if !events[string(e)] {
			t.Errorf("event %s labels no arrow", e)
		}
	}
	for _, want := range []string{"    [*] --> new", "    done --> [*]", "    cancelled --> [*]"} {
		if !arrows[want] {
			t.Errorf("missing %q", want)
		}
	}
	if labels["back"] == "" {
		t.Error("the back node has no label")
	}

	drawn := map[string]bool{}
	for _, row := range fsm.Table() {
		to := string(row.To)
		if row.To == fsm.Back {
			to = "back"
		}
		if len(row.From) > 6 {
			node := "any_" + string(row.Event)
			a := fmt.Sprintf("    %s --> %s: %s", node, to, row.Event)
			if !arrows[a] {
				t.Errorf("missing %q", a)
			}
			drawn[a] = true
			var left []string
			for _, s := range allStates {
				if !inStates(row.From, s) {
					left = append(left, string(s))
				}
			}
			if want := "any state but " + strings.Join(left, ", "); labels[node] != want {
				t.Errorf("label of %s = %q, want %q", node, labels[node], want)
			}
			continue
		}
		for _, from := range row.From {
			a := fmt.Sprintf("    %s --> %s: %s", from, to, row.Event)
			if !arrows[a] {
				t.Errorf("missing %q", a)
			}
			drawn[a] = true
		}
	}
	for a := range arrows {
		if !drawn[a] && !strings.Contains(a, "[*]") {
			t.Errorf("arrow %q is not in the table", a)
		}
	}
}

func inStates(ss []fsm.State, s fsm.State) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
