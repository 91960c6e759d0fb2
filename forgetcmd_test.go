package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portabot/fsm"
	"portabot/storage"
)

// TestForgetCommand: after the README's port in chat, `portabot forget`
// refuses without --yes, then erases the client, says what with counts,
// and leaves no byte of either number in the store's files.
func TestForgetCommand(t *testing.T) {
	script, otp := readmeScript(t)
	db := filepath.Join(t.TempDir(), "portabot.db")
	if _, _, err := runCmd(t, map[string]string{"PORTABOT_SANDBOX_OTP": otp}, script, "chat", "--db", db); err != nil {
		t.Fatalf("chat: %v", err)
	}
	if cs := casesOf(t, db); len(cs) != 1 || cs[0].State != fsm.Done {
		t.Fatalf("the port did not finish: %+v", cs)
	}
	// The client writes from the chat's default number and ports the
	// README's.
	needles := []string{"5511999990001", "5511987654321", "11987654321"}
	scan := func() []string {
		var found []string
		for _, p := range []string{db, storage.InboxPath(db)} {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range needles {
				if bytes.Contains(raw, []byte(n)) {
					found = append(found, n+" in "+filepath.Base(p))
				}
			}
		}
		return found
	}
	if len(scan()) == 0 {
		t.Fatal("neither number is in the store before forget: the scan proves nothing")
	}

	out, _, err := runCmd(t, nil, "", "forget", "--db", db, "+55 11 98765-4321")
	if !errors.Is(err, errUsage) || !strings.Contains(out, "--yes") {
		t.Errorf("forget without --yes: %v, %q; want a refusal asking for --yes", err, out)
	}
	if len(scan()) == 0 {
		t.Error("forget without --yes erased something")
	}
	out, _, err = runCmd(t, nil, "", "forget", "--db", db, "+5511987654321", "--yes", "--by", "dpo@bsp")
	if err != nil {
		t.Fatalf("forget --yes: %v", err)
	}
	if !strings.Contains(out, "Erased cases #1; 1 conversation(s)") {
		t.Errorf("forget printed %q; want the case and the counts", out)
	}
	if found := scan(); len(found) > 0 {
		t.Errorf("after forget the store still holds %v", found)
	}
	if cs := casesOf(t, db); len(cs) != 1 || cs[0].Phone != "" {
		t.Errorf("cases after forget = %+v; want the tombstone without a number", cs)
	}
	out, _, err = runCmd(t, nil, "", "forget", "--db", db, "--yes", "+5511987654321")
	if err != nil || !strings.Contains(out, "Nothing to erase") {
		t.Errorf("forget again: %q, %v; want nothing to erase", out, err)
	}
}

// TestForgetCommandWhileServeHoldsTheFile: bbolt allows one process, so
// forget says to stop serve or use Slack, and erases nothing.
func TestForgetCommandWhileServeHoldsTheFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portabot.db")
	st, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, _, err = runCmd(t, nil, "", "forget", "--db", db, "--yes", "#3")
	if err == nil || !strings.Contains(err.Error(), "Stop serve") || !strings.Contains(err.Error(), "/porta forget") {
		t.Errorf("forget on a held file: %v; want it to say to stop serve or use /porta forget", err)
	}
	if _, _, err := runCmd(t, nil, "", "forget", "--db", db, "--yes", "5511987654321"); !errors.Is(err, errUsage) {
		t.Errorf("a number without its +: %v, want a usage error", err)
	}
}
