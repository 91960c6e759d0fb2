package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"portabot/bot"
)

// fileSlack stands in for Slack's three-step file upload: it hands out an
// upload URL, takes the file there, and records where completeUpload shared
// it. slacktest has no files.getUploadURLExternal, hence this fake.
type fileSlack struct {
	mu       sync.Mutex
	content  []byte
	complete map[string]string
	fail     bool
}

func newFileSlack(t *testing.T) (*fileSlack, string) {
	f := &fileSlack{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/files.getUploadURLExternal":
			if f.fail {
				_, _ = io.WriteString(w, `{"ok":false,"error":"not_in_channel"}`)
				return
			}
			_, _ = io.WriteString(w, `{"ok":true,"upload_url":"`+srv.URL+`/upload/F1","file_id":"F1"}`)
		case "/upload/F1":
			if err := r.ParseMultipartForm(1 << 20); err == nil && r.MultipartForm != nil {
				for _, fhs := range r.MultipartForm.File {
					for _, fh := range fhs {
						rd, _ := fh.Open()
						f.content, _ = io.ReadAll(rd)
						rd.Close()
					}
				}
			} else {
				f.content, _ = io.ReadAll(r.Body)
			}
			_, _ = io.WriteString(w, "OK")
		case "/files.completeUploadExternal":
			_ = r.ParseForm()
			f.complete = map[string]string{}
			for k := range r.PostForm {
				f.complete[k] = r.PostForm.Get(k)
			}
			_, _ = io.WriteString(w, `{"ok":true,"files":[{"id":"F1","title":"x"}]}`)
		default:
			t.Errorf("unexpected Slack call %s", r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestExportPostsTheCaseFileInItsThread(t *testing.T) {
	slack, url := newFileSlack(t)
	f := newFixture(t, func(c *Config) { c.APIURL = url })
	for i := range f.cases.cases {
		if f.cases.cases[i].ID == "12" {
			f.cases.cases[i].Thread = "1715000000.000100"
		}
	}
	reply, _ := f.run(t, "U0READER", "export 12")
	if !strings.Contains(reply.Text, "Exporting case #12") {
		t.Errorf("immediate reply %q", reply.Text)
	}
	done := f.response(t)
	if !strings.Contains(done.Text, "in its thread") {
		t.Fatalf("export said %q", done.Text)
	}
	slack.mu.Lock()
	defer slack.mu.Unlock()
	if slack.complete["channel_id"] != "C123" || slack.complete["thread_ts"] != "1715000000.000100" {
		t.Errorf("file shared with %v; want channel C123, thread 1715000000.000100", slack.complete)
	}
	var x bot.CaseExport
	if err := json.Unmarshal(slack.content, &x); err != nil {
		t.Fatalf("the uploaded file is not the case's JSON: %v\n%s", err, slack.content)
	}
	if x.Case != "12" || len(x.Timeline) != len(f.cases.audit["12"]) || len(x.States) != 2 {
		t.Errorf("uploaded export: case %q, %d events, %d state changes; want case 12 with its 4 events and 2 transitions", x.Case, len(x.Timeline), len(x.States))
	}
	if strings.Contains(string(slack.content), strings.TrimPrefix(fullPhone, "+")) {
		t.Errorf("the uploaded file shows a full number:\n%s", slack.content)
	}
}

func TestExportRefusals(t *testing.T) {
	slack, url := newFileSlack(t)
	f := newFixture(t, func(c *Config) { c.APIURL = url })
	if reply, _ := f.run(t, agentUser, "export"); !strings.Contains(reply.Text, "Usage") {
		t.Errorf("export without a case: %q; want usage", reply.Text)
	}
	f.run(t, agentUser, "export 404")
	if got := f.response(t); !strings.Contains(got.Text, "There is no case #404") {
		t.Errorf("export of an unknown case: %q", got.Text)
	}
	slack.mu.Lock()
	slack.fail = true
	slack.mu.Unlock()
	f.run(t, agentUser, "export 12")
	if got := f.response(t); !strings.Contains(got.Text, "Could not post") || !strings.Contains(got.Text, "portabot export 12") {
		t.Errorf("export Slack refused: %q; want the failure and the way round it", got.Text)
	}
}

// panickingHandoff is a bot whose takeover panics: a bug behind a button.
type panickingHandoff struct{ *fakeBot }

func (panickingHandoff) TakeOver(context.Context, string, string) error { panic("takeover: boom") }

// TestActionPanicIsAnsweredNotFatal: an action that panics after the
// acknowledgement is recovered, counted, and the agent told, instead of
// taking serve down from a goroutine nothing else watches.
func TestActionPanicIsAnsweredNotFatal(t *testing.T) {
	f := newFixture(t, nil)
	f.app.deps.Handoff = panickingHandoff{f.bot}
	before := bot.PanicCounts()["slack action"]
	f.run(t, agentUser, "takeover 12")
	if got := f.response(t); !strings.Contains(got.Text, "Something went wrong") {
		t.Errorf("after a panicking action the agent was told %q", got.Text)
	}
	if n := bot.PanicCounts()["slack action"] - before; n != 1 {
		t.Errorf("slack action panics counted: %d, want 1", n)
	}
}
