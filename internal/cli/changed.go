package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/git"
)

// changedScope resolves --changed-since into the files changed below
// opts.Root. A change to something every check depends on (the config
// file, a --policy, --crd-dir or --rbac-dir directory in the repository)
// makes it a full run, said on stderr.
func (a *app) changedScope(ctx context.Context, opts *Options) error {
	if opts.ChangedSince == "" {
		return nil
	}
	ch, err := git.ChangedSince(ctx, opts.Root, opts.ChangedSince)
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
	for _, d := range opts.AdmissionDirs {
		global[d] = "--" + flagAdmissionDir + " " + d
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
