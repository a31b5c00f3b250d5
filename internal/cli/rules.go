package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/lint"
	"github.com/gitops-lint/gitops-lint/internal/policy"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

func newRulesCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List every rule: id, default severity, help",
		Args:  maxArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.rules(format)
		},
	}
	cmd.Flags().StringVar(&format, flagFormat, string(report.FormatText), "output format `F`: "+report.Rules.Choices())
	return cmd
}

// allRules is every rule of this build: the Go rules, then the built-in
// policy library's.
func allRules() ([]finding.Rule, error) {
	rules := lint.Rules()
	pe, err := policy.Load(context.Background(), policy.Options{})
	if err != nil {
		return nil, fmt.Errorf("load built-in policies: %w", err)
	}
	return append(rules, pe.Rules()...), nil
}

// rulesMarkdown is docs/rules.md: what `rules --format markdown` prints
// (TestRulesDocUpToDate compares them).
func rulesMarkdown(rules []finding.Rule) string {
	var b strings.Builder
	if p, err := report.Rules.New(string(report.FormatMarkdown)); err == nil {
		_ = p.Write(&b, rules) // a strings.Builder does not fail
	}
	return b.String()
}

func (a *app) rules(format string) error {
	p, err := report.Rules.New(format)
	if err != nil {
		return finding.Usagef("--%s: rules are listed as %s, not %q", flagFormat, report.Rules.Choices(), format)
	}
	rules, err := allRules()
	if err != nil {
		return err
	}
	if err := p.Write(a.stdout, rules); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}
