package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// abandonAfter is how long an evaluation may overrun its deadline before
// it is given up: OPA checks its deadline between evaluation steps, and a
// single builtin call or comparison can take longer than a step. The
// abandoned goroutine ends when that call does; the run goes on.
const abandonAfter = time.Second

// maxErrorMessage bounds an evaluation error quoted in a finding (a
// builtin's error can quote its operand, which can be a whole manifest).
const maxErrorMessage = 500

// errTimeout: an evaluation ran out of its policy-time.
var errTimeout = errors.New("policy evaluation ran out of time")

// querySet evaluates one group of rules (per object, or per environment)
// as one query, and rule by rule to find which rule failed.
type querySet struct {
	compiler *ast.Compiler
	rules    []Rule
	suffix   string // the query's "with" clauses

	mu       sync.Mutex
	all      *rego.PreparedEvalQuery // the enabled rules together (nil: none)
	enabled  []int
	disabled map[int]bool
	one      map[int]*rego.PreparedEvalQuery
}

func newQuerySet(ctx context.Context, c *ast.Compiler, rules []Rule, ids []int, suffix string) (*querySet, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	qs := &querySet{compiler: c, rules: rules, suffix: suffix, enabled: ids, disabled: map[int]bool{}, one: map[int]*rego.PreparedEvalQuery{}}
	var err error
	qs.all, err = qs.prepare(ctx, ids, true)
	return qs, err
}

// prepare compiles the query r := {"<i>": data.<pkg>.<rule>, ...}. Strict
// queries report builtin errors (a cap, a type error at run time) instead
// of making the expression undefined.
func (qs *querySet) prepare(ctx context.Context, ids []int, strict bool) (*rego.PreparedEvalQuery, error) {
	exprs := make([]string, len(ids))
	for j, i := range ids {
		r := qs.rules[i]
		exprs[j] = fmt.Sprintf("%q: data.%s.%s", fmt.Sprint(i), r.Package, r.Name)
	}
	q := "r := {" + strings.Join(exprs, ", ") + "} " + qs.suffix
	pq, err := rego.New(rego.Query(q), rego.Compiler(qs.compiler), rego.StrictBuiltinErrors(strict)).PrepareForEval(ctx)
	if err != nil {
		return nil, err
	}
	return &pq, nil
}

func (qs *querySet) current() (*rego.PreparedEvalQuery, []int) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return qs.all, qs.enabled
}

// single is rule i's own query. The built-in library's rules are evaluated
// as they always were (a builtin error makes an expression undefined), the
// user's strictly.
func (qs *querySet) single(ctx context.Context, i int) (*rego.PreparedEvalQuery, bool, error) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if qs.disabled[i] {
		return nil, false, nil
	}
	if q := qs.one[i]; q != nil {
		return q, true, nil
	}
	q, err := qs.prepare(ctx, []int{i}, !qs.rules[i].builtin())
	if err != nil {
		return nil, false, err
	}
	qs.one[i] = q
	return q, true, nil
}

// disable drops rule i from the rest of the run: it ran out of time once,
// and would on every other object too.
func (qs *querySet) disable(ctx context.Context, i int) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if qs.disabled[i] {
		return
	}
	qs.disabled[i] = true
	var keep []int
	for _, j := range qs.enabled {
		if !qs.disabled[j] {
			keep = append(keep, j)
		}
	}
	qs.enabled = keep
	qs.all = nil
	if len(keep) > 0 {
		// These rules compiled together before; should they not now,
		// evaluate goes rule by rule.
		qs.all, _ = qs.prepare(ctx, keep, true)
	}
}

// builtin reports whether r is of the built-in library.
func (r Rule) builtin() bool { return strings.HasPrefix(r.Package, builtinPrefix) }

// ruleFailure is a rule that could not be evaluated on one input.
type ruleFailure struct {
	rule int
	err  error // errTimeout, or the evaluation error
}

// evaluate runs every enabled rule of qs on one input. When the combined
// query fails (a timeout, a builtin error), each rule is evaluated alone,
// concurrently and under its own deadline, so that the others' results
// are kept and the failing rules are named; a rule that runs out of time
// is disabled. err is set only when ctx itself ends.
func (e *Engine) evaluate(ctx context.Context, qs *querySet, input rego.EvalOption) (map[string]any, []ruleFailure, error) {
	q, enabled := qs.current()
	if len(enabled) == 0 {
		return nil, nil, nil
	}
	if q != nil { // else its preparation failed: rule by rule
		r, err := e.run(ctx, q, input)
		if err == nil {
			return r, nil, nil
		}
		if ctx.Err() != nil {
			return nil, nil, err
		}
		if len(enabled) == 1 {
			// The rule at fault is known; a rule of the built-in library
			// is evaluated again leniently.
			i := enabled[0]
			if errors.Is(err, errTimeout) {
				qs.disable(ctx, i)
				return nil, []ruleFailure{{rule: i, err: err}}, nil
			}
			if !qs.rules[i].builtin() {
				return nil, []ruleFailure{{rule: i, err: err}}, nil
			}
		}
	}
	results := make([]map[string]any, len(enabled))
	errs := make([]error, len(enabled))
	var wg sync.WaitGroup
	for j, i := range enabled {
		pq, ok, err := qs.single(ctx, i)
		if err != nil {
			errs[j] = err
		}
		if !ok {
			continue
		}
		wg.Go(func() { results[j], errs[j] = e.run(ctx, pq, input) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	merged := map[string]any{}
	var failures []ruleFailure
	for j, i := range enabled {
		if errs[j] != nil {
			failures = append(failures, ruleFailure{rule: i, err: errs[j]})
			if errors.Is(errs[j], errTimeout) {
				qs.disable(ctx, i)
			}
			continue
		}
		maps.Copy(merged, results[j])
	}
	return merged, failures, nil
}

// run evaluates q under the policy-time deadline. An evaluation that does
// not return abandonAfter past its deadline is left to finish on its own.
func (e *Engine) run(parent context.Context, q *rego.PreparedEvalQuery, input rego.EvalOption) (map[string]any, error) {
	if e.limit <= 0 {
		return evalQuery(parent, q, input)
	}
	ctx, cancel := context.WithTimeout(parent, e.limit)
	defer cancel()
	j := &job{ctx: ctx, q: q, input: input, done: make(chan struct{})}
	w := e.evals.get()
	w.jobs <- j
	select {
	case <-j.done:
	case <-ctx.Done():
		grace := time.NewTimer(abandonAfter)
		defer grace.Stop()
		select {
		case <-j.done:
		case <-grace.C:
			close(w.jobs) // w ends when the call returns, if ever
			if parent.Err() != nil {
				return nil, parent.Err()
			}
			return nil, errTimeout
		}
	}
	e.evals.put(w)
	if j.err != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, errTimeout
	}
	return j.r, j.err
}

// job is one evaluation handed to an evalWorker.
type job struct {
	ctx   context.Context
	q     *rego.PreparedEvalQuery
	input rego.EvalOption
	r     map[string]any
	err   error
	done  chan struct{}
}

// evalWorker is a goroutine that evaluates queries, so that the caller can
// give up on one that overruns. Workers are reused: OPA's evaluation is
// deeply recursive, and a fresh goroutine per evaluation would spend much
// of its time growing its stack.
type evalWorker struct{ jobs chan *job }

// workerPool holds idle evalWorkers.
type workerPool struct{ idle chan *evalWorker }

func newWorkerPool() *workerPool { return &workerPool{idle: make(chan *evalWorker, 64)} }

func (p *workerPool) get() *evalWorker {
	select {
	case w := <-p.idle:
		return w
	default:
	}
	w := &evalWorker{jobs: make(chan *job)}
	go func() {
		for j := range w.jobs {
			j.r, j.err = evalQuery(j.ctx, j.q, j.input)
			close(j.done)
		}
	}()
	return w
}

func (p *workerPool) put(w *evalWorker) {
	select {
	case p.idle <- w:
	default:
		close(w.jobs)
	}
}

// close ends the idle workers.
func (p *workerPool) close() {
	for {
		select {
		case w := <-p.idle:
			close(w.jobs)
		default:
			return
		}
	}
}

func evalQuery(ctx context.Context, q *rego.PreparedEvalQuery, input rego.EvalOption) (map[string]any, error) {
	rs, err := q.Eval(ctx, input)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	r, _ := rs[0].Bindings["r"].(map[string]any)
	return r, nil
}

// failureMessage explains why rule r gave no result.
func (e *Engine) failureMessage(f ruleFailure) string {
	r := e.rules[f.rule]
	name := r.Package + "." + r.Name
	if errors.Is(f.err, errTimeout) {
		return fmt.Sprintf("policy rule %s (%s) ran out of time: it did not finish within the %s limit of %s, and is not evaluated for the rest of the run; raise the limit with --limit %s=%s",
			name, r.ID, confine.LimitPolicyTime, e.limit, confine.LimitPolicyTime, formatDuration(raised(e.limit)))
	}
	return fmt.Sprintf("policy rule %s (%s) failed: %s", name, r.ID, truncate(f.err.Error(), maxErrorMessage))
}

// withDeadline runs fn and gives up on it after d (0: waits for it), for
// work OPA gives no way to interrupt. The abandoned goroutine ends when fn
// does; the run, refused with a usage error, ends first.
func withDeadline[T any](d time.Duration, what string, fn func() (T, error)) (T, error) {
	if d <= 0 {
		return fn()
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, finding.Usagef("%s did not finish within the %s limit of %s; raise it with --limit %s=%s",
			what, confine.LimitPolicyTime, d, confine.LimitPolicyTime, formatDuration(raised(d)))
	}
}

// raised is the policy-time to suggest when d was not enough.
func raised(d time.Duration) time.Duration {
	if d < 30*time.Second {
		return 30 * time.Second
	}
	return 2 * d
}

// formatDuration prints 30s rather than 30.000s or 1m0s.
func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d more bytes)", len(s)-cut)
}
