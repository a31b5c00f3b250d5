package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/config"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

func newConfigCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with .gitops-lint.yaml"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate [FILE|DIR]",
		Short: "Check a config file: unknown keys and bad values are reported at their line (exit 2)",
		Long: `validate reads FILE, or the .gitops-lint.yaml found from DIR (default ".")
upward, and reports the first problem as FILE:LINE: message, exit 2; a
valid file prints "FILE: valid". The keys are documented in
docs/configuration.md and docs/config.schema.json.`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			path := target
			if dir, err := existingDir(target); err == nil {
				found, err := config.Find(dir)
				if err != nil {
					return finding.Usagef("config validate: %w", err)
				}
				if found == "" {
					return finding.Usagef("config validate: no %s found from %s upward", config.FileName, displayPath(dir))
				}
				path = found
			}
			if _, err := config.Load(path); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: valid\n", filepath.ToSlash(path))
			return nil
		},
	})
	return cmd
}
