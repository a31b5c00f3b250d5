package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGitRepoPlatformFixture(t *testing.T) {
	src := FixturePath(t, "platform")
	dir := GitRepo(t, src, GitOptions{
		Branches: []string{"dev", "test"},
		Remote:   "ssh://git@example.com/platform/platform-components",
	})

	branches := strings.Fields(strings.ReplaceAll(Git(t, dir, "branch", "--list"), "*", ""))
	if got, want := strings.Join(branches, ","), "dev,main,test"; got != want {
		t.Errorf("branches = %s, want %s", got, want)
	}
	if got := Git(t, dir, "symbolic-ref", "--short", "HEAD"); got != "main" {
		t.Errorf("HEAD = %s, want main", got)
	}
	head := Git(t, dir, "rev-parse", "main")
	for _, b := range []string{"dev", "test"} {
		if got := Git(t, dir, "rev-parse", b); got != head {
			t.Errorf("branch %s at %s, want %s", b, got, head)
		}
	}
	if got := Git(t, dir, "remote", "get-url", "origin"); got != "ssh://git@example.com/platform/platform-components" {
		t.Errorf("origin = %q", got)
	}
	if got := Git(t, dir, "status", "--porcelain"); got != "" {
		t.Errorf("work tree not clean after GitRepo:\n%s", got)
	}
	if got := Git(t, dir, "log", "--format=%s", "main"); got != "initial" {
		t.Errorf("log = %q, want one commit \"initial\"", got)
	}
	// Every fixture file is committed.
	if Git(t, dir, "ls-files", "clusters/prod/flux-system/gotk-sync.yaml") == "" {
		t.Error("clusters/prod/flux-system/gotk-sync.yaml not committed")
	}

	// Deterministic: the same fixture gives the same commit id.
	again := GitRepo(t, src, GitOptions{Branches: []string{"dev", "test"}})
	if got := Git(t, again, "rev-parse", "main"); got != head {
		t.Errorf("second GitRepo commit = %s, want %s", got, head)
	}

	// Snapshot is stable, and running read-only git commands (as a linter
	// might) does not change it.
	before := Snapshot(t, dir)
	if !strings.Contains(before, ".git/index\t") || !strings.Contains(before, "refs/heads/dev ") {
		t.Fatalf("snapshot misses .git/index or refs:\n%s", before)
	}
	Git(t, dir, "status")
	Git(t, dir, "show", "dev:clusters/dev/flux-system/gotk-sync.yaml")
	Git(t, dir, "ls-tree", "-r", "test")
	if after := Snapshot(t, dir); after != before {
		t.Fatalf("snapshot changed without modification:\n--- before\n%s\n--- after\n%s", before, after)
	}

	// Changing a file's content changes it.
	f := filepath.Join(dir, "clusters", "dev", "cluster-settings.yaml")
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, append(data, "# touched\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	modified := Snapshot(t, dir)
	if modified == before {
		t.Fatal("snapshot did not change after modifying a file")
	}
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Restoring the content restores the file hashes (the index is untouched
	// thanks to --no-optional-locks, so status reports the tree clean again).
	if restored := Snapshot(t, dir); restored != before {
		t.Fatalf("snapshot after restoring content differs:\n--- before\n%s\n--- after\n%s", before, restored)
	}

	// A new untracked file changes it.
	if err := os.WriteFile(filepath.Join(dir, "new.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Snapshot(t, dir) == before {
		t.Fatal("snapshot did not change after adding a file")
	}
	if err := os.Remove(filepath.Join(dir, "new.yaml")); err != nil {
		t.Fatal(err)
	}

	// A ref change (nothing in the work tree) changes it.
	Git(t, dir, "branch", "feature")
	if Snapshot(t, dir) == before {
		t.Fatal("snapshot did not change after creating a branch")
	}
}

func TestCopyTree(t *testing.T) {
	src := FixturePath(t, "team-a")
	dst := CopyTree(t, src)
	want, err := os.ReadFile(filepath.Join(src, "deploy", "base", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "deploy", "base", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("copied file differs from source")
	}
	if _, err := os.Stat(filepath.Join(dst, ".git")); !os.IsNotExist(err) {
		t.Errorf("CopyTree created .git: %v", err)
	}
}
