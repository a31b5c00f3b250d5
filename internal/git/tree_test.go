package git

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitops-lint/gitops-lint/internal/testutil"
)

func TestSafePath(t *testing.T) {
	for p, want := range map[string]bool{
		"a/b.yaml": true, "../x": false, "a/../../x": false, "/etc/passwd": false,
		"a/.git/config": false, ".git": false, "a//b": false, "./a": false, "": false,
	} {
		if got := safePath(p); got != want {
			t.Errorf("safePath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestMaterialize(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "deploy", "base"), 0o755)
	os.WriteFile(filepath.Join(src, "deploy", "base", "a.yaml"), []byte("one\n"), 0o644)
	os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("base", filepath.Join(src, "deploy", "link"))
	os.Symlink("../../outside", filepath.Join(src, "deploy", "escape"))
	repo := testutil.GitRepo(t, src, testutil.GitOptions{})
	os.WriteFile(filepath.Join(repo, "deploy", "base", "a.yaml"), []byte("two\n"), 0o644)
	testutil.Git(t, repo, "commit", "-qam", "second")
	os.WriteFile(filepath.Join(repo, "deploy", "base", "a.yaml"), []byte("dirty\n"), 0o644)
	before := testutil.Snapshot(t, repo)

	ctx := context.Background()
	tree, err := Materialize(ctx, filepath.Join(repo, "deploy"), "HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if tree.Root != filepath.Join(tree.Dir, "deploy") {
		t.Errorf("Root = %s", tree.Root)
	}
	if b, _ := os.ReadFile(filepath.Join(tree.Root, "base", "a.yaml")); string(b) != "one\n" {
		t.Errorf("a.yaml = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(tree.Root, "link", "a.yaml")); string(b) != "one\n" {
		t.Errorf("link/a.yaml = %q (in-tree symlink not recreated)", b)
	}
	if _, err := os.Lstat(filepath.Join(tree.Root, "escape")); !os.IsNotExist(err) {
		t.Errorf("escaping symlink was materialised: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(tree.Dir, "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh lost its executable bit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(tree.Dir, ".git")); !os.IsNotExist(err) {
		t.Errorf(".git materialised")
	}
	if after := testutil.Snapshot(t, repo); after != before {
		t.Errorf("repository changed:\n%s\n---\n%s", before, after)
	}
	if _, err := Materialize(ctx, repo, "no-such-rev"); err == nil || !strings.Contains(err.Error(), "unknown revision") {
		t.Errorf("bad revision: %v", err)
	}
	if _, _, err := ResolveBranch(ctx, repo, "main"); err != nil {
		t.Errorf("ResolveBranch main: %v", err)
	}
	if _, _, err := ResolveBranch(ctx, repo, "nope"); err == nil {
		t.Error("ResolveBranch nope: no error")
	}
	dir := tree.Dir
	tree.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s", dir)
	}
}
