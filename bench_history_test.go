package main

import (
	"path/filepath"
	"testing"

	"portabot/storage"
)

// The history bench end to end with 2,000 closed cases: the seeded store
// holds them, serve runs on both stores, and every path is measured on
// both. Its speed is the bench's business (docs/performance.md), not this
// test's: it asserts only what the run found.
func TestHistoryBench(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := portabotBinary(t)
	rep, err := historyBench(t.Context(), historyConfig{Closed: 2000, Samples: 2, Dir: filepath.Join(dir, "stores"), Keep: true, Exe: bin})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]historyStore{"empty": rep.Empty, "history": rep.History} {
		for path, ms := range map[string][]float64{"turn": s.RawMS["turn"], "list": s.RawMS["list"],
			"security": s.RawMS["security"], "scrape": s.RawMS["scrape"]} {
			if len(ms) != 2 {
				t.Errorf("%s store: %d measurements of %s, want 2", name, len(ms), path)
			}
		}
		if s.StartupMS <= 0 {
			t.Errorf("%s store: start-up not measured", name)
		}
	}
	if len(rep.Ratios) != 5 {
		t.Errorf("ratios = %v, want one for each of the 5 paths", rep.Ratios)
	}
	// The seeded store holds the closed cases, each with its trail.
	st, err := storage.Open(filepath.Join(dir, "stores", "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.CaseCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if counts["done"] != 2000 {
		t.Errorf("the seeded store has %d done cases, want 2000 (all counts: %v)", counts["done"], counts)
	}
	audit, err := st.Audit(t.Context(), "1000")
	if err != nil || len(audit) != len(doneTrail) {
		t.Errorf("case 1000's trail has %d events (%v), want %d", len(audit), err, len(doneTrail))
	}
	// Retention leaves each closed case its record without personal data
	// and its audit events without detail: fewer bytes than before, not
	// none.
	if after := rep.BytesPerClosedCaseAfterRetention; after == nil || *after <= 0 || *after >= rep.BytesPerClosedCaseCompacted {
		t.Errorf("bytes per closed case after retention = %v, want a figure above 0 and below the %v before", deref(after), rep.BytesPerClosedCaseCompacted)
	}
	h := rep.Space["history"]
	if h.Expired["expired"] < 2000 || h.Expired["processed_markers"] < 2000*12 {
		t.Errorf("the retention pass expired %v, want the 2,000 closed cases and their conversations and their 24,000 processed markers", h.Expired)
	}
	if h.After.FileBytes < h.Before.FileBytes || h.After.InUseBytes >= h.Before.InUseBytes {
		t.Errorf("history store before retention %+v, after %+v: want the file no smaller (bbolt keeps its pages) and fewer bytes in use", h.Before, h.After)
	}
	if rep.BytesPerClosedCase <= 0 {
		t.Errorf("bytes per closed case = %v, want the seeded store's growth per case", rep.BytesPerClosedCase)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
