package git

import (
	"context"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// ResolveRevision returns the commit id rev names in the repository holding
// dir. An unknown revision is a usage error.
func ResolveRevision(ctx context.Context, dir, rev string) (string, error) {
	if _, _, err := repoInfo(ctx, dir); err != nil {
		return "", err
	}
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", finding.Usagef("unknown revision %q", rev)
	}
	out, err := run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", finding.Usagef("unknown revision %q in %s", rev, dir)
	}
	return strings.TrimSpace(string(out)), nil
}

// branchRefs are the refs a branch name is looked up as, in order: the
// local branch, then the remote-tracking branch of origin (CI checkouts
// often have only those).
func branchRefs(branch string) []string {
	return []string{"refs/heads/" + branch, "refs/remotes/origin/" + branch}
}

// ResolveBranch resolves a branch name to a revision: the local branch if
// there is one, else the remote-tracking branch origin/NAME. It returns the
// ref used and its commit. An unknown branch, or dir outside a repository,
// is a usage error.
func ResolveBranch(ctx context.Context, dir, branch string) (ref, commit string, err error) {
	if _, _, err := repoInfo(ctx, dir); err != nil {
		return "", "", err
	}
	if branch == "" || strings.HasPrefix(branch, "-") {
		return "", "", finding.Usagef("unknown branch %q", branch)
	}
	for _, ref := range branchRefs(branch) {
		out, err := run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
		if err == nil {
			return ref, strings.TrimSpace(string(out)), nil
		}
	}
	return "", "", finding.Usagef("unknown revision: no branch %q (neither refs/heads/%s nor refs/remotes/origin/%s) in %s", branch, branch, branch, dir)
}

// BranchRef finds a branch as a local head or, as CI checkouts often have
// only those, a remote-tracking ref of origin, and returns the ref. Unlike
// ResolveBranch it reports no error: ok is false when neither exists (or
// dir is no repository).
func BranchRef(ctx context.Context, dir, branch string) (ref string, ok bool) {
	for _, ref := range branchRefs(branch) {
		if _, code, _ := runCode(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}"); code == 0 {
			return ref, true
		}
	}
	return "", false
}

// IsAncestor reports whether a is an ancestor of b (or equal). An error
// means git could not tell (an unknown revision, history cut off).
func IsAncestor(ctx context.Context, dir, a, b string) (bool, error) {
	_, code, err := runCode(ctx, dir, "merge-base", "--is-ancestor", "--end-of-options", a, b)
	switch code {
	case 0:
		return true, nil
	case 1:
		return false, nil
	}
	return false, err
}

// IsShallow reports whether the repository holding dir is a shallow clone.
func IsShallow(ctx context.Context, dir string) bool {
	out, _, _ := runCode(ctx, dir, "rev-parse", "--is-shallow-repository")
	return out == "true"
}

// Commit is one commit, as Ahead lists it.
type Commit struct{ SHA, Subject, Author string }

// Ahead lists the commits of down that up lacks (`git log up..down`),
// newest first, with abbreviated ids.
func Ahead(ctx context.Context, dir, up, down string) ([]Commit, error) {
	out, _, err := runCode(ctx, dir, "log", "--format=%h%x1f%s%x1f%an", "--end-of-options", up+".."+down)
	if err != nil {
		return nil, err
	}
	var cs []Commit
	for _, line := range strings.Split(out, "\n") {
		if parts := strings.Split(line, "\x1f"); len(parts) == 3 {
			cs = append(cs, Commit{parts[0], parts[1], parts[2]})
		}
	}
	return cs, nil
}

// SameCommit reports whether revisions a and b of the repository at dir
// name the same commit (false when either does not resolve).
func SameCommit(ctx context.Context, dir, a, b string) bool {
	ca, err := ResolveRevision(ctx, dir, a)
	if err != nil {
		return false
	}
	cb, err := ResolveRevision(ctx, dir, b)
	return err == nil && ca == cb
}
