// Command gitops-lint lints Flux v2 GitOps repositories. See
// `gitops-lint --help` and CONTRACT.md.
package main

import (
	"os"

	"github.com/gitops-lint/gitops-lint/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
