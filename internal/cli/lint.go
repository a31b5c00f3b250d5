package cli

import (
	"bytes"
	"context"
	"fmt"
	"github.com/gitops-lint/gitops-lint/internal/charts"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/config"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/converge"
	"github.com/gitops-lint/gitops-lint/internal/diskcache"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/git"
	"github.com/gitops-lint/gitops-lint/internal/lint"
	"github.com/gitops-lint/gitops-lint/internal/pool"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
)

// Checker and CheckerFunc are the engine's (internal/lint).
type (
	Checker     = lint.Checker
	CheckerFunc = lint.CheckerFunc
)

// newCheckers builds the registered checkers of a lint run from its options.
func newCheckers(opts Options) ([]Checker, error) {
	return lint.NewCheckers(lint.Settings{
		Root: opts.Root, KubernetesVersion: opts.KubernetesVersion,
		CRDDirs: opts.CRDDirs, RBACDirs: opts.RBACDirs, AdmissionDirs: opts.AdmissionDirs,
		PolicyDirs: opts.PolicyDirs, NoBuiltinPolicies: opts.NoBuiltinPolicies,
		PolicyNamespaces: opts.PolicyNamespaces, AllPolicyNamespaces: opts.AllPolicyNamespaces,
		PolicyParams: opts.PolicyParams(),
		Promotion:    opts.Promotion, PromotionFrom: opts.PromotionFrom,
		Environ: opts.Environ, Workers: opts.Workers,
		Limits: opts.Limits, Budget: opts.Budget, CPU: opts.CPU,
		Provides: provides(opts.Provides),
	})
}

// provides converts the config's provides entries for the converge checker.
func provides(ps []config.Provide) []converge.Provide {
	var out []converge.Provide
	for _, p := range ps {
		out = append(out, converge.Provide{Group: p.Group, Kind: p.Kind, Produces: converge.Produced(p.Produces)})
	}
	return out
}

func newLintCommand(a *app) *cobra.Command {
	fv := &flagValues{}
	cmd := &cobra.Command{
		Use:   "lint [PATH]",
		Short: "Lint the repository at PATH (the default command)",
		Long: `Lint renders every environment of the Flux repository at PATH (default ".")
and reports what kustomize-controller would fail on, with the file and line
to fix.

` + settingsHelp,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.lint(cmd, fv, args)
		},
	}
	addLintFlags(cmd.Flags(), fv)
	return cmd
}

// options resolves the settings of a lint or render command: PATH, the
// config file, then flag > environment > file > default.
func (a *app) options(cmd *cobra.Command, fv *flagValues, args []string, lint bool) (Options, error) {
	root, err := repoPath(cmd, args)
	if err != nil {
		return Options{}, err
	}
	in := inputs{flags: *fv, set: setFlags(cmd.Flags()), env: a.env}
	path, none, err := configChoice(in)
	if err != nil {
		return Options{}, err
	}
	if !none {
		if path == "" {
			found, err := config.Find(root)
			if err != nil {
				return Options{}, finding.Usagef("%w", err)
			}
			if found != "" {
				path = displayPath(found)
			}
		}
		if path != "" {
			if in.file, err = config.Load(path); err != nil {
				return Options{}, err
			}
			if err := in.file.Confine(trustDirs(in)); err != nil {
				return Options{}, err
			}
		}
	}
	opts, err := resolve(in)
	if err != nil {
		return Options{}, err
	}
	opts.Root = root
	opts.Budget = confine.NewBudget(opts.Limits.Or().TotalBytes, confine.LimitTotalBytes)
	dir, err := charts.CacheDir(opts.ChartCache, func(k string) string { return a.env[k] })
	if err != nil {
		return Options{}, finding.Usagef("--%s: %w", flagChartCache, err)
	}
	if opts.Charts, err = charts.Open(root, dir, charts.Limits{Budget: opts.Budget}); err != nil {
		return Options{}, finding.Usagef("%w", err)
	}
	if opts.CacheDir != "" {
		if opts.Cache, err = diskcache.Open(opts.CacheDir, cacheIdentity(), 0); err != nil {
			return Options{}, finding.Usagef("--%s: %w", flagCacheDir, err)
		}
		a.caches = append(a.caches, opts.Cache)
	}
	opts.CPU = pool.NewLimiter(opts.Workers)
	if lint {
		if err := resolveOutput(in, &opts); err != nil {
			return Options{}, err
		}
		for _, s := range opts.Formats {
			if s.Root != "" && git.Tracked(cmd.Context(), s.Root, s.Rel) {
				return Options{}, in.file.Errorf(config.KeyFormat, "%s: %s is a file git tracks; a report file named in the config never overwrites a tracked file", config.KeyFormat, s.Rel)
			}
		}
	}
	if err := checkDirs(&opts); err != nil {
		return Options{}, err
	}
	return opts, nil
}

// repoPath is the absolute PATH argument (default "."), which must be a
// directory.
func repoPath(cmd *cobra.Command, args []string) (string, error) {
	p := "."
	if len(args) > 0 {
		p = args[0]
	}
	abs, err := existingDir(p)
	if err == nil {
		return abs, nil
	}
	// "gitops-lint rulse" lands here as a PATH: point at the command.
	if !cmd.HasParent() && !strings.ContainsAny(p, `/\.`) {
		if s := cmd.SuggestionsFor(p); len(s) > 0 {
			return "", finding.Usagef("%w (did you mean the %q command?)", err, s[0])
		}
		return "", finding.Usagef("%w (PATH is the repository to lint; run '%s --help' for the commands)", err, cmd.CommandPath())
	}
	return "", finding.Usagef("%w", err)
}

// lint is the pipeline: resolve options → the known findings (--baseline,
// --new-from-rev) → render → check → process → summary (computed once) →
// every report.
func (a *app) lint(cmd *cobra.Command, fv *flagValues, args []string) error {
	ctx := cmd.Context()
	start := time.Now()
	opts, err := a.options(cmd, fv, args, true)
	if err != nil {
		return err
	}
	known, err := a.knownFindings(ctx, opts)
	if err != nil {
		return err
	}
	r, err := a.runLint(ctx, opts, known, "linting "+displayPath(opts.Root))
	if err != nil {
		return err
	}
	if err := checkRuleIDs(opts.Config, r.Rules); err != nil {
		return err
	}
	if len(r.Render.Environments) == 0 && len(r.Findings) == 0 && !r.Render.ChangedOnly && opts.Shards <= 1 {
		// Nothing to lint is not a pass: a wrong PATH must not look green.
		return finding.Usagef("%s holds no Flux environment: gitops-lint looked for flux bootstrap syncs (a GitRepository and Kustomization in */flux-system), Flux Operator FluxInstances, Flux Kustomizations and kustomize overlays (kustomization.yaml); declare environments: in .gitops-lint.yaml if yours are elsewhere", displayPath(opts.Root))
	}
	res, findings := r.Render, r.Findings
	summary := summarize(res, findings, time.Since(start))
	summary.Suppressed = r.Suppressed
	summary.Unchanged = r.Unchanged
	a.exitCode = finding.ExitCode(findings, opts.FailOn)
	rules := r.Rules
	var envs []report.Environment
	for _, e := range res.Environments {
		ks := make([]string, 0, len(e.Kustomizations))
		for _, k := range e.Kustomizations {
			ks = append(ks, k.ID())
		}
		envs = append(envs, report.Environment{Name: e.Name, Kustomizations: ks})
	}
	rep := &report.Report{
		Tool:         report.Tool{Name: toolName, Version: Version()},
		Summary:      summary,
		Findings:     findings,
		Rules:        rules,
		Environments: envs,
		Repository:   filepath.Base(opts.Root),
		Failed:       a.exitCode == finding.ExitFindings,
		Prefix:       git.Prefix(ctx, opts.Root),
		Compared:     known != nil,
	}
	return a.writeReports(opts.Formats, opts.Limits.Or().ReportBytes, rep)
}

// runLint runs the engine over opts; the findings whose fingerprints known
// holds are marked baseline. label is what the progress line says.
func (a *app) runLint(ctx context.Context, opts Options, known map[string]bool, label string) (*lint.Result, error) {
	stop := func() {}
	defer func() { stop() }()
	checkerOpts := opts // the checkers load concurrently; scope changes opts
	return lint.Run(ctx, lint.Config{
		Scope: func(ctx context.Context) (lint.Scope, error) {
			var pre *render.Prefetched
			if opts.ChangedSince != "" && opts.Platform == "" {
				pre = render.Prefetch(opts.Root) // while git lists the changes
			}
			if err := a.changedScope(ctx, &opts); err != nil {
				return lint.Scope{}, err
			}
			stop = a.progress(label)
			ro := opts.RenderOptions()
			ro.Prefetched = pre
			return lint.Scope{Render: ro, Changed: opts.Changed}, nil
		},
		Render:       a.renderFn,
		Checkers:     func() ([]lint.Checker, error) { return a.checkers(checkerOpts) },
		Environments: opts.Environments,
		Where:        displayPath(opts.Root),
		Rules:        opts.Rules,
		Ignore:       opts.Ignore,
		Shard:        opts.Shard,
		Shards:       opts.Shards,
		Known:        known,
	})
}

// renderRepo renders the scope of opts, for the commands that render
// without checking.
func (a *app) renderRepo(ctx context.Context, opts Options) (*render.Result, error) {
	return lint.RenderScope(ctx, lint.Config{Render: a.renderFn, Environments: opts.Environments, Where: displayPath(opts.Root)}, lint.Scope{Render: opts.RenderOptions()})
}

// summarize is the one place the summary is computed; reporters only print it.
func summarize(res *render.Result, fs []finding.Finding, d time.Duration) finding.Summary {
	s := finding.Summary{Environments: len(res.Environments), DurationMs: d.Milliseconds()}
	for _, e := range res.Environments {
		for _, k := range e.Kustomizations {
			countUnit(&s, k)
		}
	}
	s.Count(fs)
	return s
}

// countUnit adds a rendered unit to the summary: a Flux Kustomization or a
// HelmRelease's release, and its objects.
func countUnit(s *finding.Summary, k *render.Kustomization) {
	if k.Kind == render.KindHelmRelease {
		s.HelmReleases++
	} else {
		s.Kustomizations++
	}
	s.Objects += len(k.Objects)
}

// writeReports writes each format: files first (never coloured), then the
// one that goes to stdout.
func (a *app) writeReports(specs []FormatSpec, limit int64, rep *report.Report) error {
	var toStdout []FormatSpec
	for _, s := range specs {
		if s.File == "" {
			toStdout = append(toStdout, s)
			continue
		}
		w, err := report.New(string(s.Format), report.WithStepSummary(a.env["GITHUB_STEP_SUMMARY"]), report.WithLimit(limit))
		if err != nil {
			return finding.Usagef("--%s %s: %w", flagFormat, s.Format, err)
		}
		var buf bytes.Buffer
		if err := w.Write(&buf, rep); err != nil {
			return err
		}
		if err := writeReportFile(s, buf.Bytes()); err != nil {
			return finding.Usagef("write %s report: %w", s.Format, err)
		}
	}
	for _, s := range toStdout {
		w, err := report.New(string(s.Format), report.WithColor(a.colorStdout()), report.WithStepSummary(a.env["GITHUB_STEP_SUMMARY"]), report.WithLimit(limit))
		if err != nil {
			return finding.Usagef("--%s %s: %w", flagFormat, s.Format, err)
		}
		if err := w.Write(a.stdout, rep); err != nil {
			return err
		}
	}
	return nil
}

// writeReportFile writes one report. A destination from the command line
// or the environment is the CI owner's: its directory is created. One from
// the config file was checked by config.File.Confine and is written inside
// the repository only, never through a symbolic link, into a directory that
// exists.
func writeReportFile(s FormatSpec, data []byte) error {
	if s.Root == "" {
		if err := os.MkdirAll(filepath.Dir(s.File), 0o755); err != nil {
			return err
		}
		return os.WriteFile(s.File, data, 0o644)
	}
	r, err := os.OpenRoot(s.Root)
	if err != nil {
		return err
	}
	defer r.Close()
	if st, err := r.Lstat(filepath.FromSlash(s.Rel)); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", s.Rel)
	}
	f, err := r.OpenFile(filepath.FromSlash(s.Rel), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|noFollow, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// progress shows "label… 3s" on stderr while a run lasts more than a
// second, only when stderr is a terminal; stop clears the line.
func (a *app) progress(label string) (stop func()) {
	if !a.stderrTTY {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		shown := false
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprint(a.stderr, report.EraseLine)
				}
				return
			case now := <-t.C:
				fmt.Fprintf(a.stderr, "%s%s… %ds", report.EraseLine, label, int(now.Sub(start).Seconds()))
				shown = true
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// checkRuleIDs refuses a config that configures or ignores a rule nothing
// reports (exit 2, at the file's line): the rules of the run, and the
// built-in policies' even when --no-builtin-policies left them out.
func checkRuleIDs(cfg *config.File, rules []finding.Rule) error {
	if cfg == nil || cfg.CheckRuleIDs(rules) == nil {
		return nil
	}
	all, err := allRules()
	if err != nil {
		return err
	}
	if err := cfg.CheckRuleIDs(append(rules, all...)); err != nil {
		return finding.Usagef("%w", err)
	}
	return nil
}
