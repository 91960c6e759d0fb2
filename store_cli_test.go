package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// The PostgreSQL commands refuse what they cannot do before connecting to
// anything, saying what they need.
func TestPostgresCommandsNeedAURL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "portabot.db")
	for _, args := range [][]string{
		{"migrate", "--db", file},
		{"store", "copy", "--from", file},
		{"store", "copy", "--from", file, "--to", file + "2"},
		{"store"},
	} {
		_, _, err := runCmd(t, nil, "", args...)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "postgres://") {
			t.Errorf("portabot %s: error = %v, want a usage error naming postgres://", strings.Join(args, " "), err)
		}
	}
}

// A store on PostgreSQL keeps its seal key in the configuration, never in a
// file beside the database (an URL has no beside), and the simulated Meta of
// sandbox mode keeps no file named after the URL.
func TestPostgresNeedsAConfiguredKey(t *testing.T) {
	cfg := serveConfig{DB: "postgres://portabot:secret@db/portabot", Sandbox: true}
	if _, err := storeKey(cfg); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("storeKey(postgres, no key) error = %v, want a refusal that does not repeat the URL", err)
	}
	if p := simStatePath(cfg.DB); p != "" {
		t.Errorf("simStatePath(postgres URL) = %q, want none", p)
	}
	if p := simStatePath("portabot.db"); p != "portabot.db.sim.json" {
		t.Errorf("simStatePath(file) = %q, want it beside the file", p)
	}
}
