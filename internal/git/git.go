// Package git reads a git repository without writing to it: repository
// and revision lookups, ancestry, a revision's tree materialised into a
// temporary directory, and the files changed since a revision.
//
// Every git command gitops-lint runs is in this package, and all of them go
// through one runner (command), which adds the options docs/security.md
// ("External commands") requires of each: `--no-optional-locks -c
// core.fsmonitor=false -C DIR`, with GIT_TERMINAL_PROMPT=0 and LC_ALL=C in
// the environment. A new git command belongs here, read-only, and in that
// table.
package git

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// global are the options of every git command gitops-lint runs: optional
// locks off (so that not even `git status`-like index refreshes write into
// the repository) and no filesystem monitor (core.fsmonitor names a program
// that git would run when it reads the index).
var global = []string{"--no-optional-locks", "-c", "core.fsmonitor=false"}

// command is the one place a git process is made: the global options, -C
// dir, args, and the environment every git command runs with.
func command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", slices.Concat(global, []string{"-C", dir}, args)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	return cmd
}

// run runs a read-only git command in dir and returns its stdout. Without
// git it returns a usage error; a failing command's error carries its
// stderr and wraps its *exec.ExitError.
func run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := command(ctx, dir, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, finding.Usagef("git is not installed (needed to read revisions): %w", err)
		}
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// runCode runs a read-only git command in dir and returns its trimmed
// stdout and exit code (-1 when git did not run).
func runCode(ctx context.Context, dir string, args ...string) (string, int, error) {
	out, err := run(ctx, dir, args...)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(out)), ee.ExitCode(), err
	}
	if err != nil {
		return "", -1, err
	}
	return strings.TrimSpace(string(out)), 0, nil
}

// IsRepository reports whether dir is in a git checkout (and git runs).
func IsRepository(ctx context.Context, dir string) bool {
	_, code, _ := runCode(ctx, dir, "rev-parse", "--git-dir")
	return code == 0
}

// TopLevel returns the top level of the git checkout holding dir, "" when
// there is none.
func TopLevel(ctx context.Context, dir string) string {
	top, _, _ := runCode(ctx, dir, "rev-parse", "--show-toplevel")
	return top
}

// Prefix returns dir's path inside its git repository, '/'-terminated
// ("" at the top level, outside a repository, or without git).
func Prefix(ctx context.Context, dir string) string {
	_, prefix, err := repoInfo(ctx, dir)
	if err != nil {
		return ""
	}
	return prefix
}

// repoInfo returns the top level of the git repository holding dir and
// dir's path inside it ("" or "a/b/").
func repoInfo(ctx context.Context, dir string) (top, prefix string, err error) {
	out, err := run(ctx, dir, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		if finding.IsUsage(err) {
			return "", "", err
		}
		return "", "", finding.Usagef("%s is not inside a git repository (diff compares git revisions)", dir)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	top = lines[0]
	if len(lines) > 1 {
		prefix = lines[1]
	}
	return top, prefix, nil
}

// Tracked reports whether git tracks the file rel ('/'-separated, relative
// to dir). Outside a repository, or without git, nothing is tracked.
func Tracked(ctx context.Context, dir, rel string) bool {
	out, err := run(ctx, dir, "--literal-pathspecs", "ls-files", "-z", "--", rel)
	return err == nil && len(out) > 0
}

// OriginURL is the URL of the remote origin of the checkout at dir ("" if
// it has none, or dir is not a checkout).
func OriginURL(ctx context.Context, dir string) string {
	out, err := run(ctx, dir, "remote", "get-url", "origin")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
