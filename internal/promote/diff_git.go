package promote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
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

// gitGlobal are the options of every git command gitops-lint runs: optional
// locks off (so that not even `git status`-like index refreshes write into
// the repository) and no filesystem monitor (core.fsmonitor names a program
// that git would run when it reads the index).
var gitGlobal = []string{"--no-optional-locks", "-c", "core.fsmonitor=false"}

// git runs a read-only git command in dir and returns its stdout.
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", slices.Concat(gitGlobal, []string{"-C", dir}, args)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
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

// Tracked reports whether git tracks the file rel ('/'-separated, relative
// to dir). Outside a repository, or without git, nothing is tracked.
func Tracked(ctx context.Context, dir, rel string) bool {
	out, err := git(ctx, dir, "--literal-pathspecs", "ls-files", "-z", "--", rel)
	return err == nil && len(out) > 0
}

// repoInfo returns the top level of the git repository holding dir and
// dir's path inside it ("" or "a/b/").
func repoInfo(ctx context.Context, dir string) (top, prefix string, err error) {
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel", "--show-prefix")
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

// ResolveRevision returns the commit id rev names in the repository holding
// dir. An unknown revision is a usage error.
func ResolveRevision(ctx context.Context, dir, rev string) (string, error) {
	if _, _, err := repoInfo(ctx, dir); err != nil {
		return "", err
	}
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", finding.Usagef("unknown revision %q", rev)
	}
	out, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", finding.Usagef("unknown revision %q in %s", rev, dir)
	}
	return strings.TrimSpace(string(out)), nil
}

// ResolveBranch resolves a branch name to a revision: the local branch if
// there is one, else the remote-tracking branch origin/NAME. It returns the
// ref used and its commit.
func ResolveBranch(ctx context.Context, dir, branch string) (ref, commit string, err error) {
	if _, _, err := repoInfo(ctx, dir); err != nil {
		return "", "", err
	}
	if branch == "" || strings.HasPrefix(branch, "-") {
		return "", "", finding.Usagef("unknown branch %q", branch)
	}
	for _, ref := range []string{"refs/heads/" + branch, "refs/remotes/origin/" + branch} {
		out, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
		if err == nil {
			return ref, strings.TrimSpace(string(out)), nil
		}
	}
	return "", "", finding.Usagef("unknown revision: no branch %q (neither refs/heads/%s nor refs/remotes/origin/%s) in %s", branch, branch, branch, dir)
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
	out, err := git(ctx, top, "ls-tree", "-r", "-z", "--full-tree", commit)
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
		target, err := git(ctx, top, "cat-file", "blob", e.oid)
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

// writeBlobs streams the blobs through one `git cat-file --batch`.
func writeBlobs(ctx context.Context, top, dst string, files []treeEntry) error {
	if len(files) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, "git", slices.Concat(gitGlobal, []string{"-C", top, "cat-file", "--batch"})...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for _, e := range files {
			w.WriteString(e.oid + "\n")
		}
		w.Flush()
		stdin.Close()
	}()
	r := bufio.NewReaderSize(stdout, 1<<16)
	readErr := func() error {
		for _, e := range files {
			header, err := r.ReadString('\n')
			if err != nil {
				return fmt.Errorf("git cat-file: read header of %s: %w", e.path, err)
			}
			f := strings.Fields(header)
			if len(f) != 3 || f[1] != "blob" {
				return fmt.Errorf("git cat-file: unexpected header %q for %s", strings.TrimSpace(header), e.path)
			}
			size, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return fmt.Errorf("git cat-file: bad size in %q", header)
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
			_, err = io.CopyN(out, r, size)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("materialise %s: %w", e.path, err)
			}
			if _, err := r.Discard(1); err != nil { // the LF after the content
				return fmt.Errorf("git cat-file: %w", err)
			}
		}
		return nil
	}()
	if readErr != nil {
		io.Copy(io.Discard, stdout)
	}
	if err := cmd.Wait(); err != nil && readErr == nil {
		readErr = fmt.Errorf("git cat-file: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return readErr
}
