package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The light version, always on: bodies beyond the in-flight budget are
// refused with 503 and Retry-After while the budget is held, and accepted
// again once it is given back; an announced length over the limit is
// refused with 413 before the handler reads anything.
func TestServeBodyBudget(t *testing.T) {
	budget := &bodyBudget{max: 3 << 20}
	release := make(chan struct{})
	var entered sync.WaitGroup
	h := limitBodies(budget, 1<<20, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Done()
		<-release
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := bytes.Repeat([]byte("x"), 1<<20)
	var held sync.WaitGroup
	entered.Add(3)
	for range 3 {
		held.Go(func() {
			resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	entered.Wait()
	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a body beyond the budget: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	close(release)
	held.Wait()
	if budget.used != 0 {
		t.Errorf("%d bytes of the budget not given back", budget.used)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	req.ContentLength = 1<<20 + 1
	resp, err = http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("an announced length over the limit: %s, want 413", resp.Status)
		}
	}
}

// procStatus reads a field, in kB, of /proc/PID/status.
func procStatus(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// The heavy version: 300 concurrent unsigned 1 MiB posts took serve from
// 26 MB to 536 MB; the body budget keeps its peak within 100 MiB of where
// it started. Measured on the built binary, so the number is serve's own.
func TestServeUnsignedFloodMemory(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary and posts 300 MiB")
	}
	dir := t.TempDir()
	bin := portabotBinary(t)
	addr := freePort(t)
	base := "http://" + addr
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PORTABOT_") })
	env = append(env, "PORTABOT_SANDBOX=1", "PORTABOT_ADDR="+addr, "PORTABOT_LOG_LEVEL=error")
	p := startServeProcess(t, bin, env, filepath.Join(dir, "portabot.db"), "serve.log")
	p.waitHealthy(t, base)
	pid := p.cmd.Process.Pid
	before := procStatus(t, pid, "VmRSS")

	const posts = 300
	body := bytes.Repeat([]byte(`{"object":"whatsapp_business_account"}`), (1<<20)/38)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}}
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Half carry no signature, refused unread; half a well-formed wrong
	// one, which can only be refused once the body is read, under the
	// budget.
	for i := range posts {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/whatsapp", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if i%2 == 1 {
				req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
			}
			resp, err := client.Do(req)
			code := 0
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	peak := procStatus(t, pid, "VmHWM")
	growth := peak - before
	t.Logf("serve RSS before %d kB, peak during %d concurrent unsigned 1 MiB posts %d kB, growth %.1f MiB; answers %v",
		before, posts, peak, float64(growth)/1024, codes)
	if codes[http.StatusOK] > 0 {
		t.Errorf("%d unsigned posts were accepted", codes[http.StatusOK])
	}
	if growth > 100*1024 {
		t.Errorf("serve's RSS grew by %.1f MiB under unsigned posts, want under 100 MiB", float64(growth)/1024)
	}
}
