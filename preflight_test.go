package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"portabot/fsm"
)

// In chat, the destination without webhooks (+55 11 99000-0005) now ends
// done: the pre-flight subscribes our app to the destination WABA before
// the one add, which Meta then accepts. The simulator's debug log is the
// order of the Graph calls.
func TestChatNoWebhooksEndsDone(t *testing.T) {
	const otp = "246810"
	script := "hi\n1\nyes\nyes\nyes\nyes\n+55 11 99000-0005\n500400300200100\n1\n" + otp + "\n135790\n135790\n"
	db := filepath.Join(t.TempDir(), "portabot.db")
	out, logs, err := runCmd(t, map[string]string{"PORTABOT_SANDBOX_OTP": otp, "PORTABOT_LOG_LEVEL": "debug"}, script, "chat", "--db", db)
	if err != nil {
		t.Fatalf("chat: %v\nstderr: %s", err, logs)
	}
	if cs := casesOf(t, db); len(cs) != 1 || cs[0].State != fsm.Done {
		t.Fatalf("cases = %+v, want one case in done; chat printed:\n%s", cs, out)
	}
	if !strings.Contains(out, "I connected it (that part was ours)") {
		t.Errorf("the checklist does not say the account was connected:\n%s", out)
	}
	call := regexp.MustCompile(`msg=metasim method=(\w+) endpoint=(\w+) .*status=(\d+)`)
	var calls []string
	for _, line := range strings.Split(logs, "\n") {
		if m := call.FindStringSubmatch(line); m != nil {
			calls = append(calls, m[1]+" "+m[2]+" "+m[3])
		}
	}
	sub, add := -1, -1
	adds := 0
	for i, c := range calls {
		switch {
		case strings.HasPrefix(c, "POST subscribed_apps ") && sub < 0:
			sub = i
		case strings.HasPrefix(c, "POST phone_numbers "):
			adds++
			if add < 0 {
				add = i
			}
			if !strings.HasSuffix(c, " 200") {
				t.Errorf("an add failed: %s", c)
			}
		}
	}
	if sub < 0 || add < 0 || sub > add || adds != 1 {
		t.Errorf("Graph calls %v: want the subscription, then one add", calls)
	}
}
