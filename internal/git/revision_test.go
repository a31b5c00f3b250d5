package git

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

func TestRevisions(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "a.yaml"), []byte("a: 1\n"), 0o644)
	repo := testutil.GitRepo(t, src, testutil.GitOptions{Branches: []string{"dev", "test"}})
	testutil.Git(t, repo, "checkout", "-q", "test")
	testutil.Git(t, repo, "commit", "-q", "--allow-empty", "-m", "hotfix one")
	testutil.Git(t, repo, "commit", "-q", "--allow-empty", "-m", "hotfix two")
	testutil.Git(t, repo, "checkout", "-q", "main")
	ctx := context.Background()

	if ref, ok := BranchRef(ctx, repo, "test"); !ok || ref != "refs/heads/test" {
		t.Errorf("BranchRef test = %q %v", ref, ok)
	}
	if ref, ok := BranchRef(ctx, repo, "nope"); ok {
		t.Errorf("BranchRef nope = %q", ref)
	}
	if ok, err := IsAncestor(ctx, repo, "refs/heads/dev", "refs/heads/test"); !ok || err != nil {
		t.Errorf("dev in test: %v %v", ok, err)
	}
	if ok, err := IsAncestor(ctx, repo, "refs/heads/test", "refs/heads/dev"); ok || err != nil {
		t.Errorf("test in dev: %v %v", ok, err)
	}
	if _, err := IsAncestor(ctx, repo, "refs/heads/nope", "refs/heads/dev"); err == nil {
		t.Error("IsAncestor of an unknown ref: no error")
	}
	cs, err := Ahead(ctx, repo, "refs/heads/dev", "refs/heads/test")
	var subjects []string
	for _, c := range cs {
		subjects = append(subjects, c.Subject+" ("+c.Author+")")
		if len(c.SHA) < 7 {
			t.Errorf("short id %q", c.SHA)
		}
	}
	if err != nil || !slices.Equal(subjects, []string{"hotfix two (gitops-lint tests)", "hotfix one (gitops-lint tests)"}) {
		t.Errorf("Ahead = %q %v", subjects, err)
	}
	if IsShallow(ctx, repo) {
		t.Error("IsShallow on a full repository")
	}
	main, err := ResolveRevision(ctx, repo, "main")
	if err != nil || len(main) != 40 {
		t.Errorf("ResolveRevision main = %q %v", main, err)
	}
	if ref, commit, err := ResolveBranch(ctx, repo, "dev"); err != nil || ref != "refs/heads/dev" || commit != main {
		t.Errorf("ResolveBranch dev = %q %q %v", ref, commit, err)
	}
	for _, rev := range []string{"", "-x", "--output=x", "no-such-rev"} {
		if _, err := ResolveRevision(ctx, repo, rev); err == nil {
			t.Errorf("ResolveRevision %q: no error", rev)
		}
	}
}

// BenchmarkAncestry50k measures the fast-forward checks of a promotion
// chain on a generated 50,000-commit history: main at the tip, test 10
// commits behind it plus a hotfix (not fast-forwardable), dev at the tip.
// Each check walks from both tips to their merge base, so it costs what
// separates the branches, not the length of the history. (A downstream
// branch 25,000 commits behind its upstream takes ~200 ms without a
// commit-graph and ~1 ms with one, which `git gc` writes by default.)
func BenchmarkAncestry50k(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	dir := b.TempDir()
	run := func(stdin string, args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("", "init", "-q", "-b", "main")
	var s strings.Builder
	const n = 50000
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "commit refs/heads/main\nmark :%d\ncommitter bench <b@example.com> %d +0000\ndata 6\nc%05d\n", i, 1700000000+i, i)
		if i > 1 {
			fmt.Fprintf(&s, "from :%d\n", i-1)
		}
		s.WriteString("\n")
	}
	fmt.Fprintf(&s, "commit refs/heads/test\nmark :%d\ncommitter bench <b@example.com> %d +0000\ndata 6\nhotfix\nfrom :%d\n\n", n+1, 1700000000+n+1, n-10)
	fmt.Fprintf(&s, "reset refs/heads/dev\nfrom :%d\n\n", n)
	run(s.String(), "fast-import", "--quiet")
	ctx := context.Background()
	for b.Loop() {
		if ok, err := IsAncestor(ctx, dir, "refs/heads/dev", "refs/heads/main"); err != nil || !ok {
			b.Fatalf("dev in main: %v %v", ok, err)
		}
		if ok, err := IsAncestor(ctx, dir, "refs/heads/test", "refs/heads/dev"); err != nil || ok {
			b.Fatalf("test in dev: %v %v", ok, err)
		}
	}
}
