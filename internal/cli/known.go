package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/git"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

// maxBaselineBytes bounds a --baseline report: far above any real one.
const maxBaselineBytes = 256 << 20

// knownFindings is the fingerprints of the findings a run already knows:
// those of the --baseline report, and those of the same tree linted at the
// --new-from-rev revision. nil when neither is set.
func (a *app) knownFindings(ctx context.Context, opts Options) (map[string]bool, error) {
	if opts.Baseline == "" && opts.NewFromRev == "" {
		return nil, nil
	}
	known := map[string]bool{}
	if opts.Baseline != "" {
		fs, err := readBaseline(opts.Baseline)
		if err != nil {
			return nil, finding.Usagef("--%s %s: %w", flagBaseline, opts.Baseline, err)
		}
		for _, f := range fs {
			known[f.Fingerprint] = true
		}
	}
	if opts.NewFromRev != "" {
		fs, err := a.findingsAt(ctx, opts, opts.NewFromRev)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			known[f.Fingerprint] = true
		}
	}
	return known, nil
}

// readBaseline reads the findings of a JSON report. A report of a version
// that wrote no fingerprints gets them computed as this one computes them.
func readBaseline(path string) ([]finding.Finding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fs, err := report.ReadJSON(f, maxBaselineBytes)
	if err != nil {
		return nil, err
	}
	for _, x := range fs {
		if x.Fingerprint == "" {
			fs = finding.Fold(finding.Sort(fs))
			finding.Fingerprints(fs)
			break
		}
	}
	return fs, nil
}

// findingsAt lints the tree of git revision rev of opts.Root with the same
// settings, in full (no --changed-since, no --shard), and returns its
// findings.
func (a *app) findingsAt(ctx context.Context, opts Options, rev string) ([]finding.Finding, error) {
	tree, err := git.Materialize(ctx, opts.Root, rev)
	if err != nil {
		if isUsage(err) {
			return nil, finding.Usagef("--%s: %w", flagNewFromRev, err)
		}
		return nil, err
	}
	defer tree.Close()
	base := onTree(opts, tree.Root)
	base.ChangedSince, base.ChangedOnly, base.Changed, base.BaseContent = "", false, nil, nil
	base.Shard, base.Shards = 0, 0
	base.Budget = confine.NewBudget(opts.Limits.Or().TotalBytes, confine.LimitTotalBytes)
	r, err := a.runLint(ctx, base, nil, "linting "+displayPath(opts.Root)+" at "+rev)
	if len(base.Environments) > 0 && noSuchEnv(err) {
		// An environment the change adds: everything in it is new.
		base.Environments = nil
		r, err = a.runLint(ctx, base, nil, "linting "+displayPath(opts.Root)+" at "+rev)
	}
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", flagNewFromRev, rev, err)
	}
	return r.Findings, nil
}

// onTree is opts for the same repository materialised at root: sources
// inside the repository are mapped into root too, since their content is
// part of the revision.
func onTree(opts Options, root string) Options {
	out := opts
	out.Root = root
	if root != opts.Root && len(opts.Sources) > 0 {
		out.Sources = map[string]string{}
		for ref, dir := range opts.Sources {
			if rel, ok := relInside(opts.Root, dir); ok {
				dir = filepath.Join(root, rel)
			}
			out.Sources[ref] = dir
		}
	}
	return out
}

// relInside is p relative to dir when p is dir or below it.
func relInside(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// noSuchEnv reports whether err is the usage error of an --env naming an
// environment the rendered tree lacks: one a revision adds or removes.
func noSuchEnv(err error) bool {
	var ru *render.UsageError
	if errors.As(err, &ru) {
		return strings.HasPrefix(ru.Msg, "--env ")
	}
	return isUsage(err) && strings.Contains(err.Error(), "--"+flagEnv+" ")
}
