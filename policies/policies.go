// Package policies embeds gitops-lint's built-in Rego library (see
// docs/policies.md). Each policy has a _test.rego file that `make test` runs.
package policies

import "embed"

// FS holds the built-in policies and their tests.
//
//go:embed *.rego
var FS embed.FS
