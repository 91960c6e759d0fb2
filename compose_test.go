package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// deploy/compose.yaml cannot be run here (no Docker Compose), so what can
// go wrong in it without Docker is checked: it parses, runs three portabot
// replicas on the PostgreSQL service behind the balancer, and sets only
// variables serve reads, spelled as serve spells them.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   any               `yaml:"depends_on"`
		} `yaml:"services"`
		Configs map[string]struct {
			Content string `yaml:"content"`
		} `yaml:"configs"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("deploy/compose.yaml is not valid YAML: %v", err)
	}

	// The variables serve reads: loadServeConfig asks for each of them.
	read := map[string]bool{}
	_, _ = loadServeConfig(func(k string) string { read[k] = true; return "" })

	var replicas []string
	for name, svc := range doc.Services {
		if svc.Build == nil {
			continue
		}
		replicas = append(replicas, name)
		db := svc.Environment["PORTABOT_DB"]
		if !isPostgres(db) || !strings.Contains(db, "@postgres:5432/") {
			t.Errorf("%s: PORTABOT_DB = %q, want a postgres:// URL of the postgres service", name, db)
		}
		if svc.Environment["PORTABOT_DB_KEY"] == "" {
			t.Errorf("%s: no PORTABOT_DB_KEY; every replica needs the same one", name)
		}
		for k := range svc.Environment {
			if !read[k] {
				t.Errorf("%s sets %s, which serve does not read", name, k)
			}
		}
	}
	slices.Sort(replicas)
	if len(replicas) != 3 {
		t.Errorf("replicas built from the repository: %v, want three", replicas)
	}
	if _, ok := doc.Services["postgres"]; !ok {
		t.Error("no postgres service")
	}
	nginx := doc.Configs["nginx"].Content
	upstreams := regexp.MustCompile(`server (\S+):8080`).FindAllStringSubmatch(nginx, -1)
	var backends []string
	for _, m := range upstreams {
		backends = append(backends, m[1])
	}
	slices.Sort(backends)
	if !slices.Equal(backends, replicas) {
		t.Errorf("the balancer sends to %v, want every replica %v", backends, replicas)
	}
	if !strings.Contains(nginx, "non_idempotent") {
		t.Error("the balancer does not retry a webhook POST on another replica (proxy_next_upstream ... non_idempotent)")
	}
}
