package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The tests that run portabot as a process of its own (to kill it, to
// measure its memory, to run replicas) share one build per set of build
// tags: each used to link its own copy, seconds apiece.
var binaries struct {
	sync.Mutex
	dir   string
	built map[string]binary
}

type binary struct {
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portabot-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "a directory for the test binaries:", err)
		os.Exit(1)
	}
	binaries.dir, binaries.built = dir, map[string]binary{}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// portabotBinary returns the path of portabot built with tags, building it
// on first use. The lock is held while building so that tests asking at
// once wait for one build rather than start several.
func portabotBinary(t *testing.T, tags ...string) string {
	t.Helper()
	key := strings.Join(tags, ",")
	binaries.Lock()
	defer binaries.Unlock()
	b, ok := binaries.built[key]
	if !ok {
		b.path = filepath.Join(binaries.dir, fmt.Sprintf("portabot%d", len(binaries.built)))
		args := []string{"build"}
		if key != "" {
			args = append(args, "-tags", key)
		}
		b.out, b.err = exec.Command("go", append(args, "-o", b.path, ".")...).CombinedOutput()
		binaries.built[key] = b
	}
	if b.err != nil {
		t.Fatalf("go build %s: %v\n%s", key, b.err, b.out)
	}
	return b.path
}
