package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"portabot/bot"
	"portabot/fsm"
	"portabot/storage/storetest"
)

// A database holding cases from before migration 00003 gets their index
// columns and counts when it is applied.
func TestIndexMigrationBackfills(t *testing.T) {
	url := emptyDatabase(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p, err := provider(pool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		c := storetest.SampleCase(fmt.Sprint(i), fmt.Sprintf("551198765000%d", i))
		if i <= 2 {
			c.State, c.Closed = fsm.Done, storetest.At(i)
		}
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO cases (id, data) VALUES ($1, $2)`, i, data); err != nil {
			t.Fatal(err)
		}
	}
	_ = p.Close()
	db := mustOpen(t, url) // applies 00003
	counts, err := db.CaseCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[fsm.Done] != 2 || counts[fsm.MigratingTemplates] != 3 || len(counts) != 2 {
		t.Errorf("counts after the migration = %v, want 2 done and 3 migrating_templates", counts)
	}
	found, err := db.CasesByNumber(ctx, "+5511987650003")
	if err != nil || len(found) != 1 || found[0].ID != "3" {
		t.Errorf("CasesByNumber(+5511987650003) after the migration = %v, %v; want case 3", found, err)
	}
	closed, err := db.CasesClosedSince(ctx, storetest.At(0))
	if err != nil || len(closed) != 2 {
		t.Errorf("CasesClosedSince after the migration = %d cases, %v; want 2", len(closed), err)
	}
	// And the counts keep up with later writes.
	c := storetest.SampleCase("3", "5511987650003")
	c.State = fsm.Done
	storetest.MustCommit(t, db, bot.Turn{Conversation: storetest.SampleConversation(c.Client, "3"), Case: &c})
	if counts, _ = db.CaseCounts(ctx); counts[fsm.Done] != 3 || counts[fsm.MigratingTemplates] != 2 {
		t.Errorf("counts after case 3 is done = %v, want 3 done and 2 migrating_templates", counts)
	}
}
