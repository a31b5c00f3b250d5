package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRulesDocUpToDate fails when docs/rules.md differs from the rule
// metadata; -update rewrites it.
func TestRulesDocUpToDate(t *testing.T) {
	rules, err := allRules()
	if err != nil {
		t.Fatal(err)
	}
	want := rulesMarkdown(rules)
	p := filepath.Join("..", "..", "docs", "rules.md")
	if *update {
		if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/rules.md is stale: run `go test ./internal/cli -run TestRulesDocUpToDate -update` (or `make golden`) (or `gitops-lint rules --format markdown > docs/rules.md`)")
	}
}
