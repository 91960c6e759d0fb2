// Package fsm is the conversation state machine of a number port: the state
// and event names (part of portabot's public contract, since `portabot cases
// --json` shows them), the transition table as data, and a Mermaid export of
// that same table.
//
// A Flow lives for one turn. The stored state string is the only memory
// between turns, so a looplab machine is rebuilt from it every time; that also
// sidesteps looplab's habit of wedging a machine whose context was cancelled.
package fsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	lfsm "github.com/looplab/fsm"
)

// State is where a conversation stands.
type State string

// The states of DESIGN.md. Names ending in -ing are transient: a Graph call
// is in flight, and a process that stops there must ask Meta where the
// number stands before going on.
const (
	New                State = "new"
	Menu               State = "menu"
	CheckBMAccess      State = "check_bm_access"
	Check2FA           State = "check_2fa"
	CheckReception     State = "check_reception"
	CheckDisplayName   State = "check_display_name"
	AskPhone           State = "ask_phone"
	AwaitWABA          State = "await_waba"
	AddingNumber       State = "adding_number"
	ChooseMethod       State = "choose_method"
	RequestingCode     State = "requesting_code"
	AwaitCode          State = "await_code"
	Verifying          State = "verifying"
	AskPin             State = "ask_pin"
	Registering        State = "registering"
	MigratingTemplates State = "migrating_templates"
	Done               State = "done"
	Cancelled          State = "cancelled"
	Handoff            State = "handoff"
	Failed             State = "failed"
	Blocked            State = "blocked"
)

// Back is not a state: as the target of a transition it means "the state the
// conversation is to return to", which the caller knows and passes to Restore.
const Back State = "(back)"

// Event is something that happened in a turn.
type Event string

// Events. The prerequisite checks share Confirm and Deny so the table reads
// like the conversation.
const (
	Greet             Event = "greet"
	Start             Event = "start"
	Resume            Event = "resume"
	Confirm           Event = "confirm"
	Deny              Event = "deny"
	Fixed             Event = "fixed"
	NeedWABA          Event = "need_waba"
	AddNumber         Event = "add_number"
	NumberAdded       Event = "number_added"
	RequestCode       Event = "request_code"
	CodeSent          Event = "code_sent"
	Verify            Event = "verify"
	CodeRejected      Event = "code_rejected"
	Verified          Event = "verified"
	Register          Event = "register"
	Registered        Event = "registered"
	PinRejected       Event = "pin_rejected"
	TemplatesMigrated Event = "templates_migrated"
	Block             Event = "block"
	Postpone          Event = "postpone"
	Fail              Event = "fail"
	Retry             Event = "retry"
	ToMenu            Event = "menu"
	Cancel            Event = "cancel"
	Agent             Event = "agent"
	Release           Event = "release"
)

// Transition is one row of the table.
type Transition struct {
	Event Event
	From  []State
	To    State
}

var checks = []State{CheckBMAccess, Check2FA, CheckReception, CheckDisplayName}

// Transient lists the states in which a Graph call is in flight.
var transient = []State{AddingNumber, RequestingCode, Verifying, Registering, MigratingTemplates}

var final = []State{Done, Cancelled}

// allStates lists every state, in the order of the conversation; All
// hands out copies, so that no importer can change the machine.
var allStates = []State{
	New, Menu, CheckBMAccess, Check2FA, CheckReception, CheckDisplayName, AskPhone, AwaitWABA,
	AddingNumber, ChooseMethod, RequestingCode, AwaitCode, Verifying, AskPin, Registering,
	MigratingTemplates, Done, Cancelled, Handoff, Failed, Blocked,
}

// table is the whole conversation. Rows are data so the diagram, the tests
// and the machine cannot disagree; Table hands out copies.
var table = []Transition{
	{Greet, []State{New}, Menu},
	{Start, []State{Menu}, CheckBMAccess},
	{Resume, []State{Menu}, Back},
	{Confirm, []State{CheckBMAccess}, Check2FA},
	{Confirm, []State{Check2FA}, CheckReception},
	{Confirm, []State{CheckReception}, CheckDisplayName},
	{Confirm, []State{CheckDisplayName}, AskPhone},
	{Deny, checks, Blocked},
	{Fixed, []State{Blocked}, Back},
	{NeedWABA, []State{AskPhone}, AwaitWABA},
	{AddNumber, []State{AskPhone, AwaitWABA}, AddingNumber},
	{NumberAdded, []State{AddingNumber}, ChooseMethod},
	{Block, []State{AddingNumber, Registering}, Blocked},
	{RequestCode, []State{ChooseMethod, AwaitCode}, RequestingCode},
	{CodeSent, []State{RequestingCode}, AwaitCode},
	{Verify, []State{AwaitCode}, Verifying},
	{CodeRejected, []State{Verifying}, AwaitCode},
	{Verified, []State{Verifying, RequestingCode, ChooseMethod}, AskPin},
	{Register, []State{AskPin}, Registering},
	{PinRejected, []State{Registering}, AskPin},
	{Registered, []State{Registering}, MigratingTemplates},
	{TemplatesMigrated, []State{MigratingTemplates}, Done},
	{Postpone, []State{AddingNumber}, AskPhone},
	{Postpone, []State{RequestingCode}, ChooseMethod},
	{Postpone, []State{Verifying}, AwaitCode},
	{Postpone, []State{Registering}, AskPin},
	{Fail, transient, Failed},
	{Retry, []State{Failed}, Back},
	{ToMenu, without(allStates, append(append([]State{Handoff}, transient...), Menu)), Menu},
	{Cancel, without(allStates, append([]State{Cancelled}, transient...)), Cancelled},
	{Agent, without(allStates, append([]State{Handoff}, final...)), Handoff},
	{Release, []State{Handoff}, Back},
}

func without(all []State, drop []State) []State {
	var out []State
	for _, s := range all {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

// Known reports whether s is one of the states of the table.
func Known(s State) bool { return slices.Contains(allStates, s) }

// All returns every state, in the order of the conversation.
func All() []State { return slices.Clone(allStates) }

// Table returns the whole conversation, one row per transition.
func Table() []Transition {
	out := slices.Clone(table)
	for i := range out {
		out[i].From = slices.Clone(out[i].From)
	}
	return out
}

// IsTransient reports whether a Graph call may be in flight in s.
func IsTransient(s State) bool { return slices.Contains(transient, s) }

// TransientStates returns the states in which a Graph call may be in
// flight, the ones a restart must settle.
func TransientStates() []State { return slices.Clone(transient) }

// IsFinal reports whether the conversation's case is over in s.
func IsFinal(s State) bool { return slices.Contains(final, s) }

// IsCheck reports whether s is one of the four prerequisite checks.
func IsCheck(s State) bool { return slices.Contains(checks, s) }

// ErrInvalidEvent is returned when an event does not apply to the current
// state. The conversation stays where it was.
var ErrInvalidEvent = errors.New("fsm: event does not apply in this state")

// ErrUnknownState is returned by Restore for a state the table does not know,
// such as a corrupted or hand-edited record.
var ErrUnknownState = errors.New("fsm: unknown state")

// Flow is one turn's machine.
type Flow struct {
	m *lfsm.FSM
}

// Restore returns a flow positioned at s. back is where transitions to Back
// lead (the check a blocked client returns to, the state an agent hands back);
// it may be empty when no such transition can fire.
func Restore(s, back State) (*Flow, error) {
	if err := checkStates(s, back); err != nil {
		return nil, err
	}
	return &Flow{m: lfsm.NewFSM(string(s), events[back], nil)}, nil
}

// Next is Restore(s, back) followed by Fire(ctx, ev), for the engine, which
// fires one event on a fresh flow each time. looplab's NewFSM builds its
// maps of transitions, events and states on every call, which made up most
// of what a turn allocated; Next takes a machine already built for back,
// positions it at s, fires, and keeps it for the next caller.
func Next(ctx context.Context, s, back State, ev Event) (State, error) {
	if err := checkStates(s, back); err != nil {
		return s, err
	}
	p := machines[back]
	f := p.Get().(*Flow)
	defer p.Put(f)
	f.m.SetState(string(s))
	return f.Fire(ctx, ev)
}

// checkStates is Restore's check of its arguments.
func checkStates(s, back State) error {
	if !Known(s) {
		return fmt.Errorf("%w: %q", ErrUnknownState, s)
	}
	if back != "" && !Known(back) {
		return fmt.Errorf("%w: return state %q", ErrUnknownState, back)
	}
	return nil
}

// events holds looplab's event descriptions of the table for each return
// state (and none, ""), and machines the machines built from them, free for
// Next to use, one caller at a time: looplab keeps the current state in the
// machine, and without callbacks nothing else. Both are filled by init and
// only read after.
var (
	events   = map[State][]lfsm.EventDesc{}
	machines = map[State]*sync.Pool{}
)

func init() {
	for _, back := range append([]State{""}, allStates...) {
		var evs []lfsm.EventDesc
		for _, t := range table {
			to := t.To
			if to == Back {
				if back == "" {
					continue
				}
				to = back
			}
			evs = append(evs, lfsm.EventDesc{Name: string(t.Event), Src: states(t.From), Dst: string(to)})
		}
		events[back] = evs
		machines[back] = &sync.Pool{New: func() any { return &Flow{m: lfsm.NewFSM(string(New), evs, nil)} }}
	}
}

func states(ss []State) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// State is where the flow stands now.
func (f *Flow) State() State { return State(f.m.Current()) }

// Can reports whether ev applies now.
func (f *Flow) Can(ev Event) bool { return f.m.Can(string(ev)) }

// Fire applies ev and returns the new state. Staying in the same state is not
// an error. The caller's context only bounds the call: it is never handed to
// looplab, because a cancelled context would wedge the machine.
func (f *Flow) Fire(ctx context.Context, ev Event) (State, error) {
	if err := ctx.Err(); err != nil {
		return f.State(), err
	}
	err := f.m.Event(context.Background(), string(ev))
	var noTransition lfsm.NoTransitionError
	var invalid lfsm.InvalidEventError
	var unknown lfsm.UnknownEventError
	switch {
	case err == nil, errors.As(err, &noTransition):
		return f.State(), nil
	case errors.As(err, &invalid), errors.As(err, &unknown):
		return f.State(), fmt.Errorf("%w: %s in %s", ErrInvalidEvent, ev, f.State())
	default:
		return f.State(), fmt.Errorf("fsm: %s in %s: %w", ev, f.State(), err)
	}
}
