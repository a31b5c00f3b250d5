// Package cli is the gitops-lint command line: cobra commands built by
// constructors (no package-level flag state, so tests can run many in one
// process), the flag > environment > config file > default resolution, the
// lint pipeline, and the one place errors become exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gitops-lint/gitops-lint/internal/config"
	"github.com/gitops-lint/gitops-lint/internal/diskcache"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// toolName is the program name in messages and reports.
const toolName = "gitops-lint"

// issuesURL is where internal errors should be reported.
const issuesURL = "https://github.com/gitops-lint/gitops-lint/issues"

// Main runs gitops-lint with args (without the program name) and returns the
// process exit code of the contract: 0 nothing at or above --fail-on, 1
// findings at or above it, 2 usage or config error, 3 internal failure.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			code = reportInternal(stderr, fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
		}
	}()
	a := &app{
		stdin:     stdin,
		stdout:    stdout,
		stderr:    stderr,
		env:       environ(os.Environ()),
		stdoutTTY: isTerminal(stdout),
		stderrTTY: isTerminal(stderr),
		checkers:  newCheckers,
		renderFn:  render.Render,
	}
	return a.run(context.Background(), args)
}

// app is one invocation: its streams, its environment and what it decided.
// Everything a test may want to fix (terminal detection, environment,
// checkers) is a field, so runs are deterministic.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// env holds the process environment (GITOPS_LINT_*, NO_COLOR).
	env                  map[string]string
	stdoutTTY, stderrTTY bool
	// checkers builds the checkers of a lint run.
	checkers func(Options) ([]Checker, error)
	// renderFn is render.Render (replaced in tests of the pipeline).
	renderFn func(context.Context, render.Options) (*render.Result, error)
	// exitCode is set by a command that ran to completion.
	exitCode int
	// caches are the persistent caches the command opened, trimmed to
	// their bound once it is done.
	caches []*diskcache.Cache
}

func (a *app) run(ctx context.Context, args []string) int {
	root := newRootCommand(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	for _, c := range a.caches {
		_, _ = c.Trim() // a cache that cannot be trimmed is not the run's failure
	}
	if err != nil {
		return a.fail(err)
	}
	return a.exitCode
}

// fail is the one place an error becomes an exit code and a message.
func (a *app) fail(err error) int {
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		// file:line first, so that editors and CI annotations can jump to it.
		fmt.Fprintln(a.stderr, err)
		return finding.ExitUsage
	case isUsage(err):
		fmt.Fprintf(a.stderr, "%s: %v\n", toolName, err)
		return finding.ExitUsage
	}
	return reportInternal(a.stderr, err)
}

// isUsage reports whether err is the user's to fix (exit 2): a
// finding.UsageError (cli, config) or a render.UsageError.
func isUsage(err error) bool {
	var ru *render.UsageError
	return finding.IsUsage(err) || errors.As(err, &ru)
}

func reportInternal(w io.Writer, err error) int {
	fmt.Fprintf(w, "%s: internal error: %v\nThis is a bug in %s %s; please report it at %s with the command you ran.\n",
		toolName, err, toolName, Version(), issuesURL)
	return finding.ExitInternal
}

// colorStdout decides ANSI colour for reports on stdout.
func (a *app) colorStdout() bool { return a.stdoutTTY && a.env["NO_COLOR"] == "" }

// colorStderr decides ANSI colour for findings printed on stderr.
func (a *app) colorStderr() bool { return a.stderrTTY && a.env["NO_COLOR"] == "" }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func environ(kv []string) map[string]string {
	m := make(map[string]string, len(kv))
	for _, e := range kv {
		if k, v, ok := strings.Cut(e, "="); ok {
			m[k] = v
		}
	}
	return m
}

func newRootCommand(a *app) *cobra.Command {
	fv := &flagValues{}
	root := &cobra.Command{
		Use:   toolName + " [PATH]",
		Short: "Lint a Flux v2 GitOps repository",
		Long: `gitops-lint renders every environment of a Flux v2 repository the way
kustomize-controller would and reports what would fail on a cluster, with the
file and line to fix. Without a command it lints PATH (default "."), exactly
like "gitops-lint lint PATH".

` + settingsHelp,
		Example: `  gitops-lint                                  lint the repository in the current directory
  gitops-lint --env dev --fail-on warning      lint one environment, fail on warnings too
  gitops-lint --format text --format json=gitops-lint.json
                                               text on stdout and a JSON report file`,
		Args:          maxArgs(1),
		Version:       Version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.lint(cmd, fv, args)
		},
	}
	addLintFlags(root.Flags(), fv)
	root.SetVersionTemplate(toolName + " {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	// cobra's completion command (bash, zsh, fish, powershell) is on;
	// applyExamples adds it to the tree.
	root.SuggestionsMinimumDistance = 2
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.AddCommand(
		newLintCommand(a),
		newRenderCommand(a),
		newDiffCommand(a),
		newRulesCommand(a),
		newCanICommand(a),
		newPolicyCommand(a),
		newConfigCommand(a),
		newVersionCommand(a),
		newChartsCommand(a),
	)
	applyExamples(root)
	return root
}

// settingsHelp explains where lint settings come from. The list of what
// the config file can set is generated from the settings table.
var settingsHelp = wrap(`Every flag below can also be set with an environment variable named after it, GITOPS_LINT_<FLAG> (GITOPS_LINT_FAIL_ON=warning; lists are comma-separated: GITOPS_LINT_FORMAT=text,json=out.json). These can also be set in .gitops-lint.yaml, found from PATH upward to the repository root: `+configurable()+`. A flag wins over the variable, which wins over the file. --limit is never read from the file (docs/security.md).`, 78) + `

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
2 usage or config error, 3 internal error (a bug).`

// wrap breaks s into lines of at most width columns at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(w) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// flagError marks cobra's flag parsing errors as usage errors.
func flagError(cmd *cobra.Command, err error) error {
	return finding.Usagef("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())
}

// maxArgs is cobra.MaximumNArgs returning a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		if n == 0 {
			return finding.Usagef("%s takes no arguments, got %q\nRun '%s --help' for usage.", cmd.CommandPath(), args, cmd.CommandPath())
		}
		return finding.Usagef("%s takes at most %d argument, got %q\nRun '%s --help' for usage.", cmd.CommandPath(), n, args, cmd.CommandPath())
	}
}
