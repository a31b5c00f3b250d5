package git

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// Tree is a git revision materialised into a temporary directory. Close
// removes it.
type Tree struct {
	// Rev is the revision as the user named it; Commit its full id.
	Rev    string
	Commit string
	// Dir is the temporary directory holding the repository's whole tree at
	// Commit; Root is the directory in it that corresponds to the PATH the
	// tree was materialised for (Dir itself unless PATH is a subdirectory
	// of its repository).
	Dir  string
	Root string
}

// Close removes the temporary directory.
func (t *Tree) Close() error {
	if t == nil || t.Dir == "" {
		return nil
	}
	return os.RemoveAll(t.Dir)
}

// Materialize writes the tree of revision rev of the git repository holding
// dir into a new temporary directory, without touching the repository's
// working tree, index or refs: it lists the tree with `git ls-tree` and
// reads the blobs with one `git cat-file --batch`. Regular files keep their
// executable bit; a symlink is recreated only when its target is relative
// and stays inside the tree (others are skipped); submodules are skipped.
func Materialize(ctx context.Context, dir, rev string) (*Tree, error) {
	top, prefix, err := repoInfo(ctx, dir)
	if err != nil {
		return nil, err
	}
	commit, err := ResolveRevision(ctx, dir, rev)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "gitops-lint-diff-")
	if err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	if inside(tmp, top) {
		os.RemoveAll(tmp)
		return nil, finding.Usagef("the temporary directory %s is inside the repository %s; set TMPDIR elsewhere", tmp, top)
	}
	t := &Tree{Rev: rev, Commit: commit, Dir: tmp, Root: filepath.Join(tmp, filepath.FromSlash(prefix))}
	if err := extract(ctx, top, commit, tmp); err != nil {
		t.Close()
		return nil, err
	}
	if err := os.MkdirAll(t.Root, 0o755); err != nil {
		t.Close()
		return nil, fmt.Errorf("materialise %s: %w", rev, err)
	}
	return t, nil
}

// inside reports whether p is dir or below it.
func inside(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

type treeEntry struct {
	mode, oid, path string
}

// safePath validates a tree path: relative, no "..", "." or empty
// components, no .git directory.
func safePath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." || strings.EqualFold(c, ".git") {
			return false
		}
	}
	return true
}

func extract(ctx context.Context, top, commit, dst string) error {
	out, err := run(ctx, top, "ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return err
	}
	var files, links []treeEntry
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, p, ok := strings.Cut(string(rec), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 || !safePath(p) {
			continue
		}
		e := treeEntry{mode: f[0], oid: f[2], path: p}
		switch {
		case f[1] != "blob": // submodule (commit)
		case e.mode == "120000":
			links = append(links, e)
		default:
			files = append(files, e)
		}
	}
	if err := writeBlobs(ctx, top, dst, files); err != nil {
		return err
	}
	// Symlinks last, so no file is ever written through one.
	for _, e := range links {
		target, err := run(ctx, top, "cat-file", "blob", e.oid)
		if err != nil {
			return err
		}
		tg := string(target)
		if tg == "" || path.IsAbs(tg) || strings.ContainsRune(tg, 0) {
			continue
		}
		resolved := path.Join(path.Dir(e.path), tg)
		if resolved == ".." || strings.HasPrefix(resolved, "../") {
			continue // leaves the tree
		}
		abs := filepath.Join(dst, filepath.FromSlash(e.path))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(filepath.FromSlash(tg), abs); err != nil {
			return fmt.Errorf("materialise %s: %w", e.path, err)
		}
	}
	return nil
}

// writeBlobs writes the files' blobs below dst, read through one
// `git cat-file --batch`.
func writeBlobs(ctx context.Context, top, dst string, files []treeEntry) error {
	oids := make([]string, len(files))
	for i, e := range files {
		oids[i] = e.oid
	}
	return CatFile(ctx, top, oids, func(i int, obj Object, content io.Reader) error {
		e := files[i]
		if obj.Type != "blob" {
			return fmt.Errorf("git cat-file: unexpected object for %s: %s %s", e.path, obj.Name, obj.Type)
		}
		mode := os.FileMode(0o644)
		if e.mode == "100755" {
			mode = 0o755
		}
		abs := filepath.Join(dst, filepath.FromSlash(e.path))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return fmt.Errorf("materialise %s: %w", e.path, err)
		}
		_, err = io.CopyN(out, content, obj.Size)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("materialise %s: %w", e.path, err)
		}
		return nil
	})
}
