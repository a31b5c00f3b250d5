// Package testutil holds helpers shared by tests: copying fixture trees and
// turning them into real, deterministic git repositories.
package testutil

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// fixedDate is the author/committer date of every commit GitRepo makes;
// fixedTime is the same instant, used as the mtime CopyTree gives every
// copied file and directory.
const fixedDate = "2024-01-01T00:00:00+00:00"

var fixedTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	gitUserName  = "gitops-lint tests"
	gitUserEmail = "tests@gitops-lint.invalid"
)

// TB is the part of testing.TB the helpers use, so that testscript
// commands can call them too.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Skip(args ...any)
	TempDir() string
}

// GitOptions configure GitRepo.
type GitOptions struct {
	// Branches are created at the initial commit, in addition to main
	// (e.g. []string{"dev", "test"}). "main" is ignored if listed.
	Branches []string
	// Remote, when set, is added as remote "origin".
	Remote string
}

// FixturePath returns the absolute path of testdata/repos/<name> in this
// module, found by walking up from the test's working directory to go.mod.
func FixturePath(t TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "testdata", "repos", name)
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("fixture %q: %v", name, err)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("fixture %q: no go.mod above the working directory", name)
		}
		dir = parent
	}
}

// CopyTree copies the directory src into a fresh t.TempDir() and returns the
// copy's path. Regular files keep only their executable bit (0644 or 0755),
// symlinks are recreated as symlinks, and every copied file and directory
// gets the same fixed modification time so git never sees racily-clean
// index entries.
func CopyTree(t TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := copyTree(src, dst); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

func copyTree(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", src)
	}
	var dirs []string
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, target)
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			mode := fs.FileMode(0o644)
			if fi.Mode()&0o111 != 0 {
				mode = 0o755
			}
			if err := copyFile(path, target, mode); err != nil {
				return err
			}
			return os.Chtimes(target, fixedTime, fixedTime)
		default:
			return fmt.Errorf("%s: unsupported file type %s", path, d.Type())
		}
	})
	if err != nil {
		return err
	}
	// Deepest first, so creating children does not bump a parent's mtime
	// after it was set.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i], fixedTime, fixedTime); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// O_CREATE honours the umask; make the mode exact.
	return os.Chmod(dst, mode)
}

// GitRepo copies src into a temp dir and makes it a git repository: branch
// main with one commit "initial" holding every file, plus opts.Branches at
// that same commit and, if opts.Remote is set, remote "origin". main is
// checked out. Commits are deterministic (fixed identity and dates, no
// global or system git config), so the same fixture always yields the same
// commit id. The test is skipped if git is not installed.
func GitRepo(t TB, src string, opts GitOptions) string {
	t.Helper()
	requireGit(t)
	dir := CopyTree(t, src)
	Git(t, dir, "init", "-q", "-b", "main")
	Git(t, dir, "config", "user.name", gitUserName)
	Git(t, dir, "config", "user.email", gitUserEmail)
	Git(t, dir, "config", "commit.gpgsign", "false")
	Git(t, dir, "config", "core.autocrlf", "false")
	Git(t, dir, "add", "-A")
	Git(t, dir, "commit", "-q", "--no-verify", "-m", "initial")
	for _, b := range opts.Branches {
		if b == "main" {
			continue
		}
		Git(t, dir, "branch", b)
	}
	if opts.Remote != "" {
		Git(t, dir, "remote", "add", "origin", opts.Remote)
	}
	return dir
}

// Git runs git in dir with the deterministic environment GitRepo uses and
// returns its trimmed stdout. The test fails if git exits non-zero and is
// skipped if git is not installed.
func Git(t TB, dir string, args ...string) string {
	t.Helper()
	requireGit(t)
	out, err := runGit(dir, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

func requireGit(t TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git executable not found on PATH; skipping test that needs a git repository")
	}
}

func runGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// gitEnv is the caller's environment without any GIT_* variables (which
// could redirect git to another repository, e.g. when tests run from a git
// hook), plus settings that make git independent of the machine.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	devNull := "/dev/null"
	if runtime.GOOS == "windows" {
		devNull = "NUL"
	}
	return append(env,
		"GIT_CONFIG_GLOBAL="+devNull,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME="+gitUserName,
		"GIT_AUTHOR_EMAIL="+gitUserEmail,
		"GIT_COMMITTER_NAME="+gitUserName,
		"GIT_COMMITTER_EMAIL="+gitUserEmail,
		"GIT_AUTHOR_DATE="+fixedDate,
		"GIT_COMMITTER_DATE="+fixedDate,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	)
}

// Snapshot fingerprints a directory so a test can prove it was not changed:
// every path under dir, .git included, with its mode and the sha256 of its
// content (symlinks: their target), followed, if dir is a git repository,
// by the output of `git for-each-ref` and `git status --porcelain=v2`.
// The git commands run with --no-optional-locks so taking a snapshot never
// rewrites .git/index itself. Compare two snapshots with ==; the result is
// line-oriented text, so a diff of two snapshots shows what changed.
func Snapshot(t TB, dir string) string {
	t.Helper()
	var b strings.Builder

	// Git first: even with optional locks off, run it before hashing so
	// anything it might touch is captured consistently.
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		requireGit(t)
		refs, err := runGit(dir, "--no-optional-locks", "for-each-ref",
			"--format=%(refname) %(objecttype) %(objectname) %(symref)")
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		head, err := runGit(dir, "--no-optional-locks", "symbolic-ref", "-q", "HEAD")
		if err != nil {
			// Detached HEAD: record the commit instead.
			head, err = runGit(dir, "--no-optional-locks", "rev-parse", "HEAD")
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
		}
		status, err := runGit(dir, "--no-optional-locks", "status",
			"--porcelain=v2", "--branch", "--untracked-files=all", "--ignored=matching")
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		fmt.Fprintf(&b, "## HEAD\n%s\n## refs\n%s\n## status\n%s\n", head, refs, status)
	}

	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		var sum string
		switch {
		case d.IsDir():
			sum = "-"
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			sum = "-> " + link
		case d.Type().IsRegular():
			h, err := hashFile(path)
			if err != nil {
				return err
			}
			sum = h
		default:
			sum = "?"
		}
		lines = append(lines, fmt.Sprintf("%s\t%s\t%s", rel, info.Mode(), sum))
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	sort.Strings(lines)
	b.WriteString("## files\n")
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Corpus returns ../shared/corpus/REPO (relative to the module root),
// skipping the test where the shared corpus is absent, as in a user's fresh
// clone.
func Corpus(t TB, repo string) string {
	t.Helper()
	root := filepath.Dir(filepath.Dir(FixturePath(t, ".")))
	p := filepath.Join(filepath.Dir(root), "shared", "corpus", repo)
	if _, err := os.Stat(p); err != nil {
		t.Skip("shared corpus absent (" + p + "): it is only present in the development workspace and CI")
	}
	return p
}
