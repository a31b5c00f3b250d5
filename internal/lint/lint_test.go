package lint

import (
	"context"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

func TestRunCheckers(t *testing.T) {
	res := &render.Result{}
	mk := func(rule string) Checker {
		return CheckerFunc(func(context.Context, *render.Result) []finding.Finding {
			return []finding.Finding{{Rule: rule, Severity: finding.Error}}
		})
	}
	got, err := RunCheckers(context.Background(), []Checker{mk("b"), mk("a")}, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Rule != "b" || got[1].Rule != "a" {
		t.Errorf("RunCheckers = %+v, want the findings of b then a", got)
	}

	boom := CheckerFunc(func(context.Context, *render.Result) []finding.Finding { panic("boom") })
	_, err = RunCheckers(context.Background(), []Checker{mk("a"), boom}, res)
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("a panicking checker: error = %v, want one naming the panic", err)
	}
	if finding.IsUsage(err) {
		t.Error("a panicking checker must be an internal error, not a usage error")
	}
}
