package promote

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// platform builds the platform fixture as a git repo: main, dev and test at
// one commit (clusters dev/test/prod follow dev/test/main).
func platform(t *testing.T) string {
	return testutil.GitRepo(t, testutil.FixturePath(t, "platform"), testutil.GitOptions{Branches: []string{"dev", "test"}})
}

// commitOn adds an empty commit to branch, leaving main checked out.
func commitOn(t *testing.T, dir, branch, subject string) {
	testutil.Git(t, dir, "checkout", "-q", branch)
	testutil.Git(t, dir, "commit", "-q", "--allow-empty", "-m", subject)
	testutil.Git(t, dir, "checkout", "-q", "main")
}

func check(t *testing.T, dir string, env map[string]string) []finding.Finding {
	t.Helper()
	res, err := render.Render(context.Background(), render.Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	var out []finding.Finding
	for _, f := range Check(context.Background(), Options{Root: dir, Env: env}, res) {
		if f.Rule != RuleChain.ID {
			out = append(out, f)
		}
	}
	return out
}

func summary(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s:%d %s", f.Rule, f.Severity, f.File, f.Line, f.Message))
	}
	return out
}

func want(t *testing.T, fs []finding.Finding, expect ...string) {
	t.Helper()
	got := summary(fs)
	if len(got) != len(expect) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(expect), strings.Join(got, "\n"))
	}
	for i, e := range expect {
		if !strings.Contains(got[i], e) {
			t.Errorf("finding %d:\n got %s\nwant containing %s", i, got[i], e)
		}
	}
}

// one checks that fs is exactly one finding containing every substring.
func one(t *testing.T, fs []finding.Finding, subs ...string) {
	t.Helper()
	got := summary(fs)
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, sub := range subs {
		if !strings.Contains(got[0], sub) {
			t.Errorf("finding\n %s\nlacks %s", got[0], sub)
		}
	}
}

func TestCleanChain(t *testing.T) {
	dir := platform(t)
	want(t, check(t, dir, nil))
	// dev ahead of test is the normal state before a promotion
	commitOn(t, dir, "dev", "feature")
	want(t, check(t, dir, nil))
}

func TestChainDerivedFromEnvironments(t *testing.T) {
	res, err := render.Render(context.Background(), render.Options{Root: testutil.FixturePath(t, "platform")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(DeriveChain(res.Environments), ","); got != "dev,test,main" {
		t.Errorf("chain %q", got)
	}
}

func TestHotfixOnTest(t *testing.T) {
	dir := platform(t)
	commitOn(t, dir, "test", "hotfix: raise memory")
	one(t, check(t, dir, nil),
		"promotion/not-fast-forward error clusters/test/flux-system/gotk-sync.yaml:11",
		`test is not fast-forwardable from dev: test has 1 commit(s) dev lacks`)
	fs := check(t, dir, nil)
	if !strings.Contains(fs[0].Message, `"hotfix: raise memory" (gitops-lint tests)`) {
		t.Errorf("message does not list the commit: %s", fs[0].Message)
	}
}

func TestHotfixOnMain(t *testing.T) {
	dir := platform(t)
	testutil.Git(t, dir, "commit", "-q", "--allow-empty", "-m", "hotfix on prod")
	one(t, check(t, dir, nil),
		"promotion/not-fast-forward error clusters/prod/flux-system/gotk-sync.yaml:11",
		"main is not fast-forwardable from test")
}

func clone(t *testing.T, src string, args ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "clone")
	cmd := exec.Command("git", append(append([]string{"clone", "-q"}, args...), "file://"+src, dst)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	return dst
}

func TestOnlyRemoteTrackingRefs(t *testing.T) {
	dir := platform(t)
	commitOn(t, dir, "test", "hotfix")
	c := clone(t, dir) // only main is a local branch; dev and test are origin/*
	if out := testutil.Git(t, c, "branch", "--list"); strings.Contains(out, "test") {
		t.Fatalf("clone has local branches: %s", out)
	}
	one(t, check(t, c, nil), "promotion/not-fast-forward error", "test is not fast-forwardable from dev")
}

func TestShallowClone(t *testing.T) {
	dir := platform(t)
	commitOn(t, dir, "test", "hotfix")
	commitOn(t, dir, "dev", "feature")
	c := clone(t, dir, "--depth", "1", "--no-single-branch")
	// a shallow clone cannot see that test has a commit dev lacks: a clear
	// warning with the fix, never a false error
	fs := check(t, c, nil)
	if len(fs) == 0 {
		t.Fatal("a shallow clone that cannot decide said nothing")
	}
	for _, f := range fs {
		if f.Severity != finding.Warning || !strings.Contains(f.Message, "fetch-depth: 0") || !strings.Contains(f.Message, "shallow") {
			t.Errorf("want a shallow-clone warning with the fix, got %s", summary([]finding.Finding{f}))
		}
	}
}

func TestPullRequests(t *testing.T) {
	dir := platform(t)
	testutil.Git(t, dir, "checkout", "-q", "dev")
	commitOn(t, dir, "dev", "feature")
	testutil.Git(t, dir, "checkout", "-q", "dev")

	github := map[string]string{"GITHUB_HEAD_REF": "dev", "GITHUB_BASE_REF": "test"}
	azure := map[string]string{"SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/dev", "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/test"}
	feature := map[string]string{"GITHUB_HEAD_REF": "feature/x", "GITHUB_BASE_REF": "dev"}
	for name, env := range map[string]map[string]string{"github": github, "azure": azure, "feature": feature} {
		if fs := check(t, dir, env); len(fs) != 0 {
			t.Errorf("%s PR on a clean chain: %v", name, summary(fs))
		}
	}

	// a hotfix on test: the promotion PR dev → test cannot fast-forward
	testutil.Git(t, dir, "checkout", "-q", "test")
	testutil.Git(t, dir, "commit", "-q", "--allow-empty", "-m", "hotfix")
	testutil.Git(t, dir, "checkout", "-q", "dev")
	for name, env := range map[string]map[string]string{"github": github, "azure": azure} {
		want(t, check(t, dir, env),
			"test is not fast-forwardable from dev",
			"promotion pull request dev → test cannot fast-forward: test has 1 commit(s) the pull request lacks")
		_ = name
	}
	// a feature PR into dev is not a promotion: only the chain finding
	one(t, check(t, dir, feature), "test is not fast-forwardable from dev")
}

func TestBranchMismatch(t *testing.T) {
	dir := testutil.CopyTree(t, testutil.FixturePath(t, "platform"))
	p := filepath.Join(dir, "clusters", "prod", "flux-system", "gotk-sync.yaml")
	data, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(data), "branch: main", "branch: dev", 1)), 0o644)
	res, err := render.Render(context.Background(), render.Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	fs := branchMismatch([]string{"dev", "test", "main"}, res)
	one(t, fs, "promotion/branch-mismatch error clusters/prod/flux-system/gotk-sync.yaml:11", "environment prod follows branch dev, but the promotion chain dev → test → main assigns it main")
}
