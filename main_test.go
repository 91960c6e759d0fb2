package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/fsm"
)

// runCmd runs the command line in-process and returns what it printed.
func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := environment{
		args:   args,
		getenv: func(k string) string { return env[k] },
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errb,
	}
	err = run(context.Background(), e)
	return out.String(), errb.String(), err
}

type caseJSON struct {
	ID    string    `json:"id"`
	State fsm.State `json:"state"`
	Phone string    `json:"phone"`
	WABA  string    `json:"waba"`
}

func casesOf(t *testing.T, db string) []caseJSON {
	t.Helper()
	out, _, err := runCmd(t, nil, "", "cases", "--json", "--db", db)
	if err != nil {
		t.Fatalf("cases: %v", err)
	}
	var cs []caseJSON
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("cases --json printed %q: %v", out, err)
	}
	return cs
}

// readmeScript returns the printf script and the OTP of the README's
// scripted run, so the test runs exactly what a reader would paste.
func readmeScript(t *testing.T) (script, otp string) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^printf '([^']*)' \| PORTABOT_SANDBOX_OTP=(\d{6}) go run \. chat --db "\$db"$`)
	m := re.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("README.md has no scripted run of the form printf '...' | PORTABOT_SANDBOX_OTP=... go run . chat --db \"$db\"")
	}
	return strings.ReplaceAll(m[1], `\n`, "\n"), m[2]
}

func TestReadmeScriptedRunEndsDone(t *testing.T) {
	script, otp := readmeScript(t)
	db := filepath.Join(t.TempDir(), "portabot.db")
	out, stderr, err := runCmd(t, map[string]string{"PORTABOT_SANDBOX_OTP": otp}, script, "chat", "--db", db)
	if err != nil {
		t.Fatalf("chat: %v\nstderr: %s", err, stderr)
	}
	if !strings.Contains(out, "SMS to +5511987654321: "+otp) {
		t.Errorf("chat did not print the simulated SMS; output:\n%s", out)
	}
	cs := casesOf(t, db)
	if len(cs) != 1 || cs[0].State != fsm.Done {
		t.Fatalf("cases after the scripted run = %+v, want one case in done; chat printed:\n%s", cs, out)
	}
	if cs[0].Phone != "+55*******4321" {
		t.Errorf("cases shows phone %q, want it masked as +55*******4321", cs[0].Phone)
	}
}

func TestSecretsNeverStoredOrLogged(t *testing.T) {
	script, otp := readmeScript(t)
	const pin = "135790"
	if !strings.Contains(script, pin) {
		t.Fatalf("the README's script no longer sets PIN %s; update this test", pin)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "portabot.db")
	env := map[string]string{"PORTABOT_SANDBOX_OTP": otp, "PORTABOT_LOG_LEVEL": "debug"}
	out, logs, err := runCmd(t, env, script, "chat", "--db", db)
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	if cs := casesOf(t, db); len(cs) != 1 || cs[0].State != fsm.Done {
		t.Fatalf("the port did not finish (%+v); output:\n%s", cs, out)
	}
	if logs == "" {
		t.Fatal("no logs at debug level: the test would prove nothing")
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"code": otp, "PIN": pin} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the %s %s is in the database file", name, secret)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the %s %s is in the logs:\n%s", name, secret, logs)
		}
	}
	if strings.Contains(logs, "5511987654321") {
		t.Errorf("a full phone number is in the logs:\n%s", logs)
	}
}

func TestFlowMatchesDocs(t *testing.T) {
	out, _, err := runCmd(t, nil, "", "flow")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("docs/flow.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```mermaid\n(.*?)```").FindSubmatch(doc)
	if block == nil {
		t.Fatal("docs/flow.md has no mermaid block")
	}
	if string(block[1]) != out {
		t.Errorf("portabot flow differs from docs/flow.md; run go test ./fsm -update\nflow:\n%s", out)
	}
}

func TestCommandLine(t *testing.T) {
	if out, _, err := runCmd(t, nil, "", "version"); err != nil || !strings.HasPrefix(out, "portabot ") {
		t.Errorf("version printed %q, %v", out, err)
	}
	if _, stderr, err := runCmd(t, nil, "", "frobnicate"); !errors.Is(err, errUsage) || !strings.Contains(stderr, "Usage:") {
		t.Errorf("unknown command: err %v, stderr %q; want a usage error with the usage text", err, stderr)
	}
	if _, _, err := runCmd(t, nil, "", "chat", "--lang", "fr"); !errors.Is(err, errUsage) {
		t.Errorf("chat --lang fr: err %v, want a usage error", err)
	}
	if _, _, err := runCmd(t, map[string]string{"PORTABOT_LOG_LEVEL": "loud"}, "", "chat", "--db", filepath.Join(t.TempDir(), "x.db")); err == nil || !strings.Contains(err.Error(), "PORTABOT_LOG_LEVEL") {
		t.Errorf("a bad log level should be refused by name, got %v", err)
	}
	out, _, err := runCmd(t, nil, "", "cases", "--db", filepath.Join(t.TempDir(), "empty.db"))
	if err != nil || !strings.Contains(out, "no cases") {
		t.Errorf("cases on an empty db printed %q, %v", out, err)
	}
}

// TestChatSurvivesKill kills a chat process right after Meta sent the code,
// starts a new one on the same files, and expects the client to carry on at
// await_code without a second code request.
func TestChatSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := portabotBinary(t)
	db := filepath.Join(dir, "portabot.db")
	const otp = "482913"
	env := append(os.Environ(), "PORTABOT_SANDBOX_OTP="+otp)

	first := exec.Command(bin, "chat", "--db", db)
	first.Env = env
	stdin, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = io.WriteString(stdin, "hi\n1\nyes\nyes\nyes\nyes\n+55 11 98765-4321\nskip\n1\n")
		// stdin stays open: the process is killed, not ended by EOF.
	}()
	sawSMS := make(chan struct{})
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "SMS to +5511987654321: ") {
				once.Do(func() { close(sawSMS) })
			}
		}
	}()
	select {
	case <-sawSMS:
	case <-time.After(30 * time.Second):
		_ = first.Process.Kill()
		t.Fatal("the first chat never printed the SMS")
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	second := exec.Command(bin, "chat", "--db", db)
	second.Env = env
	second.Stdin = strings.NewReader(otp + "\n135790\n135790\n")
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second chat: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "SMS to") {
		t.Errorf("the restarted chat had a second code sent:\n%s", out)
	}
	if cs := casesOf(t, db); len(cs) != 1 || cs[0].State != fsm.Done {
		t.Fatalf("after the restart the case is %+v, want done; second chat printed:\n%s", cs, out)
	}
	sim, err := metasim.New(metasim.Options{Token: "x", StatePath: db + ".sim.json"})
	if err != nil {
		t.Fatal(err)
	}
	if n := sim.Calls(metasim.EndpointRequestCode, "+5511987654321"); n != 1 {
		t.Errorf("request_code was called %d times at the simulator, want 1", n)
	}
	if n := sim.Calls(metasim.EndpointRegister, "+5511987654321"); n != 1 {
		t.Errorf("register was called %d times at the simulator, want 1", n)
	}
}
