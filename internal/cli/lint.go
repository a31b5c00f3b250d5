package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gitops-lint/gitops-lint/internal/config"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/converge"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/policy"
	"github.com/gitops-lint/gitops-lint/internal/promote"
	"github.com/gitops-lint/gitops-lint/internal/rbacsim"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/report"
	"github.com/gitops-lint/gitops-lint/internal/schema"
)

// Checker finds problems in a render result. All checkers of a run get the
// same result, concurrently, and must treat it as read-only. A checker never
// prints and never aborts the run: whatever it finds, including files it
// cannot read, is a finding. Order does not matter: findings are sorted after.
type Checker interface {
	Check(ctx context.Context, res *render.Result) []finding.Finding
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context, res *render.Result) []finding.Finding

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, res *render.Result) []finding.Finding {
	return f(ctx, res)
}

// newCheckers builds the checkers of a lint run from its options.
//
// ADD CHECKERS HERE: append each one (schema, rbac, flux, duplicate,
// sealedsecret, policy, …) to the returned slice. An error (say, a policy
// directory that does not compile) should be a finding.UsageError when the
// user can fix it.
func newCheckers(opts Options) ([]Checker, error) {
	sc, err := schema.Load(schema.Options{KubernetesVersion: opts.KubernetesVersion, CRDDirs: opts.CRDDirs, FileBytes: opts.Limits.Or().FileBytes, Budget: opts.Budget, Workers: opts.Workers})
	if err != nil {
		return nil, err
	}
	rc, err := rbacsim.Load(rbacsim.Options{RBACDirs: opts.RBACDirs, FileBytes: opts.Limits.Or().FileBytes, Budget: opts.Budget})
	if err != nil {
		return nil, err
	}
	pe, err := policy.Load(context.Background(), policy.Options{Dirs: opts.PolicyDirs, NoBuiltin: opts.NoBuiltinPolicies, Namespaces: opts.PolicyNamespaces, AllNamespaces: opts.AllPolicyNamespaces, Workers: opts.Workers, Params: opts.PolicyParams(), Limits: opts.Limits, Budget: opts.Budget})
	if err != nil {
		return nil, err
	}
	pc := promote.Checker{Options: promote.Options{Root: opts.Root, Chain: opts.Promotion, ChainFrom: opts.PromotionFrom, Env: opts.Environ}}
	return []Checker{sc, rc, pe, pc, converge.Checker{}}, nil
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
	if lint {
		if err := resolveOutput(in, &opts); err != nil {
			return Options{}, err
		}
		for _, s := range opts.Formats {
			if s.Root != "" && promote.Tracked(cmd.Context(), s.Root, s.Rel) {
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

// lint is the pipeline: resolve options → render → check → sort → summary
// (computed once) → every report.
func (a *app) lint(cmd *cobra.Command, fv *flagValues, args []string) error {
	ctx := cmd.Context()
	start := time.Now()
	opts, err := a.options(cmd, fv, args, true)
	if err != nil {
		return err
	}
	// Checkers load their data (schema catalogs, CRDs) while git lists
	// the changes and the repository renders.
	type prepared struct {
		checkers []Checker
		err      error
	}
	ready := make(chan prepared, 1)
	go func(opts Options) {
		cs, err := a.checkers(opts)
		ready <- prepared{cs, err}
	}(opts)
	if opts.ChangedSince != "" && opts.Platform == "" {
		render.Prefetch(opts.Root) // while git lists the changes
	}
	if err := a.changedScope(ctx, &opts); err != nil {
		render.CancelPrefetch(opts.Root)
		return err
	}

	stop := a.progress("linting " + displayPath(opts.Root))
	res, err := a.renderRepo(ctx, opts)
	p := <-ready
	if p.err != nil {
		stop()
		return p.err
	}
	if err != nil {
		stop()
		return err
	}
	checked, err := runCheckers(ctx, p.checkers, res)
	stop()
	if err != nil {
		return err
	}

	all, suppressed := finding.Apply(append(slices.Clone(res.Findings), checked...), opts.Rules, opts.Ignore, ignoreAnnotations(res))
	all, unchanged := keepChanged(res, all, opts.Changed)
	if opts.Shards > 1 {
		all = slices.DeleteFunc(all, func(f finding.Finding) bool { return finding.ShardOf(f, opts.Shards) != opts.Shard })
	}
	findings := finding.Sort(all)
	summary := summarize(res, findings, time.Since(start))
	summary.Suppressed = suppressed
	summary.Unchanged = unchanged
	a.exitCode = finding.ExitCode(findings, opts.FailOn)
	rules := finding.Rules()
	for _, c := range p.checkers {
		if pe, ok := c.(*policy.Engine); ok {
			rules = append(rules, pe.Rules()...)
		}
	}
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
	}
	return a.writeReports(opts.Formats, opts.Limits.Or().ReportBytes, rep)
}

// renderRepo renders and keeps only the requested environments (whether or
// not render already did), failing on a requested one that does not exist.
func (a *app) renderRepo(ctx context.Context, opts Options) (*render.Result, error) {
	res, err := a.renderFn(ctx, opts.RenderOptions())
	if err != nil {
		if isUsage(err) {
			return nil, err
		}
		// Anything else is ours: render turns the repository's problems
		// into findings, so an error is a bug (exit 3).
		return nil, fmt.Errorf("render %s: %w", displayPath(opts.Root), err)
	}
	if res == nil {
		return nil, errors.New("render returned no result and no error")
	}
	if len(opts.Environments) == 0 {
		return res, nil
	}
	found := map[string]bool{}
	res.Environments = slices.DeleteFunc(res.Environments, func(e *render.Environment) bool {
		keep := slices.Contains(opts.Environments, e.Name)
		found[e.Name] = found[e.Name] || keep
		return !keep
	})
	res.Findings = slices.DeleteFunc(res.Findings, func(f finding.Finding) bool {
		return f.Environment != "" && !slices.Contains(opts.Environments, f.Environment)
	})
	for _, name := range opts.Environments {
		if !found[name] {
			return nil, finding.Usagef("--%s %s: no such environment in %s", flagEnv, name, displayPath(opts.Root))
		}
	}
	return res, nil
}

// runCheckers runs every checker concurrently. A panicking checker is a bug
// and fails the run (exit 3) rather than silently dropping its findings.
func runCheckers(ctx context.Context, checkers []Checker, res *render.Result) ([]finding.Finding, error) {
	out := make([][]finding.Finding, len(checkers))
	errs := make([]error, len(checkers))
	var wg sync.WaitGroup
	for i, c := range checkers {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("checker %T panicked: %v\n%s", c, r, debug.Stack())
				}
			}()
			out[i] = c.Check(ctx, res)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.Concat(out...), nil
}

// summarize is the one place the summary is computed; reporters only print it.
func summarize(res *render.Result, fs []finding.Finding, d time.Duration) finding.Summary {
	s := finding.Summary{Environments: len(res.Environments), DurationMs: d.Milliseconds()}
	for _, e := range res.Environments {
		s.Kustomizations += len(e.Kustomizations)
		for _, k := range e.Kustomizations {
			s.Objects += len(k.Objects)
		}
	}
	s.Count(fs)
	return s
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
	f, err := r.OpenFile(filepath.FromSlash(s.Rel), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o644)
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
					fmt.Fprint(a.stderr, "\r\x1b[K")
				}
				return
			case now := <-t.C:
				fmt.Fprintf(a.stderr, "\r\x1b[K%s… %ds", label, int(now.Sub(start).Seconds()))
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
