// Package promote checks branch promotion: environments follow branches
// (dev, test, main) that move forward by fast-forward pull requests, so each
// downstream branch must be an ancestor of its upstream. It derives the
// chain, checks each pair and a promotion pull request for fast-forward,
// and environments that follow the wrong branch. It reads the repository
// through internal/git (merge-base --is-ancestor answers in milliseconds on
// any history, and works on shallow clones, where it can at least say it
// cannot tell).
package promote

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/git"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// Options of a promotion check.
type Options struct {
	// Root is the repository (a git checkout).
	Root string
	// Chain is the branch chain, upstream first ("" entries not allowed);
	// empty: derived from the environments' branches.
	Chain []string
	// ChainFrom says where Chain came from ("--promotion", ".gitops-lint.yaml").
	ChainFrom string
	// Env is the process environment (pull-request variables of GitHub
	// Actions and Azure Pipelines).
	Env map[string]string
}

// ranks orders the usual branch and environment names of a promotion
// chain: development first, production last.
var ranks = map[string]int{
	"dev": 0, "develop": 0, "development": 0,
	"test": 1, "testing": 1, "qa": 1, "staging": 1, "stage": 1, "uat": 1, "preprod": 1,
	"main": 2, "master": 2, "prod": 2, "production": 2, "live": 2,
}

// DeriveChain orders the environments' branches into a chain when they
// form an unambiguous one (each a known development, test or production
// name, no two of the same rank).
func DeriveChain(envs []*render.Environment) []string {
	byRank := map[int]string{}
	for _, e := range envs {
		if e.Branch == "" {
			continue
		}
		r, ok := ranks[e.Branch]
		if !ok {
			return nil
		}
		if prev, dup := byRank[r]; dup && prev != e.Branch {
			return nil
		}
		byRank[r] = e.Branch
	}
	if len(byRank) < 2 {
		return nil
	}
	var chain []string
	for r := 0; r <= 2; r++ {
		if b, ok := byRank[r]; ok {
			chain = append(chain, b)
		}
	}
	return chain
}

func describe(cs []git.Commit) string {
	var parts []string
	for i, c := range cs {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(cs)-10))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %q (%s)", c.SHA, c.Subject, c.Author))
	}
	return strings.Join(parts, "; ")
}

const shallowFix = "fetch the full history: `fetch-depth: 0` on actions/checkout (GitHub), `fetchDepth: 0` on the checkout step (Azure DevOps)"

// Check runs the promotion checks.
func Check(ctx context.Context, opts Options, res *render.Result) []finding.Finding {
	if !git.IsRepository(ctx, opts.Root) {
		return nil // not a git checkout: nothing to check
	}
	chain, from := opts.Chain, opts.ChainFrom
	if len(chain) == 0 {
		if !sameDir(git.TopLevel(ctx, opts.Root), opts.Root) {
			// PATH sits inside a larger repository (a fixture, a monorepo
			// subdirectory): its branches are not necessarily the
			// environments'. Only an explicit chain is checked there.
			return nil
		}
		chain, from = DeriveChain(res.Environments), "the environments' branches"
	}
	if len(chain) < 2 {
		return nil
	}
	var out []finding.Finding
	out = append(out, RuleChain.New(finding.Finding{Message: fmt.Sprintf("promotion chain %s (from %s)", strings.Join(chain, " → "), from)}))
	out = append(out, branchMismatch(chain, res)...)
	shallow := git.IsShallow(ctx, opts.Root)
	loc := locator(res)
	found := 0
	for _, b := range chain {
		if _, ok := git.BranchRef(ctx, opts.Root, b); ok {
			found++
		}
	}
	if found == 0 && !shallow {
		// None of the chain's branches is in this checkout (a subdirectory
		// of another repository, a repository that does not promote by
		// branch): say so once rather than warn about every pair.
		out = append(out, RuleChain.New(finding.Finding{Message: fmt.Sprintf("none of the branches %s is in this checkout (locally or as origin/…), so promotion was not checked", strings.Join(chain, ", "))}))
		return append(out, pullRequest(ctx, opts, chain, shallow, loc)...)
	}
	for i := 0; i+1 < len(chain); i++ {
		up, down := chain[i], chain[i+1]
		out = append(out, fastForward(ctx, opts.Root, up, down, shallow, loc(down))...)
	}
	out = append(out, pullRequest(ctx, opts, chain, shallow, loc)...)
	return out
}

// locator returns where a finding about a branch points (File, Line and
// Column of a finding): the branch field of the environment that follows
// it, or nowhere.
func locator(res *render.Result) func(branch string) finding.Finding {
	return func(branch string) finding.Finding {
		for _, e := range res.Environments {
			if e.Branch == branch && e.BranchFile != "" {
				return branchAt(e)
			}
		}
		return finding.Finding{}
	}
}

// branchAt locates the branch field of e's entry GitRepository.
func branchAt(e *render.Environment) finding.Finding {
	if e.BranchFile == "" {
		return finding.Finding{}
	}
	return finding.Finding{File: e.BranchFile, Line: e.BranchLine, Column: e.BranchColumn}
}

func fastForward(ctx context.Context, dir, up, down string, shallow bool, at finding.Finding) []finding.Finding {
	f := RuleNotFastForward.New(at)
	upRef, okUp := git.BranchRef(ctx, dir, up)
	downRef, okDown := git.BranchRef(ctx, dir, down)
	if !okUp || !okDown {
		missing := up
		if okUp {
			missing = down
		}
		f.Severity = finding.Warning
		f.Message = fmt.Sprintf("cannot check that %s fast-forwards to %s: branch %s is neither a local branch nor origin/%s in this checkout; fetch it (%s)", down, up, missing, missing, shallowFix)
		return []finding.Finding{f}
	}
	ok, err := git.IsAncestor(ctx, dir, downRef, upRef)
	if err != nil || (!ok && shallow) {
		f.Severity = finding.Warning
		f.Message = fmt.Sprintf("cannot tell whether %s fast-forwards to %s: the clone is shallow and their history is cut off; %s", down, up, shallowFix)
		return []finding.Finding{f}
	}
	if ok {
		return nil
	}
	cs, _ := git.Ahead(ctx, dir, upRef, downRef)
	f.Message = fmt.Sprintf("%s is not fast-forwardable from %s: %s has %d commit(s) %s lacks, so the next promotion from %s to %s cannot fast-forward (and a merge would drop or duplicate them): %s; bring them into %s first (merge or cherry-pick into %s, then promote)",
		down, up, down, len(cs), up, up, down, describe(cs), up, up)
	return []finding.Finding{f}
}

// pullRequest checks a pull request that promotes one branch of the chain
// into the next: its head must fast-forward onto the target.
func pullRequest(ctx context.Context, opts Options, chain []string, shallow bool, loc func(string) finding.Finding) []finding.Finding {
	src, dst := opts.Env["GITHUB_HEAD_REF"], opts.Env["GITHUB_BASE_REF"]
	if src == "" || dst == "" {
		src = strings.TrimPrefix(opts.Env["SYSTEM_PULLREQUEST_SOURCEBRANCH"], "refs/heads/")
		dst = strings.TrimPrefix(opts.Env["SYSTEM_PULLREQUEST_TARGETBRANCH"], "refs/heads/")
	}
	if src == "" || dst == "" {
		return nil
	}
	i := slices.Index(chain, src)
	if i < 0 || i+1 >= len(chain) || chain[i+1] != dst {
		return nil // a feature pull request: the chain checks above suffice
	}
	f := RuleNotFastForward.New(loc(dst))
	dstRef, ok := git.BranchRef(ctx, opts.Root, dst)
	if !ok {
		f.Severity = finding.Warning
		f.Message = fmt.Sprintf("promotion pull request %s → %s: cannot find %s (neither a local branch nor origin/%s); %s", src, dst, dst, dst, shallowFix)
		return []finding.Finding{f}
	}
	isAnc, err := git.IsAncestor(ctx, opts.Root, dstRef, "HEAD")
	if err != nil || (!isAnc && shallow) {
		f.Severity = finding.Warning
		f.Message = fmt.Sprintf("promotion pull request %s → %s: cannot tell whether it fast-forwards, the clone is shallow; %s", src, dst, shallowFix)
		return []finding.Finding{f}
	}
	if isAnc {
		return nil
	}
	cs, _ := git.Ahead(ctx, opts.Root, "HEAD", dstRef)
	f.Message = fmt.Sprintf("promotion pull request %s → %s cannot fast-forward: %s has %d commit(s) the pull request lacks: %s; merge %s into %s first", src, dst, dst, len(cs), describe(cs), dst, src)
	return []finding.Finding{f}
}

// branchMismatch reports environments whose sync follows another branch
// than the chain assigns them (by name, or by development/test/production
// rank).
func branchMismatch(chain []string, res *render.Result) []finding.Finding {
	var out []finding.Finding
	for _, e := range res.Environments {
		if e.Branch == "" {
			continue
		}
		want := ""
		if slices.Contains(chain, e.Name) {
			want = e.Name
		} else if r, ok := ranks[e.Name]; ok {
			for _, b := range chain {
				if rb, ok := ranks[b]; ok && rb == r {
					want = b
				}
			}
		}
		if want == "" || want == e.Branch {
			continue
		}
		f := RuleBranchMismatch.New(branchAt(e))
		f.Environment = e.Name
		f.Message = fmt.Sprintf("environment %s follows branch %s, but the promotion chain %s assigns it %s", e.Name, e.Branch, strings.Join(chain, " → "), want)
		out = append(out, f)
	}
	return out
}

// Checker runs the promotion checks as a lint checker.
type Checker struct{ Options Options }

// Check implements the lint pipeline's checker.
func (c Checker) Check(ctx context.Context, res *render.Result) []finding.Finding {
	return Check(ctx, c.Options, res)
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && filepath.Clean(ra) == filepath.Clean(rb)
}
