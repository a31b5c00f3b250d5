package git

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

// TestChangedSince: what a pull request from the current branch into REF
// changes — from the merge base, working tree included — below PATH.
func TestChangedSince(t *testing.T) {
	src := testutil.WriteTree(t, t.TempDir(), map[string]string{
		"repo/a.yaml":        "a: 1\n",
		"repo/b.yaml":        "b: 1\n",
		"repo/old name.yaml": "c: 1\n",
		"repo/gone.yaml":     "d: 1\n",
		"elsewhere.yaml":     "e: 1\n",
		"repo/.gitignore":    "ignored.yaml\n",
	})
	top := testutil.GitRepo(t, src, testutil.GitOptions{Branches: []string{"feature"}})
	git := func(args ...string) { testutil.Git(t, top, args...) }
	// main moves on after the branch point: not the feature's change.
	os.WriteFile(filepath.Join(top, "repo/b.yaml"), []byte("b: 2\n"), 0o644)
	git("commit", "-qam", "main moves on")
	git("checkout", "-q", "feature")
	// Committed, staged, unstaged, renamed, deleted, untracked, ignored,
	// and outside PATH.
	os.WriteFile(filepath.Join(top, "repo/a.yaml"), []byte("a: 2\n"), 0o644)
	git("commit", "-qam", "feature: a")
	git("mv", "repo/old name.yaml", "repo/new name.yaml")
	os.Remove(filepath.Join(top, "repo/gone.yaml"))
	os.WriteFile(filepath.Join(top, "repo/new.yaml"), []byte("n: 1\n"), 0o644)
	os.WriteFile(filepath.Join(top, "repo/ignored.yaml"), []byte("i: 1\n"), 0o644)
	os.WriteFile(filepath.Join(top, "elsewhere.yaml"), []byte("e: 2\n"), 0o644)
	before := testutil.Snapshot(t, top)

	ch, err := ChangedSince(context.Background(), filepath.Join(top, "repo"), "main")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.yaml", "gone.yaml", "new name.yaml", "new.yaml", "old name.yaml"}
	if !slices.Equal(ch.Files, want) {
		t.Errorf("changed files %q, want %q", ch.Files, want)
	}
	// The base content of the changed YAML files that existed there.
	if got := string(ch.BaseContent["a.yaml"]); got != "a: 1\n" {
		t.Errorf("base content of a.yaml: %q", got)
	}
	if got := string(ch.BaseContent["old name.yaml"]); got != "c: 1\n" {
		t.Errorf("base content of the renamed file: %q", got)
	}
	if _, ok := ch.BaseContent["new.yaml"]; ok || len(ch.BaseContent) != 3 {
		t.Errorf("base contents for %d files, want a.yaml, gone.yaml, old name.yaml", len(ch.BaseContent))
	}
	if after := testutil.Snapshot(t, top); after != before {
		t.Error("ChangedSince modified the repository")
	}

	for _, rev := range []string{"no-such-ref", "--output=x", ""} {
		if _, err := ChangedSince(context.Background(), top, rev); !finding.IsUsage(err) {
			t.Errorf("revision %q: got %v, want a usage error", rev, err)
		}
	}
	if _, err := ChangedSince(context.Background(), t.TempDir(), "HEAD"); !finding.IsUsage(err) {
		t.Errorf("outside a repository: got %v, want a usage error", err)
	}
}
