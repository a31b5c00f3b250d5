package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/promote"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// changedScope resolves --changed-since into the files changed below
// opts.Root. A change to something every check depends on (the config
// file, a --policy, --crd-dir or --rbac-dir directory in the repository)
// makes it a full run, said on stderr.
func (a *app) changedScope(ctx context.Context, opts *Options) error {
	if opts.ChangedSince == "" {
		return nil
	}
	ch, err := promote.ChangedSince(ctx, opts.Root, opts.ChangedSince)
	if err != nil {
		if isUsage(err) {
			return finding.Usagef("--%s: %w", flagChangedSince, err)
		}
		return err
	}
	global := map[string]string{}
	if opts.ConfigFile != "" {
		global[opts.ConfigFile] = "the config file"
	}
	for _, d := range opts.PolicyDirs {
		global[d] = "--" + flagPolicy + " " + d
	}
	for _, d := range opts.CRDDirs {
		global[d] = "--" + flagCRDDir + " " + d
	}
	for _, d := range opts.RBACDirs {
		global[d] = "--" + flagRBACDir + " " + d
	}
	for p, what := range global {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(opts.Root, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		rel = filepath.ToSlash(rel)
		for _, f := range ch.Files {
			if f == rel || rel == "." || strings.HasPrefix(f, rel+"/") {
				fmt.Fprintf(a.stderr, "gitops-lint: --%s %s: %s changed (%s), so everything is linted\n", flagChangedSince, opts.ChangedSince, what, f)
				return nil
			}
		}
	}
	opts.ChangedOnly, opts.Changed, opts.BaseContent = true, ch.Files, ch.BaseContent
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
