package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// `serve --help` used to start a server and `chat --help` to create store
// files: help must print usage, succeed and touch nothing.
func TestHelpTouchesNothing(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--help"}, {"serve", "-h"}, {"chat", "--help"}, {"cases", "--help"},
		{"faq", "ask", "--help"}, {"faq", "eval", "--help"}, {"flow", "--help"}, {"version", "--help"},
		{"bench", "--help"}, {"config", "check", "--help"}, {"check", "--help"},
		{"backup", "--help"}, {"restore", "--help"}, {"export", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			listened := false
			err := run(ctx, environment{args: args, stdin: strings.NewReader("hello\n"), stdout: &stdout, stderr: &stderr,
				getenv:    mapGetenv(map[string]string{"PORTABOT_SANDBOX": "1", "PORTABOT_ADDR": "127.0.0.1:0"}),
				listening: func(string) { listened = true; cancel() }})
			if err != nil {
				t.Errorf("portabot %s: %v, want success", strings.Join(args, " "), err)
			}
			if listened {
				t.Errorf("portabot %s started a server", strings.Join(args, " "))
			}
			if !strings.Contains(strings.ToLower(stdout.String()+stderr.String()), "usage") {
				t.Errorf("portabot %s printed no usage:\n%s%s", strings.Join(args, " "), &stdout, &stderr)
			}
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if len(names) > 0 {
				t.Errorf("portabot %s left files: %v", strings.Join(args, " "), names)
			}
		})
	}
}
