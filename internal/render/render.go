package render

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gitops-lint/gitops-lint/internal/finding"
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
	sem        chan struct{}

	mu       sync.Mutex
	findings []finding.Finding
	indexes  map[string]*Index
	// tenantURL is the normalised git remote URL of the linted repository
	// in tenant mode.
	tenantURL string
	// changes is the --changed-since input (nil: render everything).
	changes *changeSet
	subsets int // lean builds so far (directory names)
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
// kustomize's schema), for the Render or NewBuilder of the same root that
// follows: the caller can meanwhile do other work (ask git what changed).
func Prefetch(root string) {
	warmOpenAPI()
	f := &indexFuture{done: make(chan struct{})}
	if _, loaded := prefetched.LoadOrStore(root, f); loaded {
		return
	}
	go func() {
		defer close(f.done)
		f.x, f.err = LoadIndex(root)
	}()
}

type indexFuture struct {
	done chan struct{}
	x    *Index
	err  error
}

var prefetched sync.Map // root → *indexFuture

// CancelPrefetch forgets what Prefetch read for root (when no render
// follows), so that no later render takes a stale index.
func CancelPrefetch(root string) { prefetched.Delete(root) }

// loadIndex takes the index Prefetch read for root, or reads it.
func loadIndex(root string) (*Index, error) {
	if f, ok := prefetched.LoadAndDelete(root); ok {
		f := f.(*indexFuture)
		<-f.done
		return f.x, f.err
	}
	return LoadIndex(root)
}

func newRenderer(opts Options) (*renderer, error) {
	quietKustomize()
	warmOpenAPI()
	lint, err := loadIndex(opts.Root)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	r := &renderer{opts: opts, lint: lint, tree: lint, indexes: map[string]*Index{lint.Root: lint}}
	r.findings = append(r.findings, lint.Findings...)
	if opts.Platform != "" {
		if r.tree, err = LoadIndex(opts.Platform); err != nil {
			return nil, &UsageError{Msg: "--platform: " + err.Error()}
		}
		r.indexes[r.tree.Root] = r.tree
		r.tenantURL = normalizeURL(gitRemote(lint.Root))
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	r.sem = make(chan struct{}, workers)
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

func (r *renderer) close() { os.RemoveAll(r.tmp) }

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
	e := entry{env: EnvironmentSpec{Name: "build"}, ks: ks, file: file, line: d.Line, self: []string{objKey(kind, ns, n)}}
	env := &Environment{Name: "build", Lockdown: Lockdown{StrictSubstitution: false}}
	run := &envRun{r: r, entry: e, env: env, objs: map[string]map[string]any{}, seen: map[string]bool{}}
	j := run.newJob(ks, file, nil)
	j.k.Line = d.Line
	run.build(ctx, j)
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
		if !found {
			return nil, &UsageError{Msg: fmt.Sprintf("--kustomization %s: no such Flux Kustomization in the rendered environments", opts.Kustomization)}
		}
	}
	res.Findings = r.findings
	if opts.Platform != "" && (r.changes == nil || r.changes.relevant) {
		if err := tenantReached(res, opts); err != nil {
			return nil, err
		}
		// Findings about the platform's own files are the platform's business.
		res.Findings = slices.DeleteFunc(res.Findings, func(f finding.Finding) bool { return f.File == "" })
	}
	return res, nil
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
	x, err := LoadIndex(originRoot)
	if err != nil {
		x = &Index{Root: originRoot, Files: map[string][]*Doc{}}
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

// gitRemote returns the origin remote URL of the checkout at dir ("" if none).
func gitRemote(dir string) string {
	out, err := exec.Command("git", "-C", dir, "remote", "get-url", "origin").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// normalizeURL reduces git URLs to host/path so that ssh and https forms of
// the same repository compare equal.
func normalizeURL(u string) string {
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
