package storage

import (
	"context"
	"slices"
	"testing"
	"time"

	"portabot/bot"
	"portabot/fsm"
)

// A client whose closed case retention already expired asks to be
// forgotten by number: the case, which now holds only the keyed hash of
// the number, is found through the hash and erased with the rest, and the
// hash leaves the files. Another client's expired case keeps its hash.
func TestForgetFindsTheNumbersExpiredCases(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	pk := bot.PseudonymKey(testKey)
	gone := seedClient(t, db, goneClient, goneText, 3)
	kept := seedClient(t, db, keptClient, "quero portar a padaria", 3)
	for {
		n, err := db.Expire(ctx, time.Now().Add(24*time.Hour), 100)
		if err != nil {
			t.Fatalf("Expire() error = %v", err)
		}
		if n < 100 {
			break
		}
	}
	hash := bot.Pseudonym(pk, goneClient)
	byHash, err := db.CasesByNumber(ctx, hash)
	if err != nil || len(byHash) != 1 || byHash[0].ID != gone {
		t.Fatalf("CasesByNumber(pseudonym) after retention = %v, %v; want case %s, the returning client recognised", byHash, err, gone)
	}
	// The client writes again: a new conversation, no case yet.
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(goneClient, "")})

	got, err := db.Forget(ctx, bot.ForgetRequest{Number: goneClient, Actor: "operator"})
	if err != nil {
		t.Fatalf("Forget() error = %v", err)
	}
	if !slices.Contains(got.Cases, gone) || got.Conversations != 1 {
		t.Errorf("Forget() = %+v; want the expired case %s and the new conversation erased", got, gone)
	}
	c, err := db.Case(ctx, gone)
	if err != nil || c.Erased.IsZero() || c.Client != "" || c.Phone != "" {
		t.Errorf("Case(%s) after forget = %+v, %v; want its tombstone", gone, c, err)
	}
	if again, _ := db.CasesByNumber(ctx, hash); len(again) != 0 {
		t.Errorf("CasesByNumber(pseudonym) after forget = %v, want none", again)
	}
	if found := scanFiles(t, db.Path(), hash); len(found) > 0 {
		t.Errorf("after forget the files still hold the client's pseudonym: %v", found)
	}
	if k, err := db.Case(ctx, kept); err != nil || k.Client != bot.Pseudonym(pk, keptClient) || !k.Erased.IsZero() {
		t.Errorf("the other client's expired case = %+v, %v; want it kept with its pseudonym", k, err)
	}
}

// Forgetting one expired case by its id takes the client's other expired
// cases with it, found by the pseudonym they share, as it would their
// cases before retention.
func TestForgetOfAnExpiredCaseTakesTheClientsOthers(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	first := seedClient(t, db, goneClient, goneText, 2)
	// A second port of the same client, closed.
	second := mustNewCaseID(t, db)
	c := sampleCase(second, goneClient)
	c.Phone, c.ClientPhone, c.InFlight, c.State, c.Closed = "+"+goneClient, goneClient, "", fsm.Done, at(12)
	conv, _ := db.Conversation(ctx, goneClient)
	conv.CaseID = second
	mustCommit(t, db, bot.Turn{Conversation: conv, Case: &c})
	kept := seedClient(t, db, keptClient, "quero portar a padaria", 2)
	for {
		n, err := db.Expire(ctx, time.Now().Add(24*time.Hour), 100)
		if err != nil {
			t.Fatalf("Expire() error = %v", err)
		}
		if n < 100 {
			break
		}
	}
	got, err := db.Forget(ctx, bot.ForgetRequest{CaseID: first, Actor: "operator"})
	if err != nil {
		t.Fatalf("Forget() error = %v", err)
	}
	if !slices.Contains(got.Cases, first) || !slices.Contains(got.Cases, second) || slices.Contains(got.Cases, kept) {
		t.Errorf("Forget(case %s) erased cases %v; want %s and %s, not %s", first, got.Cases, first, second, kept)
	}
}
