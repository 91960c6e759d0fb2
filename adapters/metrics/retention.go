package metrics

import "github.com/prometheus/client_golang/prometheus"

// RetentionKinds are what the retention pruner removes: cases,
// conversations and notices past PORTABOT_RETENTION ("expired"),
// processed-message markers past 8 days ("processed_markers"), and free
// pages of the bbolt files written over with zeros ("pages_scrubbed").
var RetentionKinds = []string{"expired", "processed_markers", "pages_scrubbed"}

func retentionCounter() *prometheus.CounterVec {
	c := counterVec("portabot_retention_removed_total",
		"What the retention pruner removed, by kind: expired cases, conversations and notices; processed-message markers; free pages scrubbed.", "kind")
	for _, k := range RetentionKinds {
		c.WithLabelValues(k)
	}
	return c
}

// Retention counts n things of kind (one of RetentionKinds) the retention
// pruner removed.
func (m *Metrics) Retention(kind string, n int) {
	if n > 0 {
		m.retention.WithLabelValues(kind).Add(float64(n))
	}
}
