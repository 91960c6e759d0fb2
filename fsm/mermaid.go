package fsm

import (
	"fmt"
	"strings"
)

// wide is how many source states a row may have before the diagram draws it
// from one "any" node instead of one arrow per state: the global words
// (menu, cancel, agent) would otherwise bury the conversation in arrows.
const wide = 6

// Mermaid renders Table as a Mermaid state diagram. docs/flow.md holds its
// output and a test keeps the two identical.
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s\n", New)
	for _, t := range table {
		to := string(t.To)
		if t.To == Back {
			to = "back"
		}
		if len(t.From) > wide {
			node := "any_" + string(t.Event)
			fmt.Fprintf(&b, "    state \"%s\" as %s\n", anyLabel(t.From), node)
			fmt.Fprintf(&b, "    %s --> %s: %s\n", node, to, t.Event)
			continue
		}
		for _, from := range t.From {
			fmt.Fprintf(&b, "    %s --> %s: %s\n", from, to, t.Event)
		}
	}
	b.WriteString("    state \"back: where the conversation was\" as back\n")
	for _, s := range final {
		fmt.Fprintf(&b, "    %s --> [*]\n", s)
	}
	return b.String()
}

// anyLabel names the states a wide row leaves out, which is shorter than
// naming the ones it covers.
func anyLabel(from []State) string {
	var missing []string
	for _, s := range allStates {
		found := false
		for _, f := range from {
			if f == s {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, string(s))
		}
	}
	if len(missing) == 0 {
		return "any state"
	}
	return "any state but " + strings.Join(missing, ", ")
}
