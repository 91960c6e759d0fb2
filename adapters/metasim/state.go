package metasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateVersion changes when the file format does, so an old file is
// refused instead of misread.
const stateVersion = 1

// maxMessages bounds the sent messages kept, so a long sandbox run does not
// grow the state file without end; counters keep counting.
const maxMessages = 1000

// state is everything the simulator remembers, as saved to StatePath.
type state struct {
	Version int                `json:"version"`
	Numbers map[string]*number `json:"numbers"` // by phone number id
	// Calls counts requests by endpoint, then by number (or WABA id).
	Calls    map[string]map[string]int `json:"calls"`
	Messages []Message                 `json:"messages"`
	// Fired records one-shot scenario failures already served, by
	// "<failure> <number>".
	Fired map[string]bool `json:"fired"`
	// Wrote is when each user last wrote to the business, by number
	// ("+5511...") or BSUID: the start of their 24-hour window.
	Wrote map[string]time.Time `json:"wrote,omitempty"`
}

// number is one migration: a number added to a WABA.
type number struct {
	ID       string    `json:"id"`
	WABA     string    `json:"waba"`
	CC       string    `json:"cc"`
	National string    `json:"national"`
	Name     string    `json:"verified_name"`
	Added    time.Time `json:"added"`

	// The code is kept only as a hash: the state file is not a place for
	// a secret, even a simulated one.
	CodeHash    string    `json:"code_hash,omitempty"`
	CodeExpires time.Time `json:"code_expires"`
	WrongCodes  int       `json:"wrong_codes"`
	LockedUntil time.Time `json:"locked_until"`
	Verified    bool      `json:"verified"`

	Registers    []time.Time `json:"registers"` // register calls in the last RegisterWindow
	BlockedUntil time.Time   `json:"blocked_until"`
	Registered   bool        `json:"registered"`
}

func (n *number) e164() string { return "+" + n.CC + n.National }

func newState() *state {
	return &state{
		Version: stateVersion,
		Numbers: map[string]*number{},
		Calls:   map[string]map[string]int{},
		Fired:   map[string]bool{},
	}
}

func (st *state) count(endpoint, key string) {
	if st.Calls[endpoint] == nil {
		st.Calls[endpoint] = map[string]int{}
	}
	st.Calls[endpoint][key]++
}

// load reads the state at path; a missing file (or no path) is a fresh
// simulated Meta.
func load(path string) (*state, error) {
	st := newState()
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metasim: load state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("metasim: load state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("metasim: load state %s: format version %d, want %d", path, st.Version, stateVersion)
	}
	// Maps a hand-edited or older file may lack.
	if st.Numbers == nil {
		st.Numbers = map[string]*number{}
	}
	if st.Calls == nil {
		st.Calls = map[string]map[string]int{}
	}
	if st.Fired == nil {
		st.Fired = map[string]bool{}
	}
	return st, nil
}

// save writes the state to path through a temporary file and a rename, so
// a crash mid-write leaves the previous state, never half of one.
func (st *state) save(path string) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
