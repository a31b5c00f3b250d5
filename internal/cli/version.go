package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time for release builds:
//
//	go build -ldflags "-X github.com/gitops-lint/gitops-lint/internal/cli.version=v1.2.3"
//
// It is not flag state: nothing writes it at run time.
var version string

// Version is the version of this build: the link-time version, else the
// module version `go install …@vX` recorded, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newVersionCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of gitops-lint",
		Args:  maxArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(a.stdout, "%s %s\n", toolName, Version())
			if err != nil {
				return fmt.Errorf("write version: %w", err)
			}
			return nil
		},
	}
}
