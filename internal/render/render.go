package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/git"
	"github.com/gitops-lint/gitops-lint/internal/pool"
)

// renderer is the state of one Render call.
type renderer struct {
	opts Options
	tmp  string
	// lint is the linted repository; tree is the repository whose Flux tree
	// is walked (the platform repository in tenant mode, else lint).
	lint, tree *Index
	cache      buildCache
	arts       *artifacts
	cpu        *pool.Limiter

	mu       sync.Mutex
	findings []finding.Finding
	indexes  map[string]*Index
	// tenantURL is the normalised git remote URL of the linted repository
	// in tenant mode.
	tenantURL string
	// self is the linted repository as a git checkout (self-sources).
	self selfRepo
	// changes is the --changed-since input (nil: render everything).
	changes *changeSet
	// releases are the HelmRelease renders of the run, shared across
	// environments (helmrelease.go).
	releases map[releaseKey]*releaseResult
	subsets  int // lean builds so far (directory names)

	// rd reads every file of the run within its limits; rendered, objects
	// and work bound what the builds produce and cost; limits collects
	// the render/limit findings.
	limits                  confine.Limits
	rd                      *reader
	rendered, objects, work *confine.Budget
	limitLog                limitLog
	// varRefs caches, per linted file, the lines of its ${var} references.
	varRefs sync.Map
	// loaded are the cached chart archives loaded so far, by digest.
	loaded sync.Map
	// annotatedBuilds: see Result.
	annotatedBuilds atomic.Int64
}

// UsageError is a problem with what the user asked for (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Render discovers and renders the environments of opts.Root.
func Render(ctx context.Context, opts Options) (*Result, error) {
	r, err := newRenderer(opts)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.render(ctx)
}

// Prefetch starts reading the repository at root in the background (and
// kustomize's schema) for the Render or NewBuilder that follows with
// Options.Prefetched set to the result: the caller can meanwhile do other
// work (ask git what changed). It reads within the default limits; a run
// with other limits or another root reads again. A caller that renders
// nothing after all just drops the result.
func Prefetch(root string) *Prefetched {
	warmOpenAPI()
	p := &Prefetched{root: root, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.x, p.err = LoadIndex(root)
	}()
	return p
}

// Prefetched is the index of one repository that Prefetch is reading. The
// first render of that root takes it; any other render reads again.
type Prefetched struct {
	root  string
	taken atomic.Bool
	done  chan struct{}
	x     *Index
	err   error
}

// loadIndex takes the index pre read for root when it was read within the
// run's limits and fits the run's budget, or reads it.
func loadIndex(root string, rd *reader, pre *Prefetched) (*Index, error) {
	if pre != nil && pre.root == root && pre.taken.CompareAndSwap(false, true) {
		<-pre.done
		if pre.err != nil {
			return nil, pre.err
		}
		if x := pre.x; rd.adopt(x) {
			return x, nil
		}
	}
	return loadIndexWith(root, rd)
}

// adopt makes the index x, read by another reader, rd's: when it was read
// within the same per-file and total limits and what it read fits rd's
// budget. Otherwise the caller reads again.
func (rd *reader) adopt(x *Index) bool {
	pre := x.rd
	if pre.limits.FileBytes != rd.limits.FileBytes || pre.limits.TotalBytes != rd.limits.TotalBytes {
		return false
	}
	if !rd.budget.Take(pre.charged.Load()) {
		return false // where exactly the budget runs out takes reading again
	}
	rd.charged.Add(pre.charged.Load())
	rd.nodes.Take(pre.nodes.Used())
	if st := pre.stopped(); st != nil {
		rd.halt(st.abs, st.why, false)
	}
	x.rd = rd
	return true
}

func newRenderer(opts Options) (*renderer, error) {
	warmOpenAPI()
	lim := opts.bounds()
	rd := newReader(lim, opts.Budget)
	cpu := pool.Or(opts.CPU, opts.Workers)
	rd.cpu = cpu
	// The index loads walk and read holding one slot; their parses take
	// more only while slots are free (see loadIndexWith).
	var lint *Index
	var err error
	cpu.Do(func() { lint, err = loadIndex(opts.Root, rd, opts.Prefetched) })
	if opts.Indexed != nil {
		opts.Indexed(lint)
	}
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	r := &renderer{opts: opts, lint: lint, tree: lint, indexes: map[string]*Index{lint.Root: lint},
		limits: lim, rd: rd, rendered: confine.NewBudget(lim.RenderedBytes, confine.LimitRenderedBytes), objects: confine.NewBudget(lim.Objects, confine.LimitObjects),
		work: confine.NewBudget(workBudget(lim.Objects), confine.LimitObjects)}
	r.findings = append(r.findings, lint.Findings...)
	if opts.Platform != "" {
		cpu.Do(func() { r.tree, err = loadIndexWith(opts.Platform, rd) })
		if err != nil {
			return nil, &UsageError{Msg: "--platform: " + err.Error()}
		}
		r.indexes[r.tree.Root] = r.tree
		r.tenantURL = normalizeURL(git.OriginURL(context.Background(), lint.Root))
	}
	r.cpu = cpu
	switch {
	case opts.ChangedOnly:
		r.opts.Select = nil
		r.opts.Changed = slices.Clone(opts.Changed)
		slices.Sort(r.opts.Changed)
		r.changes = newChangeSet(lint.Root, r.opts.Changed)
		r.changes.relevant = anyRelevant(lint, r.opts.Changed)
	case opts.Select != nil:
		// Nothing changed; the selection alone decides what is linted.
		r.opts.Changed = nil
		r.changes = newChangeSet(lint.Root, nil)
		r.changes.relevant = true
	}
	if r.tmp, err = os.MkdirTemp(tempRoot(), "gitops-lint-"); err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	r.arts = newArtifacts(r.tmp)
	return r, nil
}

func (r *renderer) close() {
	os.RemoveAll(r.tmp)
	r.self.close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.indexes {
		x.release()
	}
}

// Builder renders single Flux Kustomizations of one repository, sharing the
// repository index, artifacts and build cache between calls.
type Builder struct{ r *renderer }

// NewBuilder prepares a Builder; Close it when done.
func NewBuilder(opts Options) (*Builder, error) {
	r, err := newRenderer(opts)
	if err != nil {
		return nil, err
	}
	return &Builder{r: r}, nil
}

// Close removes the Builder's temporary files.
func (b *Builder) Close() { b.r.close() }

// BuildOne renders the single Flux Kustomization name declared in file
// (relative to the repository root), without its children, as
// `flux build kustomization NAME --kustomization-file FILE --dry-run` does:
// substituteFrom is not read and substitution is not strict.
func (b *Builder) BuildOne(ctx context.Context, file, name string) (*Kustomization, []finding.Finding, error) {
	r := b.r
	r.mu.Lock()
	r.findings = nil
	r.mu.Unlock()
	d := r.lint.Find(file, kindKustomize, name)
	if d == nil {
		return nil, nil, &UsageError{Msg: fmt.Sprintf("%s: no Kustomization %q", file, name)}
	}
	ks := docSpec(d)
	if spec, ok := ks["spec"].(map[string]any); ok {
		if pb, ok := spec["postBuild"].(map[string]any); ok {
			delete(pb, "substituteFrom")
		}
	}
	kind, ns, n := sourceRefOf(ks, nsOf(d))
	e := entry{env: EnvironmentSpec{Name: "build"}, ks: ks, file: file, line: d.Line, col: d.Column, self: []string{objKey(kind, ns, n)}}
	env := &Environment{Name: "build", Lockdown: Lockdown{StrictSubstitution: false}}
	run := &envRun{r: r, entry: e, env: env, objs: map[string]map[string]any{}, seen: map[string]bool{}}
	j := run.newJob(ks, file, nil)
	j.k.Line, j.k.Column = d.Line, d.Column
	run.build(ctx, j)
	r.addLimitFindings()
	return j.k, r.findings, nil
}

func (r *renderer) render(ctx context.Context) (*Result, error) {
	opts := r.opts
	lint := r.lint
	entries := discover(r.tree, opts.ExplicitEnvironments)
	if len(opts.Environments) > 0 {
		var names []string
		var keep []entry
		for _, e := range entries {
			names = append(names, e.env.Name)
			if slices.Contains(opts.Environments, e.env.Name) {
				keep = append(keep, e)
			}
		}
		for _, want := range opts.Environments {
			if !slices.Contains(names, want) {
				return nil, &UsageError{Msg: fmt.Sprintf("--env %s: no such environment (found: %s)", want, strings.Join(names, ", "))}
			}
		}
		entries = keep
	}

	if opts.ChangedOnly {
		r.newEntries(entries)
	}
	res := &Result{Files: len(lint.Files) + len(r.tree.Files)*boolInt(r.tree != lint), Tenant: opts.Platform != "", Index: lint, ChangedOnly: opts.ChangedOnly, Partial: r.changes != nil}
	res.Environments = make([]*Environment, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Environments[i] = r.renderEnv(ctx, e)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Kustomization != "" {
		found := false
		for _, env := range res.Environments {
			env.Kustomizations = slices.DeleteFunc(env.Kustomizations, func(k *Kustomization) bool { return k.ID() != opts.Kustomization })
			found = found || len(env.Kustomizations) > 0
		}
		if !found && r.rd.stopped() == nil && !r.limitLog.reached() {
			return nil, &UsageError{Msg: fmt.Sprintf("--kustomization %s: no such Flux Kustomization in the rendered environments", opts.Kustomization)}
		}
	}
	r.addLimitFindings()
	res.Findings = r.findings
	res.annotatedBuilds = r.annotatedBuilds.Load()
	if opts.Platform != "" && (r.changes == nil || r.changes.relevant) {
		// A run stopped by a limit has not rendered what the tenant check
		// looks for.
		if err := tenantReached(res, opts); err != nil && r.rd.stopped() == nil && !r.limitLog.reached() {
			return nil, err
		}
		// Findings about the platform's own files are the platform's business.
		res.Findings = slices.DeleteFunc(res.Findings, func(f finding.Finding) bool { return f.File == "" && f.Rule != RuleLimit.ID })
	}
	return res, nil
}

// addLimitFindings adds the render/limit findings of the run: where
// reading stopped, and the run-wide bounds that stopped rendering.
func (r *renderer) addLimitFindings() {
	if st := r.rd.stopped(); st != nil {
		f := RuleLimit.New(finding.Finding{Column: 1})
		name := st.abs
		if f.File = r.lintRel(st.abs); f.File != "" {
			f.Line, name = 1, f.File
		} else {
			f.Column = 0
		}
		f.Message = fmt.Sprintf("reading stopped at %s: %s; it and the files after it are not read, and nothing is rendered or checked beyond what was read", name, st.why)
		r.add(f)
	}
	for _, f := range r.limitLog.findings() {
		r.add(f)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *renderer) add(f finding.Finding) {
	r.mu.Lock()
	r.findings = append(r.findings, f)
	r.mu.Unlock()
}

// index returns the index of the checkout holding abs, loading it once.
func (r *renderer) index(originRoot string) *Index {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x, ok := r.indexes[originRoot]; ok {
		return x
	}
	x, err := loadIndexWith(originRoot, r.rd)
	if err != nil {
		x = &Index{Root: originRoot, Files: map[string][]*Doc{}, Excluded: map[string]bool{}, rd: r.rd, raw: map[string][]byte{}, work: map[string]int64{}}
	}
	r.indexes[originRoot] = x
	return x
}

// position maps an absolute origin path to (file relative to the linted
// repo or "", the index and relative path within the origin checkout).
func (r *renderer) position(originAbs string) (lintRel string, x *Index, rel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for root, ix := range r.indexes {
		if strings.HasPrefix(originAbs, root+string(filepath.Separator)) {
			x, rel = ix, filepath.ToSlash(strings.TrimPrefix(originAbs, root+string(filepath.Separator)))
			break
		}
	}
	if l, err := filepath.Rel(r.lint.Root, originAbs); err == nil && !strings.HasPrefix(l, "..") {
		lintRel = filepath.ToSlash(l)
	}
	return
}

// normalizeURL reduces git URLs to host/path so that ssh and https forms of
// the same repository compare equal.
//
// It is idempotent for every input: the result is the fixpoint of one
// reduction step (normalizeStep), so normalising it again changes nothing.
// A single step is not enough: "a://b://c" loses one scheme per step, and
// trimming a suffix can expose another ("x .git" → "x " → "x"). The
// iteration ends: after the first step the string is lower case and
// trimmed (ToLower can lengthen it only once), and every later step that
// changes it shortens it, or keeps its length and replaces a ':' by a '/'.
// URLs longer than maxURL (no real one comes near) are only lower-cased
// and trimmed, which bounds the iteration's cost; the choice depends on
// that lower-cased, trimmed form, which a result of either branch keeps.
func normalizeURL(u string) string {
	u = strings.TrimSpace(strings.ToLower(u))
	if len(u) > maxURL {
		return u
	}
	for {
		next := normalizeStep(u)
		if next == u {
			return u
		}
		u = next
	}
}

const maxURL = 4096

// normalizeStep is one reduction of normalizeURL.
func normalizeStep(u string) string {
	u = strings.TrimSpace(strings.ToLower(u))
	if u == "" {
		return ""
	}
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	} else if at := strings.Index(u, "@"); at >= 0 && strings.Contains(u[at:], ":") {
		u = strings.Replace(u[at+1:], ":", "/", 1)
	}
	if at := strings.Index(u, "@"); at >= 0 && at < strings.Index(u+"/", "/") {
		u = u[at+1:]
	}
	if slash := strings.Index(u, "/"); slash >= 0 {
		if colon := strings.Index(u[:slash], ":"); colon >= 0 { // drop ports
			u = u[:colon] + u[slash:]
		}
	}
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	return u
}

// tenantReached fails a tenant-mode run in which no Kustomization of the
// platform builds from the tenant repository: silence would read as a pass.
func tenantReached(res *Result, opts Options) error {
	var missing []string
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			if k.Linted {
				return nil
			}
			if !k.Rendered && k.SourceKind != "" {
				missing = append(missing, k.SourceNamespace+"/"+k.SourceName)
			}
		}
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	hint := "no Kustomization of the platform has a source this repository could be"
	if len(missing) > 0 {
		hint = "sources without local content: " + strings.Join(missing, ", ")
	}
	return &UsageError{Msg: fmt.Sprintf("--platform %s: no Flux Kustomization of the platform builds from %s (%s); pass --source NAMESPACE/NAME=%s for the GitRepository that points at it, or set its git remote origin to that GitRepository's URL",
		opts.Platform, opts.Root, hint, opts.Root)}
}

// tempRoot is where the run's temporary directory goes: $TMPDIR when set,
// else a memory-backed /dev/shm where the system has one (Flux's generator
// needs a few files on disk, and creating files on some disks costs more
// than the build itself), else the system default.
func tempRoot() string {
	if os.Getenv("TMPDIR") != "" {
		return ""
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", ".gitops-lint-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return ""
}
