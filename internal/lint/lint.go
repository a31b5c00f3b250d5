// Package lint is the engine of a lint run: it renders the repository,
// runs every checker of the run on the result, then passes the findings
// through an ordered chain of processors (environment scope, the config's
// severities and suppressions with inline ignores, --changed-since,
// --shard, sort) — golangci-lint's issues → processors → printers shape.
// The CLI resolves settings before it and writes reports after it; the
// checkers never print and never see each other.
package lint

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
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

// Warmer is a checker with work it can do before there is anything to
// check (compiling what the repository's kinds need), on the CPU the first
// builds of a render leave free. Warm gets the kinds the repository's files
// declare, the likeliest first, and returns when ctx ends; what it did not
// do is done on demand. It must not change any result.
type Warmer interface {
	Warm(ctx context.Context, kinds []render.TypeMeta)
}

// RuleSource is a checker whose rules are known only once it is loaded
// (Rego policies); their metadata joins the report's rule list.
type RuleSource interface {
	Rules() []finding.Rule
}

// Scope is what a run renders: the render options, and the files a
// --changed-since run is about (nil: everything).
type Scope struct {
	Render  render.Options
	Changed []string
}

// Config is one lint run.
type Config struct {
	// Scope decides what to render. It may start reading the repository
	// (render.Prefetch) while slow work (git listing changed files) runs.
	Scope func(ctx context.Context) (Scope, error)
	// Render renders the repository (render.Render; replaced in tests).
	Render func(context.Context, render.Options) (*render.Result, error)
	// Checkers builds the checkers of the run; it runs concurrently with
	// Render, from the moment the repository is read (Options.Indexed).
	Checkers func() ([]Checker, error)
	// Environments limits the run to these environments; naming one the
	// repository does not have is a usage error.
	Environments []string
	// Where names the repository in messages.
	Where string
	// Rules and Ignore are the config file's rule settings and suppressions.
	Rules  map[string]finding.RuleSetting
	Ignore []finding.IgnoreEntry
	// Shard and Shards select this run's share (--shard I/N; 0: unsharded).
	Shard, Shards int
	// Known holds the fingerprints of findings already known (--baseline,
	// --new-from-rev): those are marked Baseline and do not fail.
	Known map[string]bool
}

// Result is what a run found.
type Result struct {
	// Render is the render result, narrowed to the run's scope.
	Render *render.Result
	// Findings are every finding kept, sorted in the contract's order.
	Findings []finding.Finding
	// Rules is the metadata of every rule of the run (Go rules, then the
	// rules of the loaded policies).
	Rules []finding.Rule
	// Suppressed counts findings the config or inline ignores dropped;
	// Unchanged the Kustomizations a --changed-since run left out;
	// Baseline the findings marked known.
	Suppressed, Unchanged, Baseline int
}

// Run renders, checks and processes. An error is a usage error (exit 2)
// when it is the user's to fix, otherwise a bug (exit 3): the repository's
// own problems are findings, never errors.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	type prepared struct {
		checkers []Checker
		err      error
	}
	// The checkers load, then warm up, while render builds: reading the
	// repository, which every build waits for, has the CPUs to itself
	// (the first builds of a tree are few and leave CPUs free).
	ready := make(chan prepared, 1)
	warmCtx, stopWarm := context.WithCancel(ctx)
	var warming sync.WaitGroup
	defer func() {
		stopWarm()
		warming.Wait()
	}()
	var once sync.Once
	start := func(kinds []render.TypeMeta) {
		once.Do(func() {
			warming.Go(func() {
				cs, err := cfg.Checkers()
				ready <- prepared{cs, err}
				for _, c := range cs {
					if w, ok := c.(Warmer); ok && err == nil {
						w.Warm(warmCtx, kinds)
					}
				}
			})
		})
	}
	scope, err := cfg.Scope(ctx)
	if err != nil {
		return nil, err
	}
	scope.Render.Needs = Needs()
	scope.Render.Indexed = func(x *render.Index) { start(x.Kinds(scope.Changed)) }
	res, err := RenderScope(ctx, cfg, scope)
	start(nil)
	p := <-ready
	if p.err != nil {
		return nil, p.err
	}
	if err != nil {
		return nil, err
	}
	stopWarm() // the checks compile what they need themselves
	checked, err := RunCheckers(ctx, p.checkers, res)
	if err != nil {
		return nil, err
	}
	out := &Result{Render: res, Rules: Rules()}
	for _, c := range p.checkers {
		if rs, ok := c.(RuleSource); ok {
			out.Rules = append(out.Rules, rs.Rules()...)
		}
	}
	chain := processors(cfg, scope, res, out)
	fs := append(slices.Clone(res.Findings), checked...)
	for _, p := range chain {
		fs = p(fs)
	}
	out.Findings = fs
	return out, nil
}

// RenderScope renders and keeps only the requested environments (whether
// or not render already did), failing on a requested one that does not
// exist. Commands that render without checking (render, can-i) use it too.
func RenderScope(ctx context.Context, cfg Config, scope Scope) (*render.Result, error) {
	res, err := cfg.Render(ctx, scope.Render)
	if err != nil {
		var ru *render.UsageError
		if finding.IsUsage(err) || errors.As(err, &ru) {
			return nil, err
		}
		// Anything else is ours: render turns the repository's problems
		// into findings, so an error is a bug (exit 3).
		return nil, fmt.Errorf("render %s: %w", cfg.Where, err)
	}
	if res == nil {
		return nil, errors.New("render returned no result and no error")
	}
	if len(cfg.Environments) == 0 {
		return res, nil
	}
	found := map[string]bool{}
	res.Environments = slices.DeleteFunc(res.Environments, func(e *render.Environment) bool {
		keep := slices.Contains(cfg.Environments, e.Name)
		found[e.Name] = found[e.Name] || keep
		return !keep
	})
	res.Findings = slices.DeleteFunc(res.Findings, func(f finding.Finding) bool {
		return f.Environment != "" && !slices.Contains(cfg.Environments, f.Environment)
	})
	for _, name := range cfg.Environments {
		if !found[name] {
			return nil, finding.Usagef("--env %s: no such environment in %s", name, cfg.Where)
		}
	}
	return res, nil
}

// RunCheckers runs every checker concurrently. A panicking checker is a bug
// and fails the run (exit 3) rather than silently dropping its findings.
func RunCheckers(ctx context.Context, checkers []Checker, res *render.Result) ([]finding.Finding, error) {
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
