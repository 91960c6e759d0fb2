package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portabot/storage"
)

// /porta list pages through a store's history: the open cases by default,
// every case a page at a time with `all`, and each page but the last says
// how to ask for the next.
func TestCockpitListPages(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portabot.db")
	st, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var hs []storage.History
	for id := 1; id <= 45; id++ {
		hs = append(hs, closedHistory(id, now.Add(time.Duration(id-50)*time.Hour)))
	}
	for i := range 3 {
		hs = append(hs, blockedHistory(46+i, i, now))
	}
	if err := st.LoadHistory(context.Background(), hs); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	s := startCockpitEnv(t, newCockpitSlack(t), map[string]string{"PORTABOT_DB": db})

	open, _ := s.porta("list")
	for _, want := range []string{"Cases in flight (3)", "`#48`", "`#47`", "`#46`"} {
		if !strings.Contains(open, want) {
			t.Errorf("/porta list lacks %q:\n%s", want, open)
		}
	}
	if strings.Contains(open, "`#45`") || strings.Contains(open, "More:") {
		t.Errorf("/porta list shows a closed case or another page:\n%s", open)
	}

	first, _ := s.porta("list all")
	for _, want := range []string{"All cases (48)", "newest first: #48 to #9", "`#48`", "`#9`", "More: `/porta list all before 9`"} {
		if !strings.Contains(first, want) {
			t.Errorf("/porta list all lacks %q:\n%s", want, first)
		}
	}
	if strings.Contains(first, "`#8`") {
		t.Errorf("/porta list all shows case #8, past its page of 40:\n%s", first)
	}
	second, _ := s.porta("list all before 9")
	for _, want := range []string{"All cases (48)", "newest first: #8 to #1", "`#8`", "`#1`"} {
		if !strings.Contains(second, want) {
			t.Errorf("/porta list all before 9 lacks %q:\n%s", want, second)
		}
	}
	if strings.Contains(second, "`#9`") || strings.Contains(second, "More:") {
		t.Errorf("the last page repeats case #9 or offers more:\n%s", second)
	}
	done, _ := s.porta("list done before 2")
	if !strings.Contains(done, "Cases in `done` (45)") || !strings.Contains(done, "`#1`") || strings.Contains(done, "`#2`") {
		t.Errorf("/porta list done before 2 is not case #1 alone:\n%s", done)
	}
	bad, _ := s.porta("list all before many")
	if !strings.Contains(bad, "There is no case #many to list from.") {
		t.Errorf("/porta list all before many answered %s, want that there is no such case", bad)
	}
}
