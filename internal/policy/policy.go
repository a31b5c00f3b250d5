// Package policy runs Rego policies (OPA) against every rendered object:
// gitops-lint's built-in library and the user's own, with conftest's
// conventions so existing policies run unmodified.
package policy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/pool"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/policies"
)

// Options select the policies of a run.
type Options struct {
	// Dirs hold the user's policies (.rego files, _test.rego excluded).
	Dirs []string
	// NoBuiltin drops the built-in library.
	NoBuiltin bool
	// Namespaces are the packages of the user's policies to run
	// (conftest's --namespace; default "main").
	Namespaces []string
	// AllNamespaces runs every package of the user's policies.
	AllNamespaces bool
	// Params are passed to policies as data.gitops_lint.params.
	Params  map[string]any
	Workers int
	// CPU is the run's limiter (nil: Workers slots of its own).
	CPU *pool.Limiter
	// Limits bound the run: FileBytes each policy file, PolicyTime each
	// evaluation (0: none). The zero Limits are confine.Defaults().
	Limits confine.Limits
	// Budget is the run's shared total-bytes budget that policy files are
	// charged to (nil: unlimited).
	Budget *confine.Budget
}

// limits are opts.Limits, or the defaults when unset.
func (opts Options) limits() confine.Limits {
	if opts.Limits == (confine.Limits{}) {
		return confine.Defaults()
	}
	return opts.Limits
}

// Rule is one Rego rule that reports findings.
type Rule struct {
	finding.Rule
	Package string // data path, e.g. "main" or "gitopslint.no_loadbalancer"
	Name    string // rule name, e.g. "deny_no_lb"
	Combine bool   // input is every object of an environment
}

// Engine holds the compiled policies.
type Engine struct {
	rules    []Rule
	single   *querySet
	combined *querySet
	params   map[string]any
	workers  int
	cpu      *pool.Limiter
	limit    time.Duration // policy-time of one evaluation (0: none)
	evals    *workerPool
}

// builtinPrefix is the package prefix of the built-in library.
const builtinPrefix = "gitopslint."

// Load parses and compiles the policies. The user's directories are
// repository content: their files are read confined to each directory and
// within opts.Limits and opts.Budget, and every policy is compiled without
// the builtins that reach the network, the clock, randomness or the
// process (DisallowedBuiltins). A refused file or builtin is a usage error.
func Load(ctx context.Context, opts Options) (*Engine, error) {
	var modules []*ast.Module
	if !opts.NoBuiltin {
		ms, err := parseFS(policies.FS, ".", "builtin")
		if err != nil {
			return nil, fmt.Errorf("built-in policies: %w", err)
		}
		modules = append(modules, ms...)
	}
	limits := opts.limits()
	var user []*ast.Module
	for _, dir := range opts.Dirs {
		ms, err := parseDir(dir, limits.FileBytes, opts.Budget, false)
		if err != nil {
			return nil, finding.Usagef("--policy %s: %w", dir, err)
		}
		user = append(user, ms...)
	}
	modules = append(modules, user...)
	// OPA's compiler cannot be interrupted, and its type checker takes
	// time exponential in the nesting of a policy's values (a1 := [a0, a0],
	// a2 := [a1, a1], ...): it is given the policy-time too.
	return withDeadline(limits.PolicyTime, "compiling the policies", func() (*Engine, error) {
		return compile(ctx, modules, opts, limits)
	})
}

// compile compiles the modules and prepares the queries of their rules.
func compile(ctx context.Context, modules []*ast.Module, opts Options, limits confine.Limits) (*Engine, error) {
	namespaces := opts.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{"main"}
	}
	e := &Engine{params: opts.Params, workers: opts.Workers, cpu: opts.CPU, limit: limits.PolicyTime, evals: newWorkerPool()}
	if e.params == nil {
		e.params = map[string]any{}
	}
	compiler := ast.NewCompiler().WithCapabilities(capabilities()).WithEnablePrintStatements(false)
	compiler.Compile(moduleMap(modules))
	if compiler.Failed() {
		return nil, &finding.UsageError{Err: compileError(compiler.Errors)}
	}
	annotations := compiler.GetAnnotationSet()
	names := make([]string, 0, len(compiler.Modules))
	for name := range compiler.Modules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := compiler.Modules[name]
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		builtin := strings.HasPrefix(pkg, builtinPrefix)
		if !builtin && !opts.AllNamespaces && !slices.Contains(namespaces, pkg) {
			continue
		}
		var pkgMeta *ast.Annotations
		if annotations != nil {
			if as := annotations.GetPackageScope(m.Package); as != nil {
				pkgMeta = as
			}
		}
		seen := map[string]bool{}
		for _, r := range m.Rules {
			name := r.Head.Name.String()
			if name == "" {
				name = r.Head.Ref().String()
			}
			sev, ok := severityOf(name)
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			rule := Rule{Package: pkg, Name: name}
			rule.Severity = sev
			rule.ID = defaultID(pkg, name)
			apply := func(a *ast.Annotations) {
				if a == nil {
					return
				}
				if a.Title != "" {
					rule.Help = a.Title
				}
				if a.Description != "" {
					rule.Help = strings.TrimSpace(strings.TrimSuffix(rule.Help+". "+a.Description, ". "))
					if a.Title == "" && rule.Help != "" {
						rule.Help = strings.TrimPrefix(rule.Help, ". ")
					}
				}
				if id, ok := a.Custom["id"].(string); ok && id != "" {
					rule.ID = id
				}
				if s, ok := a.Custom["severity"].(string); ok {
					if ps, err := finding.ParseSeverity(s); err == nil {
						rule.Severity = ps
					}
				}
				if rem, ok := a.Custom["remediation"].(string); ok {
					rule.Remediation = rem
				}
				if c, ok := a.Custom["combine"].(bool); ok {
					rule.Combine = c
				}
			}
			apply(pkgMeta)
			if annotations != nil {
				for _, a := range annotations.GetRuleScope(r) {
					apply(a)
				}
			}
			if rule.Help == "" {
				rule.Help = fmt.Sprintf("Rego rule %s.%s", pkg, name)
			}
			rule.ID = "policy/" + rule.ID
			e.rules = append(e.rules, rule)
		}
	}
	sort.Slice(e.rules, func(i, j int) bool { return e.rules[i].ID+e.rules[i].Name < e.rules[j].ID+e.rules[j].Name })
	var single, combined []int
	for i, r := range e.rules {
		if r.Combine {
			combined = append(combined, i)
		} else {
			single = append(single, i)
		}
	}
	var err error
	if e.single, err = newQuerySet(ctx, compiler, e.rules, single, "with data.gitops_lint as input.context with input as input.object"); err != nil {
		return nil, finding.Usagef("prepare policies: %w", err)
	}
	if e.combined, err = newQuerySet(ctx, compiler, e.rules, combined, "with data.gitops_lint as input.context with input as input.items"); err != nil {
		return nil, finding.Usagef("prepare policies: %w", err)
	}
	return e, nil
}

func moduleMap(ms []*ast.Module) map[string]*ast.Module {
	out := make(map[string]*ast.Module, len(ms))
	for i, m := range ms {
		name := fmt.Sprint(i)
		if m.Package.Location != nil {
			name = fmt.Sprintf("%s#%d", m.Package.Location.File, i)
		}
		out[name] = m
	}
	return out
}

// parseFS reads every .rego file of fsys (tests excluded). Rego v1 is
// tried first; a module that only parses as v0 (older conftest policies)
// is accepted as v0.
func parseFS(fsys fs.FS, root, label string) ([]*ast.Module, error) {
	var out []*ast.Module
	visit := parseEach(&out, label, false, func(p string) ([]byte, error) { return fs.ReadFile(fsys, p) })
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return visit(p, d)
	})
	return out, err
}

// parseDir reads the .rego files below the user's directory dir (with the
// _test.rego files when tests is set) through a confined root: a file that
// leaves dir, by a symbolic link or otherwise, a device, a FIFO, a file over
// fileLimit or over the run's budget is refused with an error naming it,
// never its content. Modules are named dir/rel.
func parseDir(dir string, fileLimit int64, budget *confine.Budget, tests bool) ([]*ast.Module, error) {
	root, err := confine.Open(dir, fileLimit, budget)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var out []*ast.Module
	err = root.Walk(parseEach(&out, dir, tests, root.ReadFile))
	return out, err
}

// parseEach is a walk's visit of the file p: a .rego file (a _test.rego
// one only when tests is set) is read with read, parsed as module
// label/p and appended to out; anything else is passed over.
func parseEach(out *[]*ast.Module, label string, tests bool, read func(p string) ([]byte, error)) func(p string, d fs.DirEntry) error {
	return func(p string, d fs.DirEntry) error {
		if d.IsDir() || path.Ext(p) != ".rego" || (!tests && strings.HasSuffix(p, "_test.rego")) {
			return nil
		}
		data, err := read(p)
		if err != nil {
			return err
		}
		m, err := parseModule(filepath.ToSlash(filepath.Join(label, p)), data)
		if err != nil {
			return err
		}
		*out = append(*out, m)
		return nil
	}
}

// severityOf applies conftest's naming: deny and violation rules fail,
// warn rules warn; a suffix names the rule (deny_no_lb).
func severityOf(name string) (finding.Severity, bool) {
	for prefix, sev := range map[string]finding.Severity{"deny": finding.Error, "violation": finding.Error, "warn": finding.Warning} {
		if name == prefix || strings.HasPrefix(name, prefix+"_") {
			return sev, true
		}
	}
	return "", false
}

func defaultID(pkg, name string) string {
	if pkg != "main" {
		parts := strings.Split(pkg, ".")
		return strings.ReplaceAll(parts[len(parts)-1], "_", "-")
	}
	return strings.ReplaceAll(name, "_", "-")
}

// Rules returns the metadata of every loaded rule.
func (e *Engine) Rules() []finding.Rule {
	var out []finding.Rule
	seen := map[string]bool{}
	for _, r := range e.rules {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r.Rule)
		}
	}
	return out
}

// objectContext is data.gitops_lint for one object.
func (e *Engine) objectContext(env *render.Environment, k *render.Kustomization, o *render.Object) map[string]any {
	sa := ""
	tenant := false
	if id, ok := identity.Of(env, k); ok {
		sa = id.Namespace + "/" + id.Name
		// A tenant is reconciled as its own identity from another
		// namespace than Flux's (giantswarm runs Flux's Kustomizations in
		// default, the reference layout in flux-system).
		tenant = k.Namespace != env.FluxNamespace()
	}
	return map[string]any{
		"environment":     env.Name,
		"branch":          env.Branch,
		"kustomization":   map[string]any{"name": k.Name, "namespace": k.Namespace, "kind": cmp.Or(k.Kind, "Kustomization")},
		"serviceAccount":  sa,
		"targetNamespace": k.TargetNamespace,
		"tenant":          tenant,
		"file":            o.File,
		"params":          e.params,
	}
}

type item struct {
	env *render.Environment
	k   *render.Kustomization
	o   *render.Object
	ctx map[string]any
	// raw is the item as Rego sees it ({object, context}); value is it in
	// OPA's value form (nil when it does not convert: raw is given then).
	raw   map[string]any
	value ast.Value
}

// convert prepares the item's input, converted to OPA's value form
// directly: rendered objects already hold JSON types (int64/float64), so
// OPA's JSON round trip of raw input is not needed.
func (it *item) convert() {
	it.raw = map[string]any{"object": it.o.Content, "context": it.ctx}
	if v, err := ast.InterfaceToValue(it.raw); err == nil {
		it.value = v
	}
}

// input is the item as the input of the rules of one object.
func (it *item) input() rego.EvalOption {
	if it.value == nil {
		return rego.EvalInput(it.raw)
	}
	return rego.EvalParsedInput(it.value)
}

// combinedInput is the input of the rules of all objects: the items and
// the environment's context.
func combinedInput(its []item, envCtx map[string]any) rego.EvalOption {
	terms := make([]*ast.Term, len(its))
	raw := make([]any, len(its))
	converted := true
	for i := range its {
		raw[i] = its[i].raw
		if its[i].value == nil {
			converted = false
			continue
		}
		terms[i] = ast.NewTerm(its[i].value)
	}
	ctxVal, err := ast.InterfaceToValue(envCtx)
	if !converted || err != nil {
		return rego.EvalInput(map[string]any{"items": raw, "context": envCtx})
	}
	return rego.EvalParsedInput(ast.NewObject(
		ast.Item(ast.StringTerm("items"), ast.NewTerm(ast.NewArray(terms...))),
		ast.Item(ast.StringTerm("context"), ast.NewTerm(ctxVal)),
	))
}

// Check evaluates the policies on every object of the render result.
func (e *Engine) Check(ctx context.Context, res *render.Result) []finding.Finding {
	defer e.evals.close()
	perEnv := map[*render.Environment][]item{}
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			for _, o := range k.Objects {
				perEnv[env] = append(perEnv[env], item{env: env, k: k, o: o, ctx: e.objectContext(env, k, o)})
			}
		}
	}
	// Each item is converted to OPA's value form once, for the rules of
	// one object and the rules of all (the conversion is most of an
	// evaluation's cost).
	var all, items []*item
	for _, env := range res.Environments {
		for i := range perEnv[env] {
			it := &perEnv[env][i]
			all = append(all, it)
			if !it.k.Unchanged { // --changed-since: judged only for the others' sake
				items = append(items, it)
			}
		}
	}
	pool.Each(ctx, pool.Or(e.cpu, e.workers), len(all), func(i int) { all[i].convert() })
	var out []finding.Finding
	if e.single != nil {
		results := make([][]finding.Finding, len(items))
		pool.Each(ctx, pool.Or(e.cpu, e.workers), len(items), func(i int) {
			it := items[i]
			r, failures, err := e.evaluate(ctx, e.single, it.input())
			at := func(int) *item { return it }
			results[i] = append(e.collect(res.Index, r, err, at), e.failures(failures, it.env, at)...)
		})
		for _, r := range results {
			out = append(out, r...)
		}
	}
	if e.combined != nil {
		for _, env := range res.Environments {
			its := perEnv[env]
			envCtx := map[string]any{"environment": env.Name, "branch": env.Branch, "params": e.params}
			r, failures, err := e.evaluate(ctx, e.combined, combinedInput(its, envCtx))
			at := func(i int) *item {
				if i >= 0 && i < len(its) {
					return &its[i]
				}
				return nil
			}
			out = append(out, e.collect(res.Index, r, err, at)...)
			out = append(out, e.failures(failures, env, at)...)
		}
	}
	return out
}

// errorFinding is a policy/error finding at the object of at(-1) (per
// object), or of the environment env (combined).
func errorFinding(msg string, env *render.Environment, at func(int) *item) finding.Finding {
	f := RuleError.New(finding.Finding{Message: msg})
	if it := at(-1); it != nil {
		f.File, f.Line, f.Column, f.Environment, f.Kustomization, f.Object = it.o.File, it.o.Line, it.o.Column, it.env.Name, it.k.ID(), it.o.Ref()
	} else if env != nil {
		f.Environment = env.Name
	}
	return f
}

// failures reports the rules that could not be evaluated on one input.
func (e *Engine) failures(fs []ruleFailure, env *render.Environment, at func(int) *item) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		out = append(out, errorFinding(e.failureMessage(f), env, at))
	}
	return out
}

// collect turns a query result into findings. at maps a result's object
// index (combined mode) to its item; per-object results ignore the index.
func (e *Engine) collect(x *render.Index, r map[string]any, err error, at func(int) *item) []finding.Finding {
	if err != nil {
		return []finding.Finding{errorFinding("evaluate policies: "+truncate(err.Error(), maxErrorMessage), nil, at)}
	}
	var out []finding.Finding
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		idx, err := strconv.Atoi(key) // the keys are the query's own rule indexes
		if err != nil || idx < 0 || idx >= len(e.rules) {
			continue
		}
		rule := e.rules[idx]
		values, _ := r[key].([]any)
		for _, v := range values {
			msg, p, index := decodeResult(v)
			it := at(index)
			if it == nil {
				continue
			}
			f := finding.Finding{Rule: rule.ID, Severity: rule.Severity, Message: msg,
				File: it.o.File, Line: it.o.Line, Column: it.o.Column,
				Environment: it.env.Name, Kustomization: it.k.ID(), Object: it.o.Ref()}
			if it.o.File == "" {
				f.Line, f.Column = 0, 0
			} else if doc := x.DocAt(it.o.File, it.o.Line); doc != nil && len(p) > 0 {
				f.Line, f.Column = doc.FieldPos(p...)
			}
			out = append(out, f)
		}
	}
	return out
}

// decodeResult reads a conftest result: a string, or an object with msg
// (and gitops-lint's optional path and index).
func decodeResult(v any) (msg string, p []string, index int) {
	index = -1
	switch t := v.(type) {
	case string:
		return t, nil, index
	case map[string]any:
		msg = fmt.Sprint(t["msg"])
		switch pv := t["path"].(type) {
		case []any:
			for _, s := range pv {
				p = append(p, fmt.Sprint(s))
			}
		case string:
			p = strings.Split(strings.TrimPrefix(pv, "."), ".")
		}
		if n, ok := t["index"]; ok {
			if i, err := strconv.Atoi(fmt.Sprint(n)); err == nil {
				index = i
			}
		}
		return msg, p, index
	}
	return fmt.Sprint(v), nil, index
}

// TestResult is the outcome of one Rego test.
type TestResult struct {
	Name   string // package.test_name
	Passed bool
	Err    error
}

// RunTests runs the _test.rego files of dir against the policies of dir
// (like `opa test DIR`), plus the built-in library so that user tests can
// import its helpers, with the default limits.
func RunTests(ctx context.Context, dir string) ([]TestResult, error) {
	return RunTestsWith(ctx, dir, Options{})
}

// RunTestsWith is RunTests bounded by opts.Limits and opts.Budget (its
// other fields are ignored): the files of dir are read like Load reads
// them, the policies are compiled with the same capabilities, and each
// test is given the policy-time. Print output is discarded, as it always
// was, so print statements are not even evaluated.
func RunTestsWith(ctx context.Context, dir string, opts Options) ([]TestResult, error) {
	limits := opts.limits()
	modules := map[string]*ast.Module{}
	add := func(fsys fs.FS, label string, tests bool) error {
		return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || path.Ext(p) != ".rego" || (!tests && strings.HasSuffix(p, "_test.rego")) {
				return nil
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			name := label + "/" + p
			m, err := parseModule(name, data)
			if err != nil {
				return err
			}
			modules[name] = m
			return nil
		})
	}
	if err := add(policies.FS, "builtin", dir == ""); err != nil {
		return nil, err
	}
	if dir != "" {
		ms, err := parseDir(dir, limits.FileBytes, opts.Budget, true)
		if err != nil {
			return nil, finding.Usagef("policy test %s: %w", dir, err)
		}
		for _, m := range ms {
			modules[m.Package.Location.File] = m
		}
	}
	compiler := ast.NewCompiler().WithCapabilities(capabilities()).WithEnablePrintStatements(false)
	timeout := limits.PolicyTime
	if timeout <= 0 {
		timeout = noTimeout
	}
	runner := tester.NewRunner().SetCompiler(compiler).CapturePrintOutput(false).RaiseBuiltinErrors(true).SetTimeout(timeout).SetModules(modules)
	ch, err := withDeadline(limits.PolicyTime, "compiling the policies and tests", func() (chan *tester.Result, error) {
		return runner.RunTests(ctx, nil)
	})
	if finding.IsUsage(err) {
		return nil, err
	}
	if err != nil {
		var errs ast.Errors
		if errors.As(err, &errs) {
			return nil, &finding.UsageError{Err: fmt.Errorf("policy test: %w", compileError(errs))}
		}
		return nil, finding.Usagef("policy test: %w", err)
	}
	// A test stuck in a builtin call that ignores its deadline must not
	// hang the command: tests end one after another, so give up when none
	// has ended for the policy-time and then some.
	var idle <-chan time.Time
	var timer *time.Timer
	if limits.PolicyTime > 0 {
		timer = time.NewTimer(limits.PolicyTime + abandonAfter)
		defer timer.Stop()
		idle = timer.C
	}
	var out []TestResult
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return out, nil
			}
			tr := TestResult{Name: strings.TrimPrefix(r.Package, "data.") + "." + r.Name, Passed: !r.Fail && r.Error == nil, Err: r.Error}
			out = append(out, tr)
			if timer != nil {
				timer.Reset(limits.PolicyTime + abandonAfter)
			}
		case <-idle:
			return out, finding.Usagef("policy test: a test did not stop within the %s limit of %s; raise it with --limit %s=%s",
				confine.LimitPolicyTime, limits.PolicyTime, confine.LimitPolicyTime, formatDuration(raised(limits.PolicyTime)))
		}
	}
}

// noTimeout stands for no policy-time in tests (the runner needs one).
const noTimeout = 100 * 365 * 24 * time.Hour

// parseModule parses a Rego module as Rego v1 and, failing that, as v0 (the
// syntax conftest policies written before OPA 1.0 use); the v1 error is the
// one reported when neither parses, without the source it quotes.
func parseModule(name string, data []byte) (*ast.Module, error) {
	m, err := ast.ParseModuleWithOpts(name, string(data), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
	if err == nil {
		return m, nil
	}
	if m0, err0 := ast.ParseModuleWithOpts(name, string(data), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV0}); err0 == nil {
		return m0, nil
	}
	return nil, parseError(err)
}
