package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a server the tool started: serve or a reference server.
type process struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
	// Startup is the time from exec until /readyz first answered 200.
	Startup time.Duration

	mu      sync.Mutex
	peak    memPeak
	stop    chan struct{}
	sampled sync.WaitGroup
}

// Polling intervals: readiness is polled finely because start-up is one of
// the measured numbers; memory coarsely because VmHWM keeps the peak
// anyway, and sampling VmRSS only covers a kernel without it.
const (
	readyPoll   = 5 * time.Millisecond
	rssPoll     = 100 * time.Millisecond
	readyWithin = 30 * time.Second
)

// startProcess runs exe with args and env (nothing inherited but what env
// holds), sends its output to logPath, and waits until baseURL/readyz
// answers 200.
func startProcess(ctx context.Context, exe string, args, env []string, dir, logPath, baseURL string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	// Not CommandContext: the tool stops the child itself, gently first.
	cmd := exec.Command(exe, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &process{cmd: cmd, logPath: logPath, exited: make(chan struct{}), stop: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	p.sampled.Go(p.sampleRSS)

	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.NewTimer(readyWithin)
	defer deadline.Stop()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if resp, err := hc.Get(baseURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Startup = time.Since(start)
				return p, nil
			}
		}
		select {
		case <-tick.C:
		case <-p.exited:
			return nil, fmt.Errorf("%s exited before it was ready (%v); its log ends:\n%s", strings.Join(args, " "), p.waitErr, p.logTail())
		case <-deadline.C:
			p.Stop()
			return nil, fmt.Errorf("%s not ready after %v; its log ends:\n%s", strings.Join(args, " "), readyWithin, p.logTail())
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		}
	}
}

func (p *process) sampleRSS() {
	t := time.NewTicker(rssPoll)
	defer t.Stop()
	for {
		p.readRSS()
		select {
		case <-t.C:
		case <-p.stop:
			return
		case <-p.exited:
			return
		}
	}
}

// memPeak holds the largest memory figures seen, in bytes.
type memPeak struct {
	// RSS is the resident set: the kernel's own peak (VmHWM), or the
	// largest VmRSS sampled if that is larger.
	RSS int64
	// Anon and File split the resident set: the Go heap and stacks, and
	// file pages, which for a bbolt process are mostly its memory-mapped
	// database. Their peaks need not coincide.
	Anon, File int64
}

// readRSS reads the process's memory from /proc and keeps the peaks.
func (p *process) readRSS() {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM", "VmRSS":
			p.peak.RSS = max(p.peak.RSS, kb*1024)
		case "RssAnon":
			p.peak.Anon = max(p.peak.Anon, kb*1024)
		case "RssFile":
			p.peak.File = max(p.peak.File, kb*1024)
		}
	}
}

// Peak returns the memory peaks seen.
func (p *process) Peak() memPeak {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// Alive reports whether the process is still running.
func (p *process) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop reads the memory peak a last time, then asks the process to stop
// (SIGTERM) and kills it if it has not within five seconds. It is safe to
// call more than once.
func (p *process) Stop() {
	select {
	case <-p.stop:
		<-p.exited
		return
	default:
	}
	if p.Alive() {
		p.readRSS()
	}
	close(p.stop)
	p.sampled.Wait()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Err returns how the process ended, if it has: nil for a clean stop.
func (p *process) Err() error {
	select {
	case <-p.exited:
	default:
		return nil
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
		return nil
	}
	return p.waitErr
}

// logTail returns the end of the process's output, for error messages.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}
