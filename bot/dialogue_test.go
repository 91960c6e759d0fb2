package bot_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"portabot/bot"
	"portabot/fsm"
)

// A dialogue is a conversation as a client really has it, kept in
// testdata/dialogues: the client's lines, and after each what must hold.
//
//	# what the conversation shows
//	// a note for the reader
//	option lang pt          the language before the first message
//	option agents           agents in Slack (otherwise none can answer)
//	> Oi, bom dia           the client types a line
//	> #yes                  the client taps the button "yes" of the last reply
//	= state check_2fa       where the conversation stands now
//	= says texto            the replies contain texto (case-insensitive)
//	= lacks texto           ... and not this
//	= silent                the bot said nothing
//	= understood            the bot did not answer "I didn't understand"
//	= blocked               the case is blocked / = not blocked
func TestDialogues(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "dialogues", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dialogues: %v", err)
	}
	n := 0
	for _, file := range files {
		for _, d := range readDialogues(t, file) {
			if len(d.lines) == 0 {
				t.Errorf("%s: dialogue %q has no lines", file, d.name)
			}
			n++
			t.Run(filepath.Base(file)+"/"+d.name, func(t *testing.T) {
				t.Parallel()
				d.run(t)
			})
		}
	}
	t.Logf("%d dialogues", n)
}

type dialogue struct {
	name  string
	lang  bot.Lang
	agent bool
	lines []string // "> ..." and "= ..."
}

// readDialogues reads the dialogues of file: each starts with a "# name"
// line.
func readDialogues(t *testing.T, file string) []*dialogue {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ds []*dialogue
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "# "):
			ds = append(ds, &dialogue{name: strings.TrimPrefix(line, "# "), lang: bot.English})
		case len(ds) == 0:
			t.Fatalf("%s: %q before the first dialogue's name", file, line)
		case strings.HasPrefix(line, "option lang "):
			l, ok := bot.ParseLang(strings.TrimPrefix(line, "option lang "))
			if !ok {
				t.Fatalf("%s: bad language in %q", file, line)
			}
			ds[len(ds)-1].lang = l
		case line == "option agents":
			ds[len(ds)-1].agent = true
		case strings.HasPrefix(line, "> "), strings.HasPrefix(line, "= "):
			ds[len(ds)-1].lines = append(ds[len(ds)-1].lines, line)
		case strings.HasPrefix(line, "//"):
			// A note for the reader.
		default:
			t.Fatalf("%s: unreadable line %q", file, line)
		}
	}
	return ds
}

func (d *dialogue) run(t *testing.T) {
	var notUnderstood int
	opts := options{lang: d.lang, onAnswer: func(intent string) {
		if intent == bot.NotUnderstood {
			notUnderstood++
		}
	}}
	var h *harness
	if d.agent {
		h = newAgentHarness(t, opts)
	} else {
		opts.noAgents = true
		h = newHarness(t, opts)
	}
	var last []bot.Reply
	said := ""
	misses := 0
	for i, line := range d.lines {
		what, arg, _ := strings.Cut(line[2:], " ")
		if strings.HasPrefix(line, "> ") {
			misses = notUnderstood
			if strings.HasPrefix(line, "> #") {
				last = h.tap(strings.TrimPrefix(line, "> #"))
			} else {
				last = h.send(line[2:])
			}
			said = strings.ToLower(text(last))
			continue
		}
		where := func() string { return d.lines[max(i-1, 0)] }
		switch what {
		case "state":
			if got := h.state(); got != fsm.State(arg) {
				t.Errorf("after %q: state %s, want %s; the bot said:\n%s", where(), got, arg, text(last))
			}
		case "says":
			if !strings.Contains(said, strings.ToLower(arg)) {
				t.Errorf("after %q: the bot did not say %q; it said:\n%s", where(), arg, text(last))
			}
		case "lacks":
			if strings.Contains(said, strings.ToLower(arg)) {
				t.Errorf("after %q: the bot said %q:\n%s", where(), arg, text(last))
			}
		case "silent":
			if len(last) != 0 {
				t.Errorf("after %q: the bot spoke:\n%s", where(), text(last))
			}
		case "understood":
			if notUnderstood > misses {
				t.Errorf("after %q: the bot did not understand; it said:\n%s", where(), text(last))
			}
		case "blocked":
			if c := h.kase(); c.State != fsm.Blocked {
				t.Errorf("after %q: case %s, want blocked", where(), c.State)
			}
		case "not":
			if arg == "blocked" && h.conv().CaseID != "" && h.kase().Blocked != "" {
				t.Errorf("after %q: the case is blocked on %s; the client did not say no", where(), h.kase().Blocked)
			}
		case "buttons":
			if got := buttons(last); !slices.Equal(got, strings.Fields(arg)) {
				t.Errorf("after %q: buttons %v, want %v", where(), got, strings.Fields(arg))
			}
		default:
			t.Fatalf("unknown expectation %q", line)
		}
	}
}
