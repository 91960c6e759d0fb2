package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"portabot/bot"
)

// panicCollector exposes the panics serve's background goroutines
// recovered from (bot.PanicCounts), by goroutine. The goroutines are
// known in advance, so each series is present at 0 from the start, and an
// alert on its increase fires on the first panic.
type panicCollector struct{ desc *prometheus.Desc }

// guardedGoroutines are the names bot.GuardLoop and bot.Recovered are given
// in serve.
var guardedGoroutines = []string{"runner worker", "reply dispatcher", "reply sender", "notice dispatcher",
	"notice sender", "outbox pruner", "replica listener", "slack request", "slack action"}

func newPanicCollector() *panicCollector {
	return &panicCollector{desc: prometheus.NewDesc("portabot_goroutine_panics_total",
		"Panics recovered in serve's background goroutines, by goroutine; each was logged with its stack and the goroutine restarted.",
		[]string{"goroutine"}, nil)}
}

func (c *panicCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *panicCollector) Collect(ch chan<- prometheus.Metric) {
	counts := bot.PanicCounts()
	if counts == nil {
		counts = map[string]uint64{}
	}
	for _, name := range guardedGoroutines {
		if _, ok := counts[name]; !ok {
			counts[name] = 0
		}
	}
	for name, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), name)
	}
}
