package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/policy"
)

func newPolicyCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with Rego policies",
	}
	var limits []string
	test := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the _test.rego files of DIR (default: the built-in library), like opa test",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				abs, err := existingDir(args[0])
				if err != nil {
					return finding.Usagef("policy test: %w", err)
				}
				dir = abs
			}
			l, err := limitsOf(cmd, a.env, limits)
			if err != nil {
				return err
			}
			results, err := policy.RunTestsWith(cmd.Context(), dir, policy.Options{Limits: l, Budget: confine.NewBudget(l.Or().TotalBytes, confine.LimitTotalBytes)})
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				switch {
				case r.Err != nil:
					failed++
					fmt.Fprintf(a.stdout, "ERROR %s: %v\n", r.Name, r.Err)
				case !r.Passed:
					failed++
					fmt.Fprintf(a.stdout, "FAIL  %s\n", r.Name)
				}
			}
			fmt.Fprintf(a.stdout, "%d passed, %d failed\n", len(results)-failed, failed)
			if failed > 0 || len(results) == 0 {
				a.exitCode = finding.ExitFindings
			}
			return nil
		},
	}
	test.Flags().StringArrayVar(&limits, flagLimit, nil, "bound the run, `KEY=VALUE` (policy-time bounds each test; file-bytes and total-bytes the policy files read); repeatable")
	cmd.AddCommand(test)
	return cmd
}
