package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portabot/fsm"
)

func TestFAQAskJSON(t *testing.T) {
	out, _, err := runCmd(t, nil, "", "faq", "ask", "--json", "como desativo a verificação em duas etapas?")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Intent string  `json:"intent"`
		Score  float64 `json:"score"`
		Lang   string  `json:"lang"`
		Answer string  `json:"answer"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("faq ask --json printed %q: %v", out, err)
	}
	if got.Intent != "disable_2fa" || got.Lang != "pt" || got.Answer == "" || got.Score <= 0 {
		t.Errorf("faq ask --json = %+v, want disable_2fa answered in pt", got)
	}

	out, _, err = runCmd(t, nil, "", "faq", "ask", "--json", "what's the weather in Lisbon tomorrow?")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"intent":"none"`) {
		t.Errorf("an off-topic question should give intent none, got %s", out)
	}
	if _, _, err := runCmd(t, nil, "", "faq", "ask"); err == nil {
		t.Error("faq ask without a question should be a usage error")
	}
}

func TestFAQEvalPrintsAccuracyAndMisses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "eval.jsonl")
	lines := `{"q":"how do I turn off two-step verification?","intent":"disable_2fa"}
{"q":"what is the capital of Peru?","intent":"none"}
{"q":"how do I turn off two-step verification?","intent":"billing"}
`
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, nil, "", "faq", "eval", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"50.0%", "100.0%", "billing"} {
		if !strings.Contains(out, want) {
			t.Errorf("faq eval output lacks %q:\n%s", want, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"q\":\"ok\",\"intent\":\"pin\"}\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, nil, "", "faq", "eval", bad); err == nil || !strings.Contains(err.Error(), "2") {
		t.Errorf("a bad line should be refused naming its line number, got %v", err)
	}
}

// TestChatServerDrivesServe runs the README's script through `chat --server`
// against serve in sandbox mode: the whole HTTP path, by hand.
func TestChatServerDrivesServe(t *testing.T) {
	t.Parallel()
	script, otp := readmeScript(t)
	db := filepath.Join(t.TempDir(), "serve.db")
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_SANDBOX_OTP": otp}), db)
	out, stderr, err := runCmd(t, map[string]string{"PORTABOT_META_APP_SECRET": testAppSecret}, script,
		"chat", "--server", s.url, "--phone", "+5511999990042")
	if err != nil {
		t.Fatalf("chat --server: %v\n%s\nserve logs:\n%s", err, stderr, s.logs)
	}
	for _, want := range []string{"SMS to +5511987654321: " + otp, "[1] Start the port", "has moved"} {
		if !strings.Contains(out, want) {
			t.Errorf("chat --server output lacks %q:\n%s", want, out)
		}
	}
	s.mustStop(t)
	cs := casesOf(t, db)
	if len(cs) != 1 || cs[0].State != fsm.Done {
		t.Errorf("after chat --server the cases are %+v, want one done", cs)
	}

	if _, _, err := runCmd(t, nil, "hi\n", "chat", "--server", s.url); err == nil || !strings.Contains(err.Error(), "PORTABOT_META_APP_SECRET") {
		t.Errorf("chat --server without the app secret should say which variable to set, got %v", err)
	}
}
