package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/finding"
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
	cmd.Flags().StringVar(&format, flagFormat, string(report.FormatText), "output format `F`: text or json")
	return cmd
}

func (a *app) rules(format string) error {
	rules := finding.Rules()
	pe, err := policy.Load(context.Background(), policy.Options{})
	if err != nil {
		return fmt.Errorf("load built-in policies: %w", err)
	}
	rules = append(rules, pe.Rules()...)
	switch report.Format(format) {
	case report.FormatText:
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tHELP")
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Help)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write rules: %w", err)
		}
	case report.FormatJSON:
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rules); err != nil {
			return fmt.Errorf("write rules: %w", err)
		}
	default:
		return finding.Usagef("--%s: rules are listed as text or json, not %q", flagFormat, format)
	}
	return nil
}
