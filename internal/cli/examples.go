package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples is the Examples section of every command's --help that its
// constructor does not set itself, keyed by the command path without the
// program name ("" is the root, "policy test" a subcommand). One table, so
// that help text can be reviewed in one place; TestEveryCommandHasExample
// fails when a command has none and when a key names no command.
var examples = map[string]string{
	"lint": `  gitops-lint lint                             lint the repository in the current directory
  gitops-lint lint ./fleet --env prod          lint one environment of ./fleet
  gitops-lint lint --changed-since origin/main lint only what the branch can change
  gitops-lint lint --format sarif=gitops-lint.sarif --fail-on warning`,
	"rules": `  gitops-lint rules                            every rule: id, default severity, help
  gitops-lint rules --format markdown          the table of docs/rules.md`,
	"policy": `  gitops-lint policy test                      test the built-in policy library
  gitops-lint policy test ./policies           run the _test.rego files of ./policies`,
	"policy test": `  gitops-lint policy test
  gitops-lint policy test ./policies --limit policy-time=5s`,
	"config": `  gitops-lint config validate                  check the .gitops-lint.yaml found from "." upward
  gitops-lint config validate ci/.gitops-lint.yaml`,
	"config validate": `  gitops-lint config validate
  gitops-lint config validate ci/.gitops-lint.yaml`,
	"version": `  gitops-lint version                          one line for a bug report
  gitops-lint version --format json            the same, for scripts`,
	"help": `  gitops-lint help lint                        the help of the lint command
  gitops-lint help policy test`,
	"completion": `  source <(gitops-lint completion bash)        completion in the current bash
  gitops-lint completion zsh > "${fpath[1]}/_gitops-lint"`,
	"completion bash": `  source <(gitops-lint completion bash)
  gitops-lint completion bash > /etc/bash_completion.d/gitops-lint`,
	"completion zsh":        `  gitops-lint completion zsh > "${fpath[1]}/_gitops-lint"`,
	"completion fish":       `  gitops-lint completion fish > ~/.config/fish/completions/gitops-lint.fish`,
	"completion powershell": `  gitops-lint completion powershell | Out-String | Invoke-Expression`,
}

// applyExamples adds cobra's completion command (bash, zsh, fish,
// powershell) and help command now rather than at Execute, so that they are
// part of the tree, then sets the Example of every command without one from
// the table.
func applyExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	walkCommands(root, func(c *cobra.Command) {
		if c.Example != "" {
			return
		}
		if ex, ok := examples[commandKey(c)]; ok {
			c.Example = ex
		}
	})
}

// commandKey is the key of c in examples: its path without the program name.
func commandKey(c *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), c.Root().Name()), " ")
}

func walkCommands(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walkCommands(sub, f)
	}
}
