package fsm_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"portabot/fsm"
)

// The names below are part of portabot's public contract (`portabot cases
// --json` shows them), so they are spelled out rather than taken from the
// package.
var (
	stateNames = []string{
		"new", "menu", "check_bm_access", "check_2fa", "check_reception", "check_display_name",
		"ask_phone", "await_waba", "adding_number", "choose_method", "requesting_code", "await_code",
		"verifying", "ask_pin", "registering", "migrating_templates", "done", "cancelled", "handoff",
		"failed", "blocked",
	}
	eventNames = []string{
		"greet", "start", "resume", "confirm", "deny", "fixed", "need_waba", "add_number",
		"number_added", "request_code", "code_sent", "verify", "code_rejected", "verified",
		"register", "registered", "pin_rejected", "templates_migrated", "block", "postpone", "fail",
		"retry", "menu", "cancel", "agent", "release",
	}
)

var allEvents = []fsm.Event{
	fsm.Greet, fsm.Start, fsm.Resume, fsm.Confirm, fsm.Deny, fsm.Fixed, fsm.NeedWABA,
	fsm.AddNumber, fsm.NumberAdded, fsm.RequestCode, fsm.CodeSent, fsm.Verify, fsm.CodeRejected,
	fsm.Verified, fsm.Register, fsm.Registered, fsm.PinRejected, fsm.TemplatesMigrated,
	fsm.Block, fsm.Postpone, fsm.Fail, fsm.Retry, fsm.ToMenu, fsm.Cancel, fsm.Agent, fsm.Release,
}

var allStates = []fsm.State{
	fsm.New, fsm.Menu, fsm.CheckBMAccess, fsm.Check2FA, fsm.CheckReception, fsm.CheckDisplayName,
	fsm.AskPhone, fsm.AwaitWABA, fsm.AddingNumber, fsm.ChooseMethod, fsm.RequestingCode,
	fsm.AwaitCode, fsm.Verifying, fsm.AskPin, fsm.Registering, fsm.MigratingTemplates, fsm.Done,
	fsm.Cancelled, fsm.Handoff, fsm.Failed, fsm.Blocked,
}

// move is one (state, event) pair that applies, and where it leads. To may
// be fsm.Back.
type move struct {
	From  fsm.State
	Event fsm.Event
	To    fsm.State
}

// conversation is the conversation of DESIGN.md, one move per line.
var conversation = []move{
	{fsm.New, fsm.Greet, fsm.Menu},
	{fsm.Menu, fsm.Start, fsm.CheckBMAccess},
	{fsm.Menu, fsm.Resume, fsm.Back},

	// Prerequisite checks: yes goes on, no blocks until the client fixes it.
	{fsm.CheckBMAccess, fsm.Confirm, fsm.Check2FA},
	{fsm.Check2FA, fsm.Confirm, fsm.CheckReception},
	{fsm.CheckReception, fsm.Confirm, fsm.CheckDisplayName},
	{fsm.CheckDisplayName, fsm.Confirm, fsm.AskPhone},
	{fsm.CheckBMAccess, fsm.Deny, fsm.Blocked},
	{fsm.Check2FA, fsm.Deny, fsm.Blocked},
	{fsm.CheckReception, fsm.Deny, fsm.Blocked},
	{fsm.CheckDisplayName, fsm.Deny, fsm.Blocked},
	{fsm.Blocked, fsm.Fixed, fsm.Back},

	// The number and the destination WABA.
	{fsm.AskPhone, fsm.NeedWABA, fsm.AwaitWABA},
	{fsm.AskPhone, fsm.AddNumber, fsm.AddingNumber},
	{fsm.AwaitWABA, fsm.AddNumber, fsm.AddingNumber},
	{fsm.AddingNumber, fsm.NumberAdded, fsm.ChooseMethod},
	{fsm.AddingNumber, fsm.Block, fsm.Blocked},
	{fsm.AddingNumber, fsm.Postpone, fsm.AskPhone},

	// Verification code.
	{fsm.ChooseMethod, fsm.RequestCode, fsm.RequestingCode},
	{fsm.AwaitCode, fsm.RequestCode, fsm.RequestingCode},
	{fsm.ChooseMethod, fsm.Verified, fsm.AskPin},
	{fsm.RequestingCode, fsm.CodeSent, fsm.AwaitCode},
	{fsm.RequestingCode, fsm.Verified, fsm.AskPin},
	{fsm.RequestingCode, fsm.Postpone, fsm.ChooseMethod},
	{fsm.AwaitCode, fsm.Verify, fsm.Verifying},
	{fsm.Verifying, fsm.CodeRejected, fsm.AwaitCode},
	{fsm.Verifying, fsm.Verified, fsm.AskPin},
	{fsm.Verifying, fsm.Postpone, fsm.AwaitCode},

	// Registration and templates.
	{fsm.AskPin, fsm.Register, fsm.Registering},
	{fsm.Registering, fsm.PinRejected, fsm.AskPin},
	{fsm.Registering, fsm.Registered, fsm.MigratingTemplates},
	{fsm.Registering, fsm.Block, fsm.Blocked},
	{fsm.Registering, fsm.Postpone, fsm.AskPin},
	{fsm.MigratingTemplates, fsm.TemplatesMigrated, fsm.Done},

	// An unrecoverable Graph error while a call is in flight.
	{fsm.AddingNumber, fsm.Fail, fsm.Failed},
	{fsm.RequestingCode, fsm.Fail, fsm.Failed},
	{fsm.Verifying, fsm.Fail, fsm.Failed},
	{fsm.Registering, fsm.Fail, fsm.Failed},
	{fsm.MigratingTemplates, fsm.Fail, fsm.Failed},
	{fsm.Failed, fsm.Retry, fsm.Back},

	{fsm.Handoff, fsm.Release, fsm.Back},
}

// Global events and the states they apply in, spelled out.
var (
	// menu: not from handoff, menu, or while a Graph call is in flight.
	menuFrom = []fsm.State{
		fsm.New, fsm.CheckBMAccess, fsm.Check2FA, fsm.CheckReception, fsm.CheckDisplayName,
		fsm.AskPhone, fsm.AwaitWABA, fsm.ChooseMethod, fsm.AwaitCode, fsm.AskPin, fsm.Done,
		fsm.Cancelled, fsm.Failed, fsm.Blocked,
	}
	// cancel: not from cancelled, or while a Graph call is in flight.
	cancelFrom = []fsm.State{
		fsm.New, fsm.Menu, fsm.CheckBMAccess, fsm.Check2FA, fsm.CheckReception,
		fsm.CheckDisplayName, fsm.AskPhone, fsm.AwaitWABA, fsm.ChooseMethod, fsm.AwaitCode,
		fsm.AskPin, fsm.Done, fsm.Handoff, fsm.Failed, fsm.Blocked,
	}
	// agent: not from handoff, done or cancelled.
	agentFrom = []fsm.State{
		fsm.New, fsm.Menu, fsm.CheckBMAccess, fsm.Check2FA, fsm.CheckReception,
		fsm.CheckDisplayName, fsm.AskPhone, fsm.AwaitWABA, fsm.AddingNumber, fsm.ChooseMethod,
		fsm.RequestingCode, fsm.AwaitCode, fsm.Verifying, fsm.AskPin, fsm.Registering,
		fsm.MigratingTemplates, fsm.Failed, fsm.Blocked,
	}
)

// expectedMoves is every (state, event) pair that applies.
func expectedMoves(t *testing.T) []move {
	t.Helper()
	moves := slices.Clone(conversation)
	for _, s := range menuFrom {
		moves = append(moves, move{s, fsm.ToMenu, fsm.Menu})
	}
	for _, s := range cancelFrom {
		moves = append(moves, move{s, fsm.Cancel, fsm.Cancelled})
	}
	for _, s := range agentFrom {
		moves = append(moves, move{s, fsm.Agent, fsm.Handoff})
	}
	seen := map[[2]string]bool{}
	for _, m := range moves {
		k := [2]string{string(m.From), string(m.Event)}
		if seen[k] {
			t.Fatalf("expected moves list %s twice from %s", m.Event, m.From)
		}
		seen[k] = true
	}
	sortMoves(moves)
	return moves
}

func sortMoves(ms []move) {
	slices.SortFunc(ms, func(a, b move) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.Event, b.Event), cmp.Compare(a.To, b.To))
	})
}

func TestNamesAreTheContract(t *testing.T) {
	var states []string
	for _, s := range fsm.All() {
		states = append(states, string(s))
	}
	if diff := gocmp.Diff(stateNames, states); diff != "" {
		t.Errorf("fsm.All() (-contract +got):\n%s", diff)
	}
	var events []string
	for _, e := range allEvents {
		events = append(events, string(e))
	}
	if diff := gocmp.Diff(eventNames, events); diff != "" {
		t.Errorf("event names (-contract +got):\n%s", diff)
	}
	if diff := gocmp.Diff(allStates, fsm.All()); diff != "" {
		t.Errorf("fsm.All() (-want +got):\n%s", diff)
	}
}

// TestTableIsTheConversation compares the rows of Table, one move per
// source state, with the list above.
func TestTableIsTheConversation(t *testing.T) {
	var got []move
	for _, row := range fsm.Table() {
		if len(row.From) == 0 {
			t.Errorf("row %s -> %s has no source state", row.Event, row.To)
		}
		for _, from := range row.From {
			got = append(got, move{from, row.Event, row.To})
		}
	}
	sortMoves(got)
	if diff := gocmp.Diff(expectedMoves(t), got); diff != "" {
		t.Errorf("Table (-want +got):\n%s", diff)
	}
}

type fireCase struct {
	from, back fsm.State
	event      fsm.Event
	want       fsm.State
	wantErr    error
}

func (c fireCase) String() string {
	return fmt.Sprintf("%s/%s/back=%q", c.from, c.event, c.back)
}

// fireCases covers every (state, event) pair, with and without a return
// state; rows leading to Back are also tried with every state as the return
// state.
func fireCases(t *testing.T) []fireCase {
	t.Helper()
	applies := map[[2]fsm.State]fsm.State{}
	var cases []fireCase
	for _, m := range expectedMoves(t) {
		applies[[2]fsm.State{m.From, fsm.State(m.Event)}] = m.To
		if m.To == fsm.Back {
			cases = append(cases, fireCase{m.From, "", m.Event, m.From, fsm.ErrInvalidEvent})
			for _, back := range allStates {
				cases = append(cases, fireCase{m.From, back, m.Event, back, nil})
			}
			continue
		}
		cases = append(cases,
			fireCase{m.From, "", m.Event, m.To, nil},
			fireCase{m.From, fsm.CheckReception, m.Event, m.To, nil},
		)
	}
	for _, s := range allStates {
		for _, ev := range append(slices.Clone(allEvents), "no_such_event") {
			if _, ok := applies[[2]fsm.State{s, fsm.State(ev)}]; ok {
				continue
			}
			cases = append(cases,
				fireCase{s, "", ev, s, fsm.ErrInvalidEvent},
				fireCase{s, fsm.CheckReception, ev, s, fsm.ErrInvalidEvent},
			)
		}
	}
	return cases
}

func TestFire(t *testing.T) {
	cases := fireCases(t)
	// 21 states x 27 events x 2 return states, plus the extra return states.
	if floor := len(allStates) * (len(allEvents) + 1) * 2; len(cases) < floor {
		t.Fatalf("only %d cases, want at least %d", len(cases), floor)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			f, err := fsm.Restore(c.from, c.back)
			if err != nil {
				t.Fatalf("Restore(%q, %q): %v", c.from, c.back, err)
			}
			if can := f.Can(c.event); can != (c.wantErr == nil) {
				t.Errorf("Can(%s) = %v, want %v", c.event, can, c.wantErr == nil)
			}
			got, err := f.Fire(context.Background(), c.event)
			if c.wantErr == nil && err != nil {
				t.Errorf("Fire(%s) error: %v", c.event, err)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("Fire(%s) error = %v, want %v", c.event, err, c.wantErr)
			}
			if got != c.want {
				t.Errorf("Fire(%s) = %q, want %q", c.event, got, c.want)
			}
			if st := f.State(); st != c.want {
				t.Errorf("State() after Fire(%s) = %q, want %q", c.event, st, c.want)
			}
		})
	}
}

// step is one turn of a conversation: the return state the caller would
// pass to Restore, the event, and where the turn should end.
type step struct {
	back  fsm.State
	event fsm.Event
	want  fsm.State
}

// wholePort is a port from greeting to done, with a blocked check, a
// handoff, a rejected code and a rejected PIN on the way.
var wholePort = []step{
	{"", fsm.Greet, fsm.Menu},
	{"", fsm.Start, fsm.CheckBMAccess},
	{"", fsm.Confirm, fsm.Check2FA},
	{"", fsm.Deny, fsm.Blocked},
	{fsm.Check2FA, fsm.Fixed, fsm.Check2FA},
	{"", fsm.Confirm, fsm.CheckReception},
	{"", fsm.Confirm, fsm.CheckDisplayName},
	{"", fsm.Confirm, fsm.AskPhone},
	{"", fsm.NeedWABA, fsm.AwaitWABA},
	{"", fsm.Agent, fsm.Handoff},
	{fsm.AwaitWABA, fsm.Release, fsm.AwaitWABA},
	{"", fsm.AddNumber, fsm.AddingNumber},
	{"", fsm.NumberAdded, fsm.ChooseMethod},
	{"", fsm.RequestCode, fsm.RequestingCode},
	{"", fsm.CodeSent, fsm.AwaitCode},
	{"", fsm.Verify, fsm.Verifying},
	{"", fsm.CodeRejected, fsm.AwaitCode},
	{"", fsm.Verify, fsm.Verifying},
	{"", fsm.Verified, fsm.AskPin},
	{"", fsm.Register, fsm.Registering},
	{"", fsm.PinRejected, fsm.AskPin},
	{"", fsm.Register, fsm.Registering},
	{"", fsm.Registered, fsm.MigratingTemplates},
	{"", fsm.TemplatesMigrated, fsm.Done},
}

// walk plays steps from New, restoring a fresh Flow every turn as the bot
// does, and returns the first error.
func walk(ctx context.Context, steps []step) (fsm.State, error) {
	s := fsm.New
	for i, st := range steps {
		f, err := fsm.Restore(s, st.back)
		if err != nil {
			return s, fmt.Errorf("turn %d: %w", i, err)
		}
		if s, err = f.Fire(ctx, st.event); err != nil {
			return s, fmt.Errorf("turn %d: %w", i, err)
		}
		if s != st.want {
			return s, fmt.Errorf("turn %d: %s led to %s, want %s", i, st.event, s, st.want)
		}
	}
	return s, nil
}

func TestWholePort(t *testing.T) {
	got, err := walk(context.Background(), wholePort)
	if err != nil {
		t.Fatal(err)
	}
	if got != fsm.Done {
		t.Errorf("ended in %s, want done", got)
	}
}

func TestRestore(t *testing.T) {
	for _, s := range allStates {
		f, err := fsm.Restore(s, "")
		if err != nil {
			t.Errorf("Restore(%q, \"\"): %v", s, err)
			continue
		}
		if f.State() != s {
			t.Errorf("Restore(%q, \"\").State() = %q", s, f.State())
		}
		for _, back := range allStates {
			if _, err := fsm.Restore(s, back); err != nil {
				t.Errorf("Restore(%q, %q): %v", s, back, err)
			}
		}
	}
}

func TestRestoreRejectsUnknownStates(t *testing.T) {
	bad := []fsm.State{"", "bogus", "Menu", " menu", "menu ", fsm.Back, "check"}
	for _, s := range bad {
		f, err := fsm.Restore(s, "")
		if !errors.Is(err, fsm.ErrUnknownState) {
			t.Errorf("Restore(%q, \"\") error = %v, want ErrUnknownState", s, err)
		}
		if f != nil {
			t.Errorf("Restore(%q, \"\") returned a flow", s)
		}
	}
	for _, back := range bad {
		if back == "" {
			continue // no return state is allowed
		}
		f, err := fsm.Restore(fsm.Blocked, back)
		if !errors.Is(err, fsm.ErrUnknownState) {
			t.Errorf("Restore(blocked, %q) error = %v, want ErrUnknownState", back, err)
		}
		if f != nil {
			t.Errorf("Restore(blocked, %q) returned a flow", back)
		}
	}
}

func TestBackNeedsAReturnState(t *testing.T) {
	for _, c := range []struct {
		from fsm.State
		ev   fsm.Event
	}{
		{fsm.Menu, fsm.Resume},
		{fsm.Blocked, fsm.Fixed},
		{fsm.Failed, fsm.Retry},
		{fsm.Handoff, fsm.Release},
	} {
		f, err := fsm.Restore(c.from, "")
		if err != nil {
			t.Fatal(err)
		}
		if f.Can(c.ev) {
			t.Errorf("%s: Can(%s) with no return state", c.from, c.ev)
		}
		got, err := f.Fire(context.Background(), c.ev)
		if !errors.Is(err, fsm.ErrInvalidEvent) {
			t.Errorf("%s: Fire(%s) error = %v, want ErrInvalidEvent", c.from, c.ev, err)
		}
		if got != c.from || f.State() != c.from {
			t.Errorf("%s: Fire(%s) moved to %s", c.from, c.ev, got)
		}
		// Other events still apply.
		if got, err := f.Fire(context.Background(), fsm.Cancel); err != nil || got != fsm.Cancelled {
			t.Errorf("%s: Fire(cancel) = %s, %v; want cancelled", c.from, got, err)
		}
	}
}

func TestFireWithDoneContext(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	for name, ctx := range map[string]context.Context{"cancelled": cancelled, "expired": expired} {
		t.Run(name, func(t *testing.T) {
			f, err := fsm.Restore(fsm.AwaitCode, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Fire(ctx, fsm.Verify)
			if err == nil || !errors.Is(err, ctx.Err()) {
				t.Errorf("Fire error = %v, want %v", err, ctx.Err())
			}
			if got != fsm.AwaitCode || f.State() != fsm.AwaitCode {
				t.Errorf("Fire moved to %s, want await_code", f.State())
			}

			// A flow built afterwards from the same state works.
			g, err := fsm.Restore(fsm.AwaitCode, "")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := g.Fire(context.Background(), fsm.Verify); err != nil || got != fsm.Verifying {
				t.Errorf("new flow: Fire(verify) = %s, %v; want verifying", got, err)
			}

			// The same flow was not wedged either.
			if !f.Can(fsm.Verify) {
				t.Error("Can(verify) is false after a cancelled Fire")
			}
			if got, err := f.Fire(context.Background(), fsm.Verify); err != nil || got != fsm.Verifying {
				t.Errorf("same flow: Fire(verify) = %s, %v; want verifying", got, err)
			}
			if got, err := f.Fire(context.Background(), fsm.Verified); err != nil || got != fsm.AskPin {
				t.Errorf("same flow: Fire(verified) = %s, %v; want ask_pin", got, err)
			}
		})
	}
}

func TestClassification(t *testing.T) {
	final := []fsm.State{fsm.Done, fsm.Cancelled}
	checks := []fsm.State{fsm.CheckBMAccess, fsm.Check2FA, fsm.CheckReception, fsm.CheckDisplayName}
	var transient []fsm.State
	for _, s := range allStates {
		// "-ing" names a Graph call in flight: adding_number, verifying...
		verb, _, _ := strings.Cut(string(s), "_")
		wantTransient := strings.HasSuffix(verb, "ing")
		if wantTransient {
			transient = append(transient, s)
		}
		if !fsm.Known(s) {
			t.Errorf("Known(%q) = false", s)
		}
		if got := fsm.IsTransient(s); got != wantTransient {
			t.Errorf("IsTransient(%q) = %v, want %v", s, got, wantTransient)
		}
		if got, want := fsm.IsFinal(s), slices.Contains(final, s); got != want {
			t.Errorf("IsFinal(%q) = %v, want %v", s, got, want)
		}
		if got, want := fsm.IsCheck(s), slices.Contains(checks, s); got != want {
			t.Errorf("IsCheck(%q) = %v, want %v", s, got, want)
		}
		if strings.HasPrefix(string(s), "check_") != slices.Contains(checks, s) {
			t.Errorf("%q: check_ prefix and the list of checks disagree", s)
		}
	}
	wantTransient := []fsm.State{fsm.AddingNumber, fsm.RequestingCode, fsm.Verifying, fsm.Registering, fsm.MigratingTemplates}
	if diff := gocmp.Diff(wantTransient, transient); diff != "" {
		t.Errorf("-ing states (-want +got):\n%s", diff)
	}
	for _, s := range []fsm.State{"", "bogus", "Done", fsm.Back, "check_", "adding"} {
		if fsm.Known(s) || fsm.IsTransient(s) || fsm.IsFinal(s) || fsm.IsCheck(s) {
			t.Errorf("%q: unknown state classified as known, transient, final or check", s)
		}
	}
}

func TestConcurrentFlows(t *testing.T) {
	const n = 64
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				if got, err := walk(ctx, wholePort); err != nil || got != fsm.Done {
					t.Errorf("goroutine %d: ended in %s: %v", i, got, err)
				}
				return
			}
			// Odd goroutines mix invalid events in.
			f, err := fsm.Restore(fsm.ChooseMethod, "")
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
				return
			}
			for range 50 {
				if _, err := f.Fire(ctx, fsm.TemplatesMigrated); !errors.Is(err, fsm.ErrInvalidEvent) {
					t.Errorf("goroutine %d: templates_migrated in choose_method: %v", i, err)
				}
				_ = f.Can(fsm.RequestCode)
			}
			if got, err := f.Fire(ctx, fsm.RequestCode); err != nil || got != fsm.RequestingCode {
				t.Errorf("goroutine %d: request_code = %s, %v", i, got, err)
			}
		})
	}
	wg.Wait()
}

// TestNextIsRestoreAndFire: Next, which reuses machines, answers exactly
// as a fresh Restore followed by Fire, for every state, return state and
// event, and in any order.
func TestNextIsRestoreAndFire(t *testing.T) {
	ctx := context.Background()
	evs := append(append([]fsm.Event(nil), allEvents...), "no_such_event")
	backs := append([]fsm.State{""}, allStates...)
	for range 2 {
		for _, s := range allStates {
			for _, back := range backs {
				for _, ev := range evs {
					f, err := fsm.Restore(s, back)
					if err != nil {
						t.Fatal(err)
					}
					want, wantErr := f.Fire(ctx, ev)
					got, err := fsm.Next(ctx, s, back, ev)
					if got != want || errors.Is(err, fsm.ErrInvalidEvent) != errors.Is(wantErr, fsm.ErrInvalidEvent) || (err == nil) != (wantErr == nil) {
						t.Errorf("Next(%s, %q, %s) = %s, %v; Restore and Fire give %s, %v", s, back, ev, got, err, want, wantErr)
					}
				}
			}
		}
	}
	for _, bad := range [][2]fsm.State{{"bogus", ""}, {fsm.Menu, "bogus"}} {
		if _, err := fsm.Next(ctx, bad[0], bad[1], fsm.Greet); !errors.Is(err, fsm.ErrUnknownState) {
			t.Errorf("Next(%q, %q) error = %v, want ErrUnknownState", bad[0], bad[1], err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := fsm.Next(done, fsm.New, "", fsm.Greet); got != fsm.New || !errors.Is(err, context.Canceled) {
		t.Errorf("Next(cancelled) = %s, %v; want new, context.Canceled", got, err)
	}
}

// TestNextConcurrently: machines shared through Next never leak one
// caller's state into another's.
func TestNextConcurrently(t *testing.T) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for range 200 {
				s, want := fsm.ChooseMethod, fsm.RequestingCode
				if i%2 == 0 {
					s, want = fsm.Blocked, fsm.Check2FA
				}
				ev := fsm.RequestCode
				if i%2 == 0 {
					ev = fsm.Fixed
				}
				if got, err := fsm.Next(ctx, s, fsm.Check2FA, ev); err != nil || got != want {
					t.Errorf("goroutine %d: Next(%s, %s) = %s, %v; want %s", i, s, ev, got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
