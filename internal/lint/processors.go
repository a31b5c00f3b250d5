package lint

import (
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// A processor transforms the findings of a run. They run in the order
// processors returns them; each sees what the one before kept.
type processor func([]finding.Finding) []finding.Finding

// processors is the chain of a run: the config's severities and
// suppressions (inline ignore annotations included), the --changed-since
// narrowing, the --shard share, the contract's order. The first two count
// what they drop into out.
func processors(cfg Config, scope Scope, res *render.Result, out *Result) []processor {
	return []processor{
		func(fs []finding.Finding) []finding.Finding {
			kept, suppressed := finding.Apply(fs, cfg.Rules, cfg.Ignore, ignoreAnnotations(res))
			out.Suppressed = suppressed
			return kept
		},
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
	}
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
