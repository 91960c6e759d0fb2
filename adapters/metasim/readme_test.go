package metasim_test

import (
	"os"
	"strings"
	"testing"

	"portabot/adapters/metasim"
)

// The README's scenario table is how people find the numbers to type in
// chat: it lists every scenario, by number and name.
func TestReadmeListsEveryScenario(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, sc := range metasim.Scenarios() {
		// +5511990000009 is written +55 11 99000-0009.
		n := sc.Number
		if len(n) != 14 || !strings.HasPrefix(n, "+5511") {
			t.Errorf("scenario %s is not a +55 11 number", n)
			continue
		}
		row := "| +55 11 " + n[5:10] + "-" + n[10:] + " | " + sc.Name + " |"
		if !strings.Contains(readme, row) {
			t.Errorf("README has no row %q", row)
		}
	}
}

// The destination WABAs that fail the pre-flight are listed too.
func TestReadmeListsEveryWABAScenario(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range metasim.WABAScenarios() {
		row := "| " + sc.ID + " | " + sc.Name + " |"
		if !strings.Contains(string(b), row) {
			t.Errorf("README has no row %q", row)
		}
	}
}
