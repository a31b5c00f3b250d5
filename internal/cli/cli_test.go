package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gitops-lint/gitops-lint/internal/quiet"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// update rewrites the golden files of this package: the `cmp` files inside
// the scripts and docs/rules.md (`make golden` runs every package's -update).
var update = flag.Bool("update", false, "rewrite the golden files (script cmp files, docs/rules.md)")

// TestMain makes the test binary double as the gitops-lint command that
// the scripts run (testscript re-executes it under that name).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gitops-lint": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, quiet.KustomizeNotices())) },
	})
}

// TestScripts runs testdata/script/*.txtar. Besides the standard commands,
// scripts have `exitcode N command args...`, which runs the command and
// checks its exact exit code (the contract has four), keeping its stdout
// and stderr for the next `stdout`/`stderr` checks.
// -update rewrites `cmp` golden files inside the scripts.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			repos, err := filepath.Abs(filepath.Join("..", "..", "testdata", "repos"))
			env.Setenv("FIXTURES", repos)
			// The platform fixture's config maps its team sources to the
			// sibling checkouts, outside its repository: the scripts trust
			// their work directory as a CI owner would trust its workspace
			// (hostile.txtar unsets it).
			env.Setenv("GITOPS_LINT_TRUST_DIR", env.WorkDir)
			if shared, err := filepath.Abs(filepath.Join("..", "..", "..", "shared")); err == nil {
				env.Setenv("SHARED", shared)
			}
			return err
		},
		// [shared]: ../shared (the corpus) is present, as in the development
		// workspace and CI; a user's fresh clone skips those scripts.
		Condition: func(cond string) (bool, error) {
			if cond == "shared" {
				_, err := os.Stat(filepath.Join("..", "..", "..", "shared", "corpus"))
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitCode,
			"fixture":    cmdFixture,
			"gitfixture": cmdGitFixture,
			"snapshot":   cmdSnapshot,
			"cmptext":    cmdCmpText,
		},
	})
}

func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: exitcode N command [args...] (no '!')")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// cmdFixture copies fixture repositories (testdata/repos/NAME) into the
// script's work directory: `fixture platform team-a`.
func cmdFixture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: fixture NAME...")
	}
	for _, name := range args {
		src := filepath.Join(ts.Getenv("FIXTURES"), name)
		ts.Check(os.CopyFS(ts.MkAbs(name), os.DirFS(src)))
	}
}

// cmdGitFixture turns a fixture into a git repository in the work
// directory: `gitfixture NAME [branch...] [remote=URL]`, committed once with
// the branches created at that commit and main checked out.
func cmdGitFixture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: gitfixture NAME [branch...] [remote=URL]")
	}
	t := scriptT{ts}
	opts := testutil.GitOptions{}
	for _, a := range args[1:] {
		if url, ok := strings.CutPrefix(a, "remote="); ok {
			opts.Remote = url
		} else {
			opts.Branches = append(opts.Branches, a)
		}
	}
	dir := testutil.GitRepo(t, filepath.Join(ts.Getenv("FIXTURES"), args[0]), opts)
	ts.Check(os.Rename(dir, ts.MkAbs(args[0])))
}

// cmdSnapshot records (`snapshot save DIR`) or compares (`snapshot check
// DIR`) a fingerprint of a repository: working tree, index, refs and every
// file under .git. It proves commands leave the linted repo untouched.
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: snapshot save|check DIR")
	}
	t := scriptT{ts}
	dir := ts.MkAbs(args[1])
	key := "snapshot:" + dir
	switch args[0] {
	case "save":
		ts.Setenv(key, testutil.Snapshot(t, dir))
	case "check":
		if got := testutil.Snapshot(t, dir); got != ts.Getenv(key) {
			ts.Fatalf("%s changed:\nbefore:\n%s\nafter:\n%s", args[1], ts.Getenv(key), got)
		}
	default:
		ts.Fatalf("usage: snapshot save|check DIR")
	}
}

// scriptT adapts a TestScript to the testing.TB subset testutil uses.
type scriptT struct{ ts *testscript.TestScript }

func (s scriptT) Helper()                           {}
func (s scriptT) Errorf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptT) Fatalf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptT) Skip(args ...any) {
	s.ts.Fatalf("cannot run: %s (guard the script with [!exec:git] skip)", fmtArgs(args))
}
func (s scriptT) TempDir() string {
	d, err := os.MkdirTemp(s.ts.Getenv("WORK"), "tmp")
	s.ts.Check(err)
	return d
}

func fmtArgs(args []any) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strings.TrimSpace(fmt.Sprint(a)))
	}
	return b.String()
}

var durationRe = regexp.MustCompile(`\(\d+\.\d+s\)`)

// cmdCmpText compares stdout with a file like cmp, after replacing the run
// time of the text report's summary line by "(TIME)" in both:
// `cmptext stdout want.txt`.
func cmdCmpText(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || args[0] != "stdout" {
		ts.Fatalf("usage: cmptext stdout FILE")
	}
	got := durationRe.ReplaceAllString(ts.ReadFile("stdout"), "(TIME)")
	want := durationRe.ReplaceAllString(ts.ReadFile(args[1]), "(TIME)")
	if got != want {
		if *update {
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(got), 0o644))
			return
		}
		ts.Fatalf("stdout differs from %s:\n--- got\n%s\n--- want\n%s", args[1], got, want)
	}
}
