package main

// The hostile suite: the real binary, run the way CI runs it on an
// untrusted pull request, against one repository per attack. Each test
// checks the exit code, that the finding or error names the file, that the
// run stayed within wall-time and peak-memory bounds measured here (from
// the child's rusage: bounds, not benchmarks), that nothing was written
// outside the run's temporary directories, and that nothing from the
// environment reached the output. docs/security.md lists the vectors.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// bin is the gitops-lint binary built for this test run.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gitops-lint-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "gitops-lint")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build gitops-lint: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// marker is set in the environment of every run; it must never be printed.
const marker = "hostile-environment-marker-4f1d"

// result is one run of the binary.
type result struct {
	code           int
	signal         syscall.Signal
	stdout, stderr string
	wall           time.Duration
	maxRSS         int64 // bytes
}

func (r result) output() string { return r.stdout + r.stderr }

// limits are the bounds every hostile run must stay within.
type limits struct {
	wall time.Duration
	rss  int64
}

var defaultBounds = limits{wall: 60 * time.Second, rss: 1 << 30}

// run runs the binary in dir with args and checks the invariants every
// hostile run keeps: bounded time and memory, no write to dir or next to
// it, no write to the temporary directories it was given that outlives it,
// no environment content in the output.
func run(t *testing.T, dir string, b limits, env []string, args ...string) result {
	t.Helper()
	parent := filepath.Dir(dir)
	before := testutil.Snapshot(t, parent)
	tmp, home := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), b.wall+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + tmp,
		"GITOPS_LINT_TEST_SECRET=" + marker, "NO_COLOR=1",
	}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), wall: time.Since(start)}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run %v: %v", args, err)
		}
	}
	st := cmd.ProcessState
	ws := st.Sys().(syscall.WaitStatus)
	r.code = ws.ExitStatus()
	if ws.Signaled() {
		r.signal = ws.Signal()
	}
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	t.Logf("%v: exit %d, %.2fs, peak %d MiB", args, r.code, r.wall.Seconds(), r.maxRSS>>20)
	if r.wall > b.wall {
		t.Errorf("run took %v, bound %v", r.wall, b.wall)
	}
	if r.maxRSS > b.rss {
		t.Errorf("run peaked at %d MiB, bound %d MiB", r.maxRSS>>20, b.rss>>20)
	}
	if strings.Contains(r.output(), marker) {
		t.Errorf("the output contains the environment:\n%s", r.output())
	}
	if after := testutil.Snapshot(t, parent); after != before {
		t.Errorf("the run wrote next to or into the repository")
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the run left %d entries in TMPDIR", len(left))
	}
	return r
}

// repo writes a one-environment Flux repository plus extra files (path →
// content) under a new directory "repo" in a temporary directory.
func repo(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	files := map[string]string{
		"clusters/dev/flux-system/gotk-sync.yaml": gotkSync,
		"clusters/dev/apps.yaml":                  fmt.Sprintf(testutil.FluxKustomization, "apps", "./apps"),
		"apps/kustomization.yaml":                 "resources:\n- cm.yaml\n",
		"apps/cm.yaml":                            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  key: value\n",
	}
	for p, c := range extra {
		files[p] = c
	}
	return testutil.WriteTree(t, dir, files)
}

const gotkSync = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  ref:
    branch: main
  url: ssh://git@example.com/platform
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  path: ./clusters/dev
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
`

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
}

func wantExit(t *testing.T, r result, code int, substr ...string) {
	t.Helper()
	if r.code != code || r.signal != 0 {
		t.Errorf("exit %d (signal %v), want %d\n%s", r.code, r.signal, code, r.output())
	}
	for _, s := range substr {
		if !strings.Contains(r.output(), s) {
			t.Errorf("output lacks %q:\n%s", s, r.output())
		}
	}
}

func TestClean(t *testing.T) {
	dir := repo(t, nil)
	r := run(t, dir, defaultBounds, nil, ".")
	wantExit(t, r, 0, "no problems in 1 environment")
}

// Report destinations from the config file: before, each of these was
// created or overwritten (the hook through the shipped pre-commit hooks).
func TestHostileConfigDestinations(t *testing.T) {
	for _, dest := range []string{"json=../PWNED.json", "markdown=.git/hooks/pre-commit", "junit=/tmp/gitops-lint-newdir/x.xml", "json=newdir/x.json"} {
		t.Run(dest, func(t *testing.T) {
			dir := repo(t, map[string]string{".gitops-lint.yaml": "format: [text, " + dest + "]\n", ".git/hooks/README": "hooks\n"})
			r := run(t, dir, defaultBounds, nil, ".")
			wantExit(t, r, 2, ".gitops-lint.yaml:1: format: ")
			if _, err := os.Stat("/tmp/gitops-lint-newdir"); err == nil {
				t.Error("/tmp/gitops-lint-newdir was created")
			}
		})
	}
	// The same destinations from the command line are the CI owner's.
	dir := repo(t, nil)
	out := filepath.Join(t.TempDir(), "new", "r.json")
	r := run(t, dir, defaultBounds, nil, ".", "--format", "json="+out)
	wantExit(t, r, 0)
	if _, err := os.Stat(out); err != nil {
		t.Errorf("--format json=%s: %v", out, err)
	}
}

// A config file linked to the environment, a device or a file outside the
// repository: before, the environment's first variable was echoed in the
// error, /dev/zero took 42 s and ~5 GB.
func TestHostileConfigLinks(t *testing.T) {
	for name, target := range map[string]string{"environ": "/proc/self/environ", "zero": "/dev/zero", "outside": "../outside.yaml"} {
		t.Run(name, func(t *testing.T) {
			dir := repo(t, nil)
			if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "outside.yaml"), []byte(marker+": 1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			symlink(t, target, filepath.Join(dir, ".gitops-lint.yaml"))
			r := run(t, dir, limits{wall: 10 * time.Second, rss: 256 << 20}, nil, ".")
			wantExit(t, r, 2, ".gitops-lint.yaml: read config: ")
		})
	}
}

// Directories the config names outside the repository: before, `sources`
// rendered any directory and `crdDirs: [/]` walked the whole filesystem.
func TestHostileConfigPaths(t *testing.T) {
	for _, cfg := range []string{"crdDirs: [/]", "rbacDirs: [/etc]", "sources: {flux-system/flux-system: /etc}", "platform: /"} {
		t.Run(cfg, func(t *testing.T) {
			dir := repo(t, map[string]string{".gitops-lint.yaml": cfg + "\n"})
			r := run(t, dir, limits{wall: 10 * time.Second, rss: 256 << 20}, nil, ".")
			wantExit(t, r, 2, ".gitops-lint.yaml:1: ", "is outside the repository")
		})
	}
}

// A CRD directory holding links to /dev/zero and to the environment.
func TestHostileCRDDirLinks(t *testing.T) {
	for name, target := range map[string]string{"zero": "/dev/zero", "environ": "/proc/self/environ"} {
		t.Run(name, func(t *testing.T) {
			dir := repo(t, map[string]string{"crds/real.yaml": "# none\n"})
			symlink(t, target, filepath.Join(dir, "crds", "z.yaml"))
			r := run(t, dir, limits{wall: 10 * time.Second, rss: 256 << 20}, nil, ".", "--crd-dir", "crds")
			wantExit(t, r, 2, "z.yaml leaves its root directory")
		})
	}
}

// The default text report inside GitHub Actions and Azure Pipelines (text
// plus annotations on stdout): a newline in a file name or an object name
// must not start a workflow command of its own.
func TestHostileWorkflowCommands(t *testing.T) {
	evil := "x\n::error file=owned::pwned\n##vso[task.setvariable variable=owned]1\n\x1b[2J"
	dir := repo(t, map[string]string{
		"apps/kustomization.yaml": "resources:\n- cm.yaml\n- bad.yaml\n",
		"apps/bad.yaml":           fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %q\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n", evil),
	})
	name := filepath.Join(dir, "apps", "evil\n::error::file-name\n.yaml")
	if err := os.WriteFile(name, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [broken\n"), 0o644); err != nil {
		t.Skip(err)
	}
	for _, env := range [][]string{{"GITHUB_ACTIONS=true"}, {"TF_BUILD=True"}} {
		r := run(t, dir, defaultBounds, env, ".")
		if r.code != 1 {
			t.Errorf("%v: exit %d, want 1\n%s", env, r.code, r.output())
		}
		for _, line := range strings.Split(r.stdout, "\n") {
			l := strings.TrimLeft(line, " \t")
			for _, injected := range []string{"::error file=owned", "::error::file-name", "##vso[task.setvariable"} {
				if strings.HasPrefix(l, injected) {
					t.Errorf("%v: repository data starts a workflow command: %q", env, line)
				}
			}
			if strings.Contains(line, "\x1b") || strings.Contains(line, "\r") {
				t.Errorf("%v: control bytes reach the log: %q", env, line)
			}
		}
	}
}

// No network: the whole platform fixture, with its tenants, lints under
// `unshare -n` (a network namespace with no interface at all) exactly as it
// does with the machine's network.
func TestOffline(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare is not installed")
	}
	if err := exec.Command(unshare, "-n", "true").Run(); err != nil {
		t.Skipf("unshare -n is not permitted here: %v", err)
	}
	ws := t.TempDir()
	for _, name := range []string{"platform", "team-a", "team-b"} {
		if err := os.CopyFS(filepath.Join(ws, name), os.DirFS(testutil.FixturePath(t, name))); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(ws, "platform")
	args := []string{".", "--trust-dir", ws, "--format", "json"}
	plain := run(t, dir, defaultBounds, nil, args...)
	wrapped := exec.Command(unshare, append([]string{"-n", bin}, args...)...)
	wrapped.Dir = dir
	wrapped.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	out, err := wrapped.Output()
	if err != nil && wrapped.ProcessState.ExitCode() != plain.code {
		t.Fatalf("under unshare -n: %v (exit %d, want %d)", err, wrapped.ProcessState.ExitCode(), plain.code)
	}
	if normalize(string(out)) != normalize(plain.stdout) {
		t.Errorf("the report differs without a network:\n%s\nwant\n%s", out, plain.stdout)
	}
}

// normalize drops the run's duration from a JSON report.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, `"durationMs"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A crash must not exit 2 (the contract's usage error): the crashtest build
// of this main runs out of memory, or panics in a goroutine, right after
// main's crash settings; both abort with SIGABRT and write no core file.
func TestCrashExitCode(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -v and SIGABRT are checked on Linux")
	}
	crash := filepath.Join(t.TempDir(), "gitops-lint-crashtest")
	if out, err := exec.Command("go", "build", "-tags", "crashtest", "-o", crash, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, mode := range []string{"oom", "panic"} {
		t.Run(mode, func(t *testing.T) {
			wd := t.TempDir()
			// 3 GB of address space: the runtime starts, the allocation loop
			// does not get far (and the machine is never at risk).
			cmd := exec.Command("bash", "-c", `ulimit -c unlimited 2>/dev/null; ulimit -v 3000000; exec "$0" version`, crash)
			cmd.Dir = wd
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GITOPS_LINT_CRASHTEST=" + mode}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil {
				t.Fatal("the crashtest build did not crash")
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != syscall.SIGABRT {
				t.Errorf("exit status %d (signaled %v), want SIGABRT; stderr:\n%.2000s", ws.ExitStatus(), ws.Signaled(), stderr.String())
			}
			want := map[string]string{"oom": "fatal error: out of memory", "panic": "panic: crashtest"}[mode]
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%.2000s", want, stderr.String())
			}
			if left, _ := os.ReadDir(wd); len(left) > 0 {
				t.Errorf("the crash wrote %d files (a core dump?) into the working directory", len(left))
			}
		})
	}
}
