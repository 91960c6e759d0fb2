package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/internal/eventually"
	"portabot/storage"
)

// drained reports whether serve has nothing left to do: no message waiting,
// no reply owed.
func drained(t *testing.T, s *served) bool {
	e := scrapeMetrics(t, s)
	return e.samples["portabot_inbox_depth"] == 0 && e.samples[`portabot_outbox_rows{state="pending"}`] == 0
}

// TestBackupUnderLoadRestoresEveryAcknowledgement takes a backup of a
// running serve while clients' webhooks flow, restores it into a fresh
// directory and starts serve there: every message acknowledged before the
// backup answered is answered exactly once in the restored deployment,
// either by a reply the backup records as sent or by one the restored serve
// sends, never both, and with as many messages as the original serve sent
// for it.
func TestBackupUnderLoadRestoresEveryAcknowledgement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two serves under load")
	}
	const clients, senders = 240, 6
	dir1, dir2 := t.TempDir(), t.TempDir()
	db1, db2 := filepath.Join(dir1, "portabot.db"), filepath.Join(dir2, "portabot.db")
	env := sandboxEnv(map[string]string{"PORTABOT_SEND_GRACE": "1s", "PORTABOT_LOG_LEVEL": "info"})
	s1 := startServe(t, env, db1)

	var (
		mu    sync.Mutex
		acked = map[string]bool{} // client -> its one message was acknowledged
		load  sync.WaitGroup
	)
	for g := range senders {
		load.Go(func() {
			for i := g; i < clients; i += senders {
				from := fmt.Sprintf("55119700%05d", i)
				body := whatsapp.BuildTextWebhook(s1.phone, from, newMessageID(), "how long does the migration take?", time.Now())
				code, err := postWebhook(t, s1.client, s1.url, body, whatsapp.SignBody(s1.secret, body))
				if err != nil || code != http.StatusOK {
					t.Errorf("webhook from %s: %d, %v", bot.MaskPhone(from), code, err)
					return
				}
				mu.Lock()
				acked[from] = true
				mu.Unlock()
			}
		})
	}
	eventually.Within(t, 30*time.Second, "a third of the clients acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= clients/3
	})
	archive := filepath.Join(t.TempDir(), "portabot.backup")
	var before []string
	m, size, err := takeBackup(context.Background(), db1, archive, func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range acked {
			before = append(before, c)
		}
	})
	if err != nil {
		t.Fatalf("backup under load: %v\nlogs:\n%s", err, s1.logs)
	}
	load.Wait()
	if len(before) == 0 || len(before) == clients {
		t.Fatalf("%d of %d clients acknowledged when the backup answered: the load did not overlap the backup", len(before), clients)
	}
	eventually.Within(t, 60*time.Second, "the first serve drained", func() bool { return drained(t, s1) })
	original := map[string]int{} // messages the first serve sent each client
	firstFeed := s1.feed(t).Messages
	for _, msg := range firstFeed {
		original[strings.TrimPrefix(msg.To, "+")]++
	}
	s1.mustStop(t)
	t.Logf("backup of %d bytes (store %s) answered with %d of %d clients acknowledged", size, m.StoreID, len(before), clients)

	// The drill: the key travels apart from the backup; restore, then start.
	key, err := os.ReadFile(db1 + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db2+".key", key, 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	restore := environment{args: []string{"restore", "--db", db2, archive}, getenv: func(string) string { return "" },
		stdout: &out, stderr: &out}
	if err := run(context.Background(), restore); err != nil {
		t.Fatalf("portabot restore: %v\n%s", err, &out)
	}
	t.Logf("portabot restore: %s", strings.TrimSpace(out.String()))

	// What the backup records as sent went out before it was taken.
	sealKey := sandboxKey(t, db2)
	sentInBackup := map[string]map[string]bool{} // client -> row ids sent
	func() {
		st, err := storage.Open(db2, storage.WithSealKey(sealKey))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for _, c := range before {
			rows, err := st.OutboundRows(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			sentInBackup[c] = map[string]bool{}
			for _, r := range rows {
				if r.State == bot.OutboundSent {
					sentInBackup[c][r.ID] = true
				}
			}
		}
	}()

	s2 := startServe(t, env, db2)
	eventually.Within(t, 60*time.Second, "the restored serve drained", func() bool { return drained(t, s2) })
	resent := map[string][]metasim.Message{}
	for _, msg := range s2.feed(t).Messages {
		c := strings.TrimPrefix(msg.To, "+")
		resent[c] = append(resent[c], msg)
	}
	s2.mustStop(t)

	// Before-sent messages: those of the first serve's that carried a row
	// the backup records as sent.
	firstSent := map[string]int{}
	for _, msg := range firstFeed {
		c := strings.TrimPrefix(msg.To, "+")
		if id, _, _, ok := bot.ParseOutboundRef(msg.CallbackData); ok && sentInBackup[c][id] {
			firstSent[c]++
		}
	}
	answeredByBackup, answeredAfter := 0, 0
	for _, c := range before {
		refs := map[string]int{}
		for _, msg := range resent[c] {
			refs[msg.CallbackData]++
			if id, _, _, _ := bot.ParseOutboundRef(msg.CallbackData); sentInBackup[c][id] {
				t.Errorf("client %s: reply %s, sent before the backup and recorded so, was sent again after the restore", bot.MaskPhone(c), id)
			}
		}
		for ref, n := range refs {
			if n > 1 {
				t.Errorf("client %s: %s sent %d times by the restored serve", bot.MaskPhone(c), ref, n)
			}
		}
		got := firstSent[c] + len(resent[c])
		if got == 0 {
			t.Errorf("client %s: acknowledged before the backup answered, never answered after the restore", bot.MaskPhone(c))
			continue
		}
		if got != original[c] {
			t.Errorf("client %s: %d messages in the restored deployment (%d before the backup, %d after the restore), the original serve sent %d",
				bot.MaskPhone(c), got, firstSent[c], len(resent[c]), original[c])
		}
		if len(resent[c]) == 0 {
			answeredByBackup++
		} else {
			answeredAfter++
		}
	}
	t.Logf("%d clients acknowledged before the backup answered: %d answered before it, %d answered by the restored serve", len(before), answeredByBackup, answeredAfter)
}

// TestBackupCommandRefusesAndExplains: the command never overwrites a
// file, and without a serve or store says which is missing.
func TestBackupCommandRefusesAndExplains(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portabot.db")
	var out syncBuffer
	env := func(args ...string) environment {
		return environment{args: args, getenv: func(string) string { return "" }, stdout: &out, stderr: &out}
	}
	err := run(context.Background(), env("backup", "--db", db, filepath.Join(dir, "b.tar")))
	if err == nil || !strings.Contains(err.Error(), "no store at") {
		t.Errorf("backup of no store = %v; want it to say there is no store", err)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("backup of no store created one")
	}
	s := startServe(t, sandboxEnv(nil), db)
	s.text(t, "5511999990777", "hi")
	existing := filepath.Join(dir, "exists.tar")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), env("backup", "--db", db, existing)); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file = %v; want a refusal", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("backup overwrote an existing file")
	}
	good := filepath.Join(dir, "good.tar")
	if err := run(context.Background(), env("backup", "--db", db, good)); err != nil {
		t.Fatalf("backup of a running serve: %v\n%s", err, &out)
	}
	// The socket is the serve user's only.
	if fi, err := os.Stat(adminSocketPath(db)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket: %v, %v; want mode 0600", fi, err)
	}
	// Restoring over the running serve's store is refused, even forced.
	if err := run(context.Background(), env("restore", "--force", "--db", db, good)); err == nil || !strings.Contains(err.Error(), "stop serve first") {
		t.Errorf("restore over a running serve = %v; want a refusal", err)
	}
	s.mustStop(t)
	if _, err := os.Stat(adminSocketPath(db)); err == nil {
		t.Error("serve left its admin socket behind")
	}
	// Stopped, the store holds a conversation: refused without --force.
	if err := run(context.Background(), env("restore", "--db", db, good)); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("restore over a store with data = %v; want a refusal naming --force", err)
	}
	// With serve stopped, the backup is taken from the files.
	if err := run(context.Background(), env("backup", "--db", db, filepath.Join(dir, "stopped.tar"))); err != nil {
		t.Errorf("backup of a stopped store: %v", err)
	}
	if err := run(context.Background(), env("restore", "--force", "--db", db, good)); err != nil {
		t.Errorf("forced restore: %v\n%s", err, &out)
	}
	if !strings.Contains(out.String(), "the replaced file is kept as") {
		t.Errorf("forced restore did not say where the old files went:\n%s", &out)
	}
}

// TestExportCommand exports a case from a running serve (through its admin
// socket) and from the stopped store's files: the same case, masked unless
// asked.
func TestExportCommand(t *testing.T) {
	const client = "5511999990888"
	db := filepath.Join(t.TempDir(), "portabot.db")
	s := startServe(t, sandboxEnv(nil), db)
	c := &conversationView{s: s, from: client}
	s.text(t, client, "hi")
	m := c.next(t, `offering "Start the port"`, offers("Start the port"))
	s.tap(t, client, m, "Start the port")
	c.next(t, "asking the first check", offers("Yes"))

	export := func(args ...string) (bot.CaseExport, string, error) {
		var out, errs syncBuffer
		e := environment{args: append([]string{"export", "--db", db}, args...), getenv: func(string) string { return "" }, stdout: &out, stderr: &errs}
		err := run(context.Background(), e)
		var x bot.CaseExport
		if err == nil {
			if jerr := json.Unmarshal([]byte(out.String()), &x); jerr != nil {
				t.Fatalf("export printed no JSON: %v\n%s", jerr, &out)
			}
		}
		return x, out.String(), err
	}
	if _, _, err := export("424242"); err == nil || !strings.Contains(err.Error(), "no case 424242") {
		t.Errorf("export of an unknown case = %v; want it to say there is no such case", err)
	}
	var id string
	for n := 1; n < 5 && id == ""; n++ {
		if x, _, err := export(strconv.Itoa(n)); err == nil {
			id = x.Case
		}
	}
	if id == "" {
		t.Fatal("no case found to export among ids 1 to 4")
	}
	live, out, err := export(id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, client) || live.Client != bot.MaskPhone(client) || len(live.Timeline) == 0 {
		t.Errorf("live export: client %q, %d events; want the client masked and a timeline:\n%s", live.Client, len(live.Timeline), out)
	}
	full, _, err := export("--unmasked", id)
	if err != nil || !strings.Contains(full.Client, client) {
		t.Errorf("unmasked export: client %q, %v; want %s", full.Client, err, client)
	}
	s.mustStop(t)
	stopped, _, err := export(id)
	if err != nil {
		t.Fatalf("export with serve stopped: %v", err)
	}
	if len(stopped.Timeline) != len(live.Timeline) || stopped.State != live.State {
		t.Errorf("export from the files: %d events at %q; from the running serve: %d at %q", len(stopped.Timeline), stopped.State, len(live.Timeline), live.State)
	}
}
