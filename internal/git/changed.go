package git

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// Changes is what changed in the checkout at a directory since a revision.
type Changes struct {
	// Base is the commit the working tree was compared with: the merge base
	// of the revision and HEAD.
	Base string
	// Files are the changed paths, relative to the directory and
	// '/'-separated: modified, added, deleted (both sides of a rename),
	// staged or not, and untracked files that are not ignored. Sorted.
	Files []string
	// BaseContent holds, for the changed YAML files that existed at Base,
	// their content there (what the environments were discovered from).
	// Nil when it could not be read.
	BaseContent map[string][]byte
}

// ChangedSince lists what changed in the checkout holding dir since rev,
// as a pull request from the current branch into rev would change it: the
// working tree (uncommitted and untracked files included) is compared with
// the merge base of rev and HEAD. Paths outside dir are left out. It only
// reads the repository (optional locks off, no index refresh written).
func ChangedSince(ctx context.Context, dir, rev string) (*Changes, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return nil, finding.Usagef("unknown revision %q", rev)
	}
	out, err := run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		if _, err := ResolveRevision(ctx, dir, rev); err != nil {
			return nil, err // not a repository, or the revision is unknown: say which
		}
		return nil, err
	}
	commit := strings.TrimSpace(string(out))
	base := commit
	if out, err := run(ctx, dir, "merge-base", commit, "HEAD"); err == nil {
		base = strings.TrimSpace(string(out))
	} else if _, headErr := run(ctx, dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"); headErr == nil {
		hint := ""
		if IsShallow(ctx, dir) {
			hint = "; the clone is shallow: fetch more history (actions/checkout fetch-depth: 0, Azure fetchDepth: 0)"
		}
		return nil, finding.Usagef("--changed-since %s: no common ancestor with HEAD%s", rev, hint)
	}
	// --relative limits the diff to dir and prints paths relative to it;
	// ls-files does both by default. The two run side by side.
	var untracked []byte
	var untrackedErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		untracked, untrackedErr = run(ctx, dir, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
	}()
	diff, err := run(ctx, dir, "-c", "core.quotepath=off", "diff", "--name-only", "--no-renames", "--no-ext-diff", "--relative", "-z", base, "--")
	<-done
	if err != nil {
		return nil, err
	}
	if untrackedErr != nil {
		return nil, untrackedErr
	}
	var files []string
	for _, rec := range bytes.Split(append(diff, untracked...), []byte{0}) {
		if p := path.Clean(string(rec)); len(rec) > 0 && p != "." && !strings.HasPrefix(p, "../") {
			files = append(files, p)
		}
	}
	slices.Sort(files)
	ch := &Changes{Base: base, Files: slices.Compact(files)}
	ch.BaseContent, _ = baseContents(ctx, dir, base, ch.Files)
	return ch, nil
}

// baseContents reads the YAML files among files (relative to dir) at
// commit with one `git cat-file --batch`; files missing there are left out.
func baseContents(ctx context.Context, dir, commit string, files []string) (map[string][]byte, error) {
	var names, objects []string
	for _, f := range files {
		if strings.ContainsAny(f, "\n\r") {
			return nil, fmt.Errorf("unusual file name %q", f)
		}
		if ext := path.Ext(f); ext == ".yaml" || ext == ".yml" {
			names = append(names, f)
			objects = append(objects, commit+":./"+f)
		}
	}
	out := map[string][]byte{}
	err := CatFile(ctx, dir, objects, func(i int, obj Object, content io.Reader) error {
		f := names[i]
		if obj.Type != "blob" {
			return nil // "<name> missing": added since
		}
		if obj.Size > 64<<20 {
			return fmt.Errorf("cat-file %s: bad size", f)
		}
		data := make([]byte, obj.Size)
		if _, err := io.ReadFull(content, data); err != nil {
			return err
		}
		out[f] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
