package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// A processor transforms the findings of a run. They run in the order
// processors returns them; each sees what the one before kept.
type processor func([]finding.Finding) []finding.Finding

// processors is the chain of a run: the config's severities and
// suppressions (inline ignore annotations included), anchoring the
// findings of no file, the --changed-since narrowing, the --shard share,
// the contract's order, then folding the repeats, fingerprinting and
// marking the known ones (--baseline, --new-from-rev). The first two count what
// they drop into out; the last counts what it marks.
func processors(cfg Config, scope Scope, res *render.Result, out *Result) []processor {
	return []processor{
		func(fs []finding.Finding) []finding.Finding {
			kept, suppressed := finding.Apply(fs, cfg.Rules, cfg.Ignore, ignoreAnnotations(res))
			out.Suppressed = suppressed
			return kept
		},
		anchors(res), // before keepChanged narrows res, so as not to depend on the scope
		func(fs []finding.Finding) []finding.Finding {
			kept, unchanged := keepChanged(res, fs, scope.Changed)
			out.Unchanged = unchanged
			return kept
		},
		func(fs []finding.Finding) []finding.Finding {
			if cfg.Shards <= 1 {
				return fs
			}
			return slices.DeleteFunc(fs, func(f finding.Finding) bool { return finding.ShardOf(f, cfg.Shards) != cfg.Shard })
		},
		finding.Sort,
		finding.Fold,
		func(fs []finding.Finding) []finding.Finding {
			finding.Fingerprints(fs)
			out.Baseline = finding.MarkBaseline(fs, cfg.Known)
			return fs
		},
	}
}

// anchors gives each finding with no file in the linted repository the
// nearest place in it that brings its subject in, for formats that must
// point somewhere (SARIF for code scanning): the Kustomization that
// renders it (where it is declared, or else its first object from the
// repository, or else its parent's anchor), the environment's entry, or
// the first environment's entry for findings of no environment.
func anchors(res *render.Result) processor {
	return func(fs []finding.Finding) []finding.Finding {
		var a anchorer
		for i := range fs {
			if fs[i].File == "" {
				fs[i].Anchor = a.of(res, fs[i])
			}
		}
		return fs
	}
}

// anchorer finds anchors, indexing the render result on first use.
type anchorer struct {
	envs map[string]*render.Environment
	ks   map[string]*render.Kustomization // "env|namespace/name"
}

func (a *anchorer) of(res *render.Result, f finding.Finding) *finding.Location {
	if a.envs == nil {
		a.envs = map[string]*render.Environment{}
		a.ks = map[string]*render.Kustomization{}
		for _, e := range res.Environments {
			a.envs[e.Name] = e
			for _, k := range e.Kustomizations {
				a.ks[e.Name+"|"+k.ID()] = k
			}
		}
	}
	if e := a.envs[f.Environment]; e != nil {
		if l := a.kustomization(e, f.Kustomization, 0); l != nil {
			if origin := a.origin(e, f); origin != "" {
				l.Reason += ", which applies it from " + origin
			}
			return l
		}
		if l := envAnchor(e); l != nil {
			return l
		}
	}
	for _, e := range res.Environments {
		if l := envAnchor(e); l != nil {
			return l
		}
	}
	return nil
}

// origin is where the object a finding is about comes from when it is
// not in the linted repository: its path in the Kustomization's source.
func (a *anchorer) origin(e *render.Environment, f finding.Finding) string {
	k := a.ks[e.Name+"|"+f.Kustomization]
	if k == nil || f.Object == nil {
		return ""
	}
	for _, o := range k.Objects {
		if o.File == "" && o.OriginPath != "" && *o.Ref() == *f.Object {
			return fmt.Sprintf("%s of its source %s/%s/%s", o.OriginPath, k.SourceKind, k.SourceNamespace, k.SourceName)
		}
	}
	return ""
}

// kustomization anchors a finding about Kustomization id of e; depth
// bounds the walk up its parents.
func (a *anchorer) kustomization(e *render.Environment, id string, depth int) *finding.Location {
	k := a.ks[e.Name+"|"+id]
	if k == nil || depth > len(e.Kustomizations) {
		return nil
	}
	if k.File != "" {
		return &finding.Location{File: k.File, Line: k.Line, Column: k.Column, Reason: "the Flux Kustomization " + k.ID()}
	}
	for _, o := range k.Objects {
		if o.File != "" {
			return &finding.Location{File: o.File, Line: o.Line, Column: o.Column, Reason: "the first file of this repository the Flux Kustomization " + k.ID() + " renders"}
		}
	}
	if k.Parent != "" {
		return a.kustomization(e, k.Parent, depth+1)
	}
	return nil
}

// envAnchor is the entry of environment e: the branch its GitRepository
// follows, or the first Kustomization or object of it in the repository.
func envAnchor(e *render.Environment) *finding.Location {
	if e.BranchFile != "" {
		return &finding.Location{File: e.BranchFile, Line: e.BranchLine, Column: e.BranchColumn, Reason: "the entry of environment " + e.Name}
	}
	for _, k := range e.Kustomizations {
		if k.File != "" {
			return &finding.Location{File: k.File, Line: k.Line, Column: k.Column, Reason: "the entry of environment " + e.Name}
		}
	}
	for _, k := range e.Kustomizations {
		for _, o := range k.Objects {
			if o.File != "" {
				return &finding.Location{File: o.File, Line: o.Line, Column: o.Column, Reason: "the first file of environment " + e.Name}
			}
		}
	}
	return nil
}

// keepChanged narrows a --changed-since (or --shard) run to the
// Kustomizations it lints: it drops the others (and environments left with
// none) from res, and the findings about them; with --changed-since,
// findings outside any Kustomization stay when they are about a changed
// file, or about no file (promotion). It returns the findings kept and the
// number of unchanged Kustomizations dropped.
func keepChanged(res *render.Result, fs []finding.Finding, changed []string) ([]finding.Finding, int) {
	if !res.Partial {
		return fs, 0
	}
	unchanged := map[string]bool{}
	dropped := 0
	res.Environments = slices.DeleteFunc(res.Environments, func(e *render.Environment) bool {
		e.Kustomizations = slices.DeleteFunc(e.Kustomizations, func(k *render.Kustomization) bool {
			if k.Unchanged {
				unchanged[e.Name+"|"+k.ID()] = true
				dropped++
			}
			return k.Unchanged
		})
		return len(e.Kustomizations) == 0
	})
	fs = slices.DeleteFunc(fs, func(f finding.Finding) bool {
		if f.Kustomization != "" {
			return unchanged[f.Environment+"|"+f.Kustomization]
		}
		if !res.ChangedOnly || f.File == "" || strings.HasPrefix(f.Rule, "promotion/") {
			return false // --shard: the share decides (shard 1)
		}
		_, found := slices.BinarySearch(changed, f.File)
		return !found
	})
	if !res.ChangedOnly {
		dropped = 0 // in the other shards, not unchanged
	}
	return fs, dropped
}

// ignoreAnnotations returns a lookup of the gitops-lint.io/ignore
// annotation of the object a finding is about.
func ignoreAnnotations(res *render.Result) func(finding.Finding) string {
	byObject := map[string]string{}
	key := func(env, ks string, o finding.Object) string {
		return env + "|" + ks + "|" + o.APIVersion + "|" + o.String()
	}
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			for _, o := range k.Objects {
				md, _ := o.Content["metadata"].(map[string]any)
				ann, _ := md["annotations"].(map[string]any)
				if v, ok := ann[finding.IgnoreAnnotation].(string); ok {
					byObject[key(env.Name, k.ID(), *o.Ref())] = v
				}
			}
		}
	}
	return func(f finding.Finding) string {
		if f.Object == nil {
			return ""
		}
		return byObject[key(f.Environment, f.Kustomization, *f.Object)]
	}
}
