package render

import (
	"context"
	"fmt"
	"sync"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/git"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// RuleSelfSource is declared beside the only code that emits it.
var RuleSelfSource = rules.Add(finding.Rule{ID: "render/self-source", Severity: finding.Info,
	Help:        "A GitRepository is this repository (its URL is the checkout's origin) at another branch, tag or commit: its Kustomizations are rendered from that revision's git objects, not from the working tree.",
	Remediation: "Nothing to do; fetch the revision (git fetch origin BRANCH) to render it from its newest commit, or pass --source NAMESPACE/NAME=DIR to render it from a checkout."})

// selfRepo is what a render knows of the linted repository as a git
// checkout: its origin URL, and the revisions materialised for
// GitRepositories that are this repository at another revision.
type selfRepo struct {
	once sync.Once
	url  string // normalised origin URL ("" when not a checkout)

	mu    sync.Mutex
	trees map[string]*git.Tree // by commit
	told  map[string]bool      // GitRepository ids already reported
}

func (s *selfRepo) origin(root string) string {
	s.once.Do(func() { s.url = normalizeURL(git.OriginURL(context.Background(), root)) })
	return s.url
}

func (s *selfRepo) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.trees {
		t.Close()
	}
	s.trees = nil
}

// selfRevision resolves a GitRepository whose URL is the linted
// repository's origin. ok is false when it is another repository. The
// revision its spec.ref names is the working tree when it is the branch
// the environment follows or the checked-out commit; otherwise its commit
// is read from git objects (a local branch, else origin's), never fetched.
func (run *envRun) selfRevision(id string, obj map[string]any, url, ignore string) (a *artifact, err error, ok bool) {
	r := run.r
	root := r.tree.Root
	if url == "" || r.self.origin(root) == "" || normalizeURL(url) != r.self.origin(root) {
		return nil, nil, false
	}
	ctx := context.Background()
	branch := objects.NestedString(obj, "spec", "ref", "branch")
	tag := objects.NestedString(obj, "spec", "ref", "tag")
	commit := objects.NestedString(obj, "spec", "ref", "commit")
	rev, what := "", ""
	switch {
	case commit != "":
		rev, what = commit, "commit "+commit
	case tag != "":
		rev, what = "refs/tags/"+tag, "tag "+tag
	case branch != "":
		if branch == run.env.Branch {
			return nil, nil, false // the environment's own branch: the entry's rules apply
		}
		ref, found := git.BranchRef(ctx, root, branch)
		if !found {
			return nil, &sourceMissing{msg: fmt.Sprintf("source %s is this repository at branch %s, which this checkout does not have (neither refs/heads/%s nor refs/remotes/origin/%s), so this Kustomization is not rendered or checked; run git fetch origin %s, or pass --source %s=DIR", id, branch, branch, branch, branch, nsName(id))}, true
		}
		rev, what = ref, "branch "+branch+" ("+ref+")"
	default:
		return nil, nil, false // the default branch: as the entry
	}
	if git.SameCommit(ctx, root, rev, "HEAD") {
		a, err := r.dirArtifact(root, ignore)
		return a, err, true
	}
	c, err := git.ResolveRevision(ctx, root, rev)
	if err != nil {
		return nil, &sourceMissing{msg: fmt.Sprintf("source %s is this repository at %s, which this checkout does not have, so this Kustomization is not rendered or checked; fetch it, or pass --source %s=DIR", id, what, nsName(id))}, true
	}
	r.self.mu.Lock()
	t := r.self.trees[c]
	r.self.mu.Unlock()
	if t == nil {
		if t, err = git.Materialize(ctx, root, c); err != nil {
			return nil, fmt.Errorf("read %s of this repository for %s: %w", what, id, err), true
		}
		r.self.mu.Lock()
		if r.self.trees == nil {
			r.self.trees = map[string]*git.Tree{}
		}
		if old := r.self.trees[c]; old != nil {
			t.Close()
			t = old
		} else {
			r.self.trees[c] = t
		}
		r.self.mu.Unlock()
	}
	r.self.mu.Lock()
	if r.self.told == nil {
		r.self.told = map[string]bool{}
	}
	first := !r.self.told[run.env.Name+"\x00"+id]
	r.self.told[run.env.Name+"\x00"+id] = true
	r.self.mu.Unlock()
	if first {
		short := c
		if len(short) > 12 {
			short = short[:12]
		}
		r.add(RuleSelfSource.New(finding.Finding{Environment: run.env.Name,
			Message: fmt.Sprintf("%s is this repository at %s: rendered from commit %s of the checkout's git objects, not from the working tree", id, what, short)}))
	}
	a, err = r.dirArtifact(t.Root, ignore)
	return a, err, true
}

// nsName is "namespace/name" of a "Kind/namespace/name" id.
func nsName(id string) string {
	for i := 0; i < len(id); i++ {
		if id[i] == '/' {
			return id[i+1:]
		}
	}
	return id
}
