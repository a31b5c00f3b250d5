package git

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestCommand: every git process carries the options and environment
// docs/security.md ("External commands") requires.
func TestCommand(t *testing.T) {
	cmd := command(context.Background(), "/repo", "rev-parse", "--git-dir")
	want := []string{"git", "--no-optional-locks", "-c", "core.fsmonitor=false", "-C", "/repo", "rev-parse", "--git-dir"}
	if !slices.Equal(cmd.Args, want) {
		t.Errorf("args %q, want %q", cmd.Args, want)
	}
	for _, kv := range []string{"GIT_TERMINAL_PROMPT=0", "LC_ALL=C"} {
		if !slices.Contains(cmd.Env, kv) {
			t.Errorf("environment lacks %s", kv)
		}
	}
}

func TestRepositoryAndTracked(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "a.yaml"), []byte("a: 1\n"), 0o644)
	repo := testutil.GitRepo(t, src, testutil.GitOptions{})
	os.WriteFile(filepath.Join(repo, "sub", "new.yaml"), []byte("n: 1\n"), 0o644)
	ctx := context.Background()

	if !IsRepository(ctx, filepath.Join(repo, "sub")) || IsRepository(ctx, t.TempDir()) {
		t.Error("IsRepository")
	}
	if top := TopLevel(ctx, filepath.Join(repo, "sub")); !sameFile(top, repo) {
		t.Errorf("TopLevel = %q, want %q", top, repo)
	}
	if top, prefix, err := repoInfo(ctx, filepath.Join(repo, "sub")); err != nil || !sameFile(top, repo) || prefix != "sub/" {
		t.Errorf("repoInfo = %q %q %v", top, prefix, err)
	}
	for rel, want := range map[string]bool{"a.yaml": true, "new.yaml": false, "*.yaml": false, "nope": false} {
		if got := Tracked(ctx, filepath.Join(repo, "sub"), rel); got != want {
			t.Errorf("Tracked(%q) = %v, want %v", rel, got, want)
		}
	}
	if Tracked(ctx, t.TempDir(), "a.yaml") {
		t.Error("Tracked outside a repository")
	}
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
