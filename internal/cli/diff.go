package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/diff"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/git"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

const (
	flagBase             = "base"
	flagHead             = "head"
	flagPromotionPreview = "promotion-preview"
)

// diffFlags are the flags of the diff command besides the common ones.
type diffFlags struct {
	base, head, format, promotion string
}

func newDiffCommand(a *app) *cobra.Command {
	fv := &flagValues{}
	df := &diffFlags{}
	cmd := &cobra.Command{
		Use:   "diff [PATH] --base REF [--head REF]",
		Short: "Show the rendered, per-environment difference between two git revisions",
		Long: `Diff renders the repository at PATH (default ".") at two git revisions and
prints, per environment and per Flux Kustomization, the objects that were
added, removed or changed, with a unified diff of each object's YAML. The
head defaults to the working tree. Revisions are read with git ls-tree and
git cat-file into a temporary directory: the working tree, index and refs
are never touched.

Secret data and stringData values are never printed: each is replaced by
"<masked>" when unchanged and "<masked: changed>" when changed or added.

--promotion-preview SRC:DST renders branch SRC and branch DST (the local
branch, else origin/NAME) and diffs the environments whose GitRepository
follows DST (all environments if none declares a branch): what merging SRC
into DST would change on those clusters.

Exit codes: 0 the diff was shown (changes are information, not a failure),
2 usage error (e.g. unknown revision), 3 internal error.`,
		Example: `  gitops-lint diff --base origin/main
  gitops-lint diff --base main --head feature --format markdown > comment.md
  gitops-lint diff --promotion-preview dev:test --env test`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.diff(cmd, fv, df, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&df.base, flagBase, "", "compare against the git revision `REF` (branch, tag or commit)")
	fs.StringVar(&df.head, flagHead, "", "the git revision `REF` to compare (default: the working tree)")
	fs.StringVar(&df.format, flagFormat, string(report.FormatText), "output format `F`: "+report.Diff.Choices())
	fs.StringVar(&df.promotion, flagPromotionPreview, "", "`SRC:DST`: preview promoting branch SRC into branch DST for DST's environments")
	addCommonFlags(fs, fv)
	fs.SortFlags = false
	return cmd
}

func (a *app) diff(cmd *cobra.Command, fv *flagValues, df *diffFlags, args []string) error {
	ctx := cmd.Context()
	printer, err := report.Diff.New(df.format, report.WithColor(a.colorStdout()))
	if err != nil {
		return finding.Usagef("--%s %q: diff writes %s", flagFormat, df.format, report.Diff.Choices())
	}
	var src, dst string
	if df.promotion != "" {
		if df.base != "" || df.head != "" {
			return finding.Usagef("--%s cannot be combined with --%s or --%s", flagPromotionPreview, flagBase, flagHead)
		}
		var ok bool
		src, dst, ok = strings.Cut(df.promotion, ":")
		if !ok || src == "" || dst == "" || strings.Contains(dst, ":") {
			return finding.Usagef("--%s %q: want SRC:DST, e.g. dev:test", flagPromotionPreview, df.promotion)
		}
	} else if df.base == "" {
		return finding.Usagef("diff needs --%s REF (or --%s SRC:DST)\nRun '%s --help' for usage.", flagBase, flagPromotionPreview, cmd.CommandPath())
	}
	opts, err := a.options(cmd, fv, args, false)
	if err != nil {
		return err
	}

	rep := &diff.Report{}
	var baseTree, headTree *git.Tree
	defer func() {
		baseTree.Close()
		headTree.Close()
	}()
	if df.promotion != "" {
		dstRef, _, err := git.ResolveBranch(ctx, opts.Root, dst)
		if err != nil {
			return err
		}
		srcRef, _, err := git.ResolveBranch(ctx, opts.Root, src)
		if err != nil {
			return err
		}
		if baseTree, err = git.Materialize(ctx, opts.Root, dstRef); err != nil {
			return err
		}
		if headTree, err = git.Materialize(ctx, opts.Root, srcRef); err != nil {
			return err
		}
		rep.Promotion = df.promotion
		rep.Base, rep.Head = shortRef(dstRef), shortRef(srcRef)
	} else {
		if baseTree, err = git.Materialize(ctx, opts.Root, df.base); err != nil {
			return err
		}
		rep.Base = df.base
		if df.head != "" {
			if headTree, err = git.Materialize(ctx, opts.Root, df.head); err != nil {
				return err
			}
			rep.Head = df.head
		}
	}
	rep.BaseCommit = baseTree.Commit
	headRoot := opts.Root
	if headTree != nil {
		rep.HeadCommit = headTree.Commit
		headRoot = headTree.Root
	}

	stop := a.progress("rendering " + displayPath(opts.Root) + " at " + rep.Base)
	baseRes, err := a.renderSide(ctx, opts, baseTree.Root)
	stop()
	if err != nil {
		return err
	}
	stop = a.progress("rendering " + displayPath(opts.Root))
	headRes, err := a.renderSide(ctx, opts, headRoot)
	stop()
	if err != nil {
		return err
	}

	filter, err := diffEnvFilter(opts, baseRes, headRes, dst)
	if err != nil {
		return err
	}
	d, err := diff.Compare(baseRes, headRes, filter)
	if err != nil {
		return err
	}
	d.Tool = diff.Tool{Name: toolName, Version: Version()}
	d.Base, d.BaseCommit, d.Head, d.HeadCommit, d.Promotion = rep.Base, rep.BaseCommit, rep.Head, rep.HeadCommit, rep.Promotion

	var out bytes.Buffer
	if err := printer.Write(&out, d); err != nil {
		return err
	}
	if _, err := a.stdout.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	a.exitCode = finding.ExitOK
	return nil
}

// shortRef drops refs/heads/ and refs/remotes/ from a ref for display.
func shortRef(ref string) string {
	if s, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		return s
	}
	if s, ok := strings.CutPrefix(ref, "refs/remotes/"); ok {
		return s
	}
	return ref
}

// renderSide renders one side of a diff: opts with Root replaced by root.
// Sources inside the repository are mapped into root too, since their
// content is part of the revision. An environment named by --env that the
// side lacks (added or removed between the revisions) is not an error here.
func (a *app) renderSide(ctx context.Context, opts Options, root string) (*render.Result, error) {
	ro := onTree(opts, root).RenderOptions()
	res, err := a.renderFn(ctx, ro)
	if len(ro.Environments) > 0 && noSuchEnv(err) {
		ro.Environments = nil
		res, err = a.renderFn(ctx, ro)
	}
	if err != nil {
		if isUsage(err) {
			return nil, err
		}
		return nil, fmt.Errorf("render %s: %w", displayPath(root), err)
	}
	if res == nil {
		return nil, errors.New("render returned no result and no error")
	}
	return res, nil
}

// diffEnvFilter keeps the --env environments (each must exist on a side)
// and, for a promotion preview to branch dst, the environments following
// dst (all of them if no environment declares a branch).
func diffEnvFilter(opts Options, base, head *render.Result, dst string) (func(string) bool, error) {
	names := map[string]bool{}
	branches := map[string]string{}
	anyBranch := false
	for _, res := range []*render.Result{base, head} {
		for _, e := range res.Environments {
			names[e.Name] = true
			if e.Branch != "" {
				anyBranch = true
				if branches[e.Name] == "" || e.Branch == dst {
					branches[e.Name] = e.Branch
				}
			}
		}
	}
	for _, n := range opts.Environments {
		if !names[n] {
			return nil, finding.Usagef("--%s %s: no such environment at either revision in %s", flagEnv, n, displayPath(opts.Root))
		}
	}
	return func(name string) bool {
		if len(opts.Environments) > 0 && !slices.Contains(opts.Environments, name) {
			return false
		}
		if dst != "" && anyBranch && branches[name] != dst {
			return false
		}
		return true
	}, nil
}
