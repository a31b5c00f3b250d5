package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// envRun renders one environment: the entry Kustomization, then every
// Kustomization its output contains, recursively, as the cluster converges.
type envRun struct {
	r     *renderer
	entry entry
	env   *Environment

	mu sync.Mutex
	// objs holds what later builds may need from earlier ones: ConfigMaps and
	// Secrets (substituteFrom) and Flux sources, by "Kind/namespace/name".
	objs map[string]map[string]any
	seen map[string]bool

	// --changed-since: every job of the environment (discovery order),
	// whether a change affects all of them, and the changed files some
	// build reads (absolute).
	jobs   []*job
	envAll bool
	read   map[string]bool
	// first is true until the entry Kustomization is built.
	first bool
	// missing collects the render/helm-chart-missing findings of the
	// environment's releases, reported once per chart (helmrelease.go).
	missing []finding.Finding
}

type job struct {
	k  *Kustomization
	ks map[string]any
	ch changedState
}

func objKey(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// newEnvironment is the environment of entry e, before rendering.
func (r *renderer) newEnvironment(e entry) *Environment {
	env := &Environment{
		Name: e.env.Name, Path: e.env.Path, Branch: e.env.Branch,
		BranchFile: e.branchFile, BranchLine: e.branchLine, BranchColumn: e.branchCol,
		Lockdown: Lockdown{StrictSubstitution: true},
	}
	if env.BranchFile != "" {
		env.BranchFile, _, _ = r.position(filepath.Join(r.tree.Root, filepath.FromSlash(env.BranchFile)))
	}
	return env
}

func (r *renderer) renderEnv(ctx context.Context, e entry) *Environment {
	env := r.newEnvironment(e)
	if r.changes != nil && !r.changes.relevant {
		return env // --changed-since: nothing changed reaches a build
	}
	run := &envRun{r: r, entry: e, env: env, objs: map[string]map[string]any{}, seen: map[string]bool{}, first: true, read: map[string]bool{}}
	// An environment that is a kustomize overlay (no Flux entry document)
	// is one because no other kustomization includes it: a changed
	// kustomization file may make it another.
	if c := r.changes; c != nil {
		run.envAll = c.newEnv[entryKey(e)] || c.baseUnknown && e.file == "" && c.kustFile
	}
	root := run.newJob(e.ks, "", nil)
	if e.file != "" {
		root.k.File, _, _ = r.position(filepath.Join(r.tree.Root, filepath.FromSlash(e.file)))
		root.k.Line, root.k.Column = e.line, e.col
	}
	root.ch.sched = true // lockdown flags, self-adoption: always built
	pending := []*job{root}
	for ctx.Err() == nil {
		run.waves(ctx, pending)
		if r.changes == nil {
			break
		}
		if pending = run.settle(); len(pending) == 0 {
			break
		}
	}
	if r.changes != nil {
		for _, j := range run.jobs {
			j.k.Unchanged = !j.ch.linted()
		}
	}
	run.helmReleases(ctx)
	return env
}

// waves builds pending jobs and the children they render, wave by wave:
// a job waits while a substituteFrom object it needs may still be rendered.
// With --changed-since, jobs nothing needs yet are left for settle.
func (run *envRun) waves(ctx context.Context, pending []*job) {
	r, env := run.r, run.env
	for len(pending) > 0 && ctx.Err() == nil {
		if r.changes != nil {
			pending = slices.DeleteFunc(pending, func(j *job) bool {
				keep := run.prepare(j)
				j.ch.sched = j.ch.sched || keep
				return !keep
			})
			var kids []*job
			if pending, kids = run.lean(ctx, pending); len(kids) > 0 {
				pending = append(pending, kids...)
				continue
			}
			if len(pending) == 0 {
				break
			}
		}
		var ready, blocked []*job
		for _, j := range pending {
			if run.varsReady(j) {
				ready = append(ready, j)
			} else {
				blocked = append(blocked, j)
			}
		}
		if len(ready) == 0 && r.changes != nil {
			// Build the producers of what they wait for first.
			if more := run.settle(); len(more) > 0 {
				pending = append(blocked, more...)
				continue
			}
		}
		if len(ready) == 0 { // nothing else will provide them: build with what exists
			ready, blocked = blocked, nil
		}
		children := make([][]*job, len(ready))
		var wg sync.WaitGroup
		for i, j := range ready {
			j.ch.built = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.cpu.Do(func() { children[i] = run.build(ctx, j) })
			}()
		}
		wg.Wait()
		if run.first {
			root := run.jobs[0]
			var found bool
			if l := run.entry.lockdown; l != nil {
				env.Lockdown = *l // the Flux Operator configures the controllers
			} else if env.Lockdown, found = lockdownFrom(root.k.Objects); !found {
				// `flux bootstrap` layouts often commit only the patches and
				// generate gotk-components.yaml at install: read the flags
				// from the patches aimed at kustomize-controller.
				env.Lockdown = lockdownFromPatches(r.tree, run.entry.env.Path)
			}
			adoptSelf(root.k, r.tree, run.entry)
			run.first = false
		}
		pending = blocked
		for _, cs := range children {
			pending = append(pending, cs...)
		}
	}
}

// newJob registers a Kustomization of the environment.
func (run *envRun) newJob(ks map[string]any, file string, parent *Kustomization) *job {
	u := unstructured.Unstructured{Object: ks}
	k := &Kustomization{
		Namespace: cmpOr(u.GetNamespace(), "default"),
		Name:      u.GetName(),
		File:      file,
	}
	if parent != nil {
		k.Parent = parent.ID()
	}
	spec, _ := ks["spec"].(map[string]any)
	k.Spec = spec
	k.SourceKind, k.SourceNamespace, k.SourceName = sourceRefOf(ks, k.Namespace)
	k.Path = objects.NestedString(ks, "spec", "path")
	k.ServiceAccountName = objects.NestedString(ks, "spec", "serviceAccountName")
	k.TargetNamespace = objects.NestedString(ks, "spec", "targetNamespace")
	k.Prune, _ = objects.Nested(ks, "spec", "prune").(bool)
	k.Force, _ = objects.Nested(ks, "spec", "force").(bool)
	run.mu.Lock()
	run.seen[k.ID()] = true
	run.env.Kustomizations = append(run.env.Kustomizations, k)
	j := &job{k: k, ks: ks}
	run.jobs = append(run.jobs, j)
	run.mu.Unlock()
	return j
}

type substRef struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Optional bool   `json:"optional"`
}

func substituteFrom(ks map[string]any) []substRef {
	raw, _ := objects.Nested(ks, "spec", "postBuild", "substituteFrom").([]any)
	var out []substRef
	for _, r := range raw {
		m, _ := r.(map[string]any)
		ref := substRef{Kind: str(m["kind"]), Name: str(m["name"])}
		ref.Optional, _ = m["optional"].(bool)
		out = append(out, ref)
	}
	return out
}

// varsReady reports whether every substituteFrom reference of j, and its
// source, exist in the environment rendered so far: a Kustomization whose
// source a sibling declares (a GitRepository, the ArtifactGenerator of an
// ExternalArtifact) waits for it rather than race it.
func (run *envRun) varsReady(j *job) bool {
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, ref := range substituteFrom(j.ks) {
		if _, ok := run.objs[objKey(ref.Kind, j.k.Namespace, ref.Name)]; !ok {
			return false
		}
	}
	return run.sourceDeclared(j.k)
}

// sourceDeclared reports whether k's source can be resolved without
// waiting for more of the environment: it is the repository itself, a
// --source mapping, or a rendered object (for an ExternalArtifact, its
// ArtifactGenerator). run.mu is held.
func (run *envRun) sourceDeclared(k *Kustomization) bool {
	kind, ns, name := k.SourceKind, k.SourceNamespace, k.SourceName
	id := objKey(kind, ns, name)
	if kind == "" || slices.Contains(run.entry.self, id) {
		return true
	}
	if _, ok := run.r.opts.Sources[ns+"/"+name]; ok {
		return true
	}
	if _, ok := run.objs[id]; ok {
		return true
	}
	if kind != kindExtArtifact {
		return false
	}
	_, gen := run.generatorOf(ns, name)
	return gen != nil
}

// finding is a finding of k at line and col of file, or at k's declaring
// document when file is "".
func (run *envRun) finding(k *Kustomization, rule finding.Rule, file string, line, col int, msg string) finding.Finding {
	if file == "" {
		file, line, col = k.File, k.Line, k.Column
	}
	if line == 0 {
		col = 0
	}
	return rule.New(finding.Finding{
		Message: msg, File: file, Line: line, Column: col,
		Environment: run.env.Name, Kustomization: k.ID(),
	})
}

// fieldPos returns the position of a spec field of k's declaring document.
func (run *envRun) fieldPos(k *Kustomization, path ...string) (line, col int) {
	if k.File == "" {
		return 0, 0
	}
	if d := run.r.lint.Find(k.File, kindKustomize, k.Name); d != nil {
		return d.FieldPos(path...)
	}
	return k.Line, k.Column
}

// build renders one Kustomization and returns the child Kustomizations
// its output declares.
func (run *envRun) build(ctx context.Context, j *job) []*job {
	k := j.k
	if run.halted(k) {
		return nil
	}
	art, err := run.source(j)
	if err != nil {
		if run.limited(k, err) {
			return nil
		}
		var se *sourceMissing
		rule := RuleError
		if errors.As(err, &se) {
			rule = RuleSourceMissing
			if se.undeclared && run.failedElsewhere(k) {
				// A Kustomization that failed to build may declare the
				// source: its error is the cause, and this one stays
				// unrendered (unknown) without a finding of its own.
				return nil
			}
		} else {
			run.mu.Lock()
			k.Failed = true
			run.mu.Unlock()
		}
		line, col := run.fieldPos(k, "spec", "sourceRef")
		run.r.add(run.finding(k, rule, k.File, line, col, err.Error()))
		return nil
	}
	k.SourceDir = art.Origin
	k.Linted = art.within(run.r.lint.Root)
	if art.Origin != "" {
		k.Dir = filepath.Join(art.Origin, filepath.FromSlash(k.Path))
	}
	m, wantOrigin, err := run.r.kustomizeBuild(art, j.ks, &k.charged)
	if err != nil {
		if !run.limited(k, err) {
			run.buildFailed(k, art, err)
		}
		return nil
	}
	vars := run.newSubstituter(k, j.ks)
	var built []*Object
	for _, res := range m {
		obj, err := run.object(ctx, k, art, res, vars, wantOrigin)
		if err != nil {
			if run.limited(k, err) {
				return nil
			}
			run.r.add(run.finding(k, RuleError, obj.File, obj.Line, obj.Column, err.Error()))
			if res.GetKind() != "" && res.GetName() != "" {
				k.Lost = append(k.Lost, &finding.Object{APIVersion: res.GetApiVersion(), Kind: res.GetKind(), Namespace: res.GetNamespace(), Name: res.GetName()})
			}
			continue
		}
		built = append(built, obj)
	}
	// What kustomize-controller does between the build and the apply:
	// owner labels, then commonMetadata; it refuses a SOPS-encrypted
	// Secret it did not decrypt, and skips the objects excluded from apply.
	setOwnerLabels(built, k.Name, k.Namespace)
	if cm, ok := objects.Nested(j.ks, "spec", "commonMetadata").(map[string]any); ok {
		setCommonMetadata(built, cm)
	}
	run.refuseEncrypted(k, j.ks, built)
	// The objects the Flux Operator generates from the ResourceSets applied.
	generated := run.resourceSets(k, built)
	var children []*job
	for i, obj := range slices.Concat(built, generated) {
		if i < len(built) && excludedFromApply(obj) {
			k.Skipped++
			continue
		}
		k.Objects = append(k.Objects, obj)
		run.register(obj)
		if isFluxKustomization(obj.APIVersion(), obj.Kind()) {
			run.mu.Lock()
			dup := run.seen[cmpOr(obj.Namespace(), "default")+"/"+obj.Name()]
			run.mu.Unlock()
			if !dup {
				cj := run.newJob(obj.Content, obj.File, k)
				cj.k.Line, cj.k.Column = obj.Line, obj.Column
				cj.ch.parent = j
				cj.ch.declared = run.r.changedFile(obj.File)
				cj.ch.declRel = obj.artRel
				children = append(children, cj)
			}
		}
	}
	k.Rendered = true
	return children
}

// failedElsewhere reports whether a Kustomization of the environment other
// than k failed to build: its output, unknown, may hold what k looks for.
func (run *envRun) failedElsewhere(k *Kustomization) bool {
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, o := range run.env.Kustomizations {
		if o != k && o.Failed {
			return true
		}
	}
	return false
}

func (run *envRun) buildFailed(k *Kustomization, art *artifact, err error) {
	run.mu.Lock()
	k.Failed = true
	run.mu.Unlock()
	var be *buildError
	if errors.As(err, &be) && be.rule == RuleError {
		if f := run.r.brokenFile(be.msg); f != "" {
			// The build fails because a file of the repository does not
			// parse: its yaml/syntax finding, at the line to fix, is the
			// one finding of that cause.
			run.mu.Lock()
			k.Broken = f
			run.mu.Unlock()
			return
		}
	}
	if !errors.As(err, &be) {
		run.r.add(run.finding(k, RuleError, "", 0, 0, err.Error()))
		return
	}
	file, line, col := k.File, k.Line, k.Column
	switch {
	case be.field == "path":
		line, col = run.fieldPos(k, "spec", "path")
	case be.file != "":
		if o, ok := art.OriginOf(be.file); ok {
			if f, x, rel := run.r.position(o); f != "" {
				file, line, col = f, 1, 1
				if x != nil {
					if l, c := findValuePos(x, rel, be.field); l > 0 {
						line, col = l, c
					}
				}
			}
		}
	}
	if file == "" {
		// A synthetic root (plain overlay, Flux Operator sync) has no
		// declaring document: point at the kustomization it builds.
		file, line, col = run.kustomizationFileOf(k, art)
	}
	run.r.add(run.finding(k, be.rule, file, line, col, be.msg))
}

// kustomizationFileOf returns the linted-repo position of the kustomization
// file in k's path, if any.
func (run *envRun) kustomizationFileOf(k *Kustomization, art *artifact) (file string, line, col int) {
	for _, name := range kustFileNames {
		if o, ok := art.OriginOf(filepath.Join(k.buildDir(art), name)); ok {
			if f, _, _ := run.r.position(o); f != "" {
				return f, 1, 1
			}
		}
	}
	return "", 0, 0
}

// findValuePos returns the position of the first scalar equal to value in
// file, (0, 0) if there is none.
func findValuePos(x *Index, file, value string) (line, col int) {
	for _, d := range x.Files[file] {
		if line, col = scalarPos(d.Node, value); line > 0 {
			return line, col
		}
	}
	return 0, 0
}

// register records objects later builds may read.
func (run *envRun) register(o *Object) {
	kind := o.Kind()
	g := objects.Group(o.APIVersion())
	keep := (g == "" && (kind == "ConfigMap" || kind == "Secret")) || g == sourceGroup || g == sourceExtGroup
	if !keep {
		return
	}
	run.mu.Lock()
	run.objs[objKey(kind, cmpOr(o.Namespace(), "default"), o.Name())] = o.Content
	run.mu.Unlock()
}

// object converts a built resource: identity check, source position,
// post-build substitution, origin annotation removal.
func (run *envRun) object(ctx context.Context, k *Kustomization, art *artifact, res *resource.Resource, vars *substituter, wantOrigin bool) (*Object, error) {
	obj := &Object{}
	run.locate(k, art, res, obj, wantOrigin)
	if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
		return obj, fmt.Errorf("failed to decode Kubernetes apiVersion, kind and name from: %v", clip(strings.TrimSpace(res.String()), maxQuoted))
	}
	content, err := vars.apply(ctx, res, obj)
	if err != nil {
		return obj, err
	}
	if content == nil {
		if content, err = toUnstructured(res); err != nil {
			return obj, fmt.Errorf("encode %s/%s: %w", res.GetKind(), res.GetName(), err)
		}
	}
	obj.Content = content
	return obj, nil
}

type origin struct {
	Path         string `json:"path"`
	ConfiguredIn string `json:"configuredIn"`
}

// locate sets the source position of res from kustomize's origin
// annotation and the original id of the resource, and strips the
// annotation unless the user asked for it.
func (run *envRun) locate(k *Kustomization, art *artifact, res *resource.Resource, obj *Object, wantOrigin bool) {
	ann := res.GetAnnotations()
	raw, ok := ann[originAnnotation]
	if ok && !wantOrigin {
		delete(ann, originAnnotation)
		_ = res.SetAnnotations(ann)
	}
	var o origin
	if !ok || yaml.Unmarshal([]byte(raw), &o) != nil {
		return
	}
	p := cmpOr(o.Path, o.ConfiguredIn)
	if p == "" || strings.Contains(p, "://") {
		return
	}
	abs := filepath.Join(k.buildDir(art), filepath.FromSlash(p))
	src, ok := art.OriginOf(abs)
	if !ok {
		return
	}
	file, x, rel := run.r.position(src)
	obj.File, obj.OriginPath, obj.Line, obj.Column = file, rel, 1, 1
	obj.artRel = art.rel(abs)
	if x == nil {
		return
	}
	id := res.OrgId()
	docs := x.Files[rel]
	if d := x.docByID(rel, id.Kind, id.Name); d != nil {
		obj.Line, obj.Column = d.Line, d.Column
		return
	}
	// kustomize drops the previous-name annotations at the end of a
	// build, so under namePrefix/nameSuffix the id is the final name: the
	// source document is the one of that kind whose name the final name
	// contains (the longest such name, the first of equals).
	var best *Doc
	for _, d := range docs {
		if d.Kind == id.Kind && d.Name != "" && strings.Contains(id.Name, d.Name) && (best == nil || len(d.Name) > len(best.Name)) {
			best = d
		}
	}
	if best != nil {
		obj.Line, obj.Column = best.Line, best.Column
		return
	}
	if o.ConfiguredIn != "" && o.Path == "" { // generated: point at the generator entry
		for _, d := range docs {
			if l, c := scalarPos(d.Node, id.Name); l > 0 {
				obj.Line, obj.Column = l, c
				return
			}
		}
	}
	if len(docs) > 0 {
		obj.Line, obj.Column = docs[0].Line, docs[0].Column
	}
}

func (k *Kustomization) buildDir(art *artifact) string {
	return filepath.Join(art.Dir, filepath.FromSlash(k.Path))
}

// setCommonMetadata adds spec.commonMetadata labels and annotations to every
// object, as kustomize-controller does at apply time.
func setCommonMetadata(objs []*Object, cm map[string]any) {
	for _, o := range objs {
		md, _ := o.Content["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			o.Content["metadata"] = md
		}
		for _, field := range []string{"labels", "annotations"} {
			add, _ := cm[field].(map[string]any)
			if len(add) == 0 {
				continue
			}
			cur, _ := md[field].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
				md[field] = cur
			}
			for kk, v := range add {
				cur[kk] = v
			}
		}
	}
}

// lockdownFrom reads kustomize-controller's flags from the Deployment the
// entry Kustomization renders (bootstrap patches).
func lockdownFrom(objs []*Object) (Lockdown, bool) {
	l := Lockdown{StrictSubstitution: true}
	found := false
	for _, o := range objs {
		if o.Kind() != "Deployment" || o.Name() != "kustomize-controller" && o.Name() != "helm-controller" {
			continue
		}
		helm := o.Name() == "helm-controller"
		found = found || !helm
		cs, _ := objects.Nested(o.Content, "spec", "template", "spec", "containers").([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			args, _ := cm["args"].([]any)
			for _, a := range args {
				if helm {
					l.applyHelm(str(a))
				} else {
					l.apply(str(a))
				}
			}
		}
	}
	return l, found
}

// applyHelm records one helm-controller command-line flag.
func (l *Lockdown) applyHelm(arg string) {
	if flag, val, _ := strings.Cut(arg, "="); flag == "--default-service-account" {
		l.HelmDefaultServiceAccount = val
	}
}

// apply records one kustomize-controller command-line flag.
func (l *Lockdown) apply(arg string) {
	flag, val, hasVal := strings.Cut(arg, "=")
	on := !hasVal || val == "true"
	switch flag {
	case "--no-remote-bases":
		l.NoRemoteBases = on
	case "--no-cross-namespace-refs":
		l.NoCrossNamespaceRefs = on
	case "--default-service-account":
		l.DefaultServiceAccount = val
	case "--feature-gates":
		for _, g := range strings.Split(val, ",") {
			name, v, _ := strings.Cut(g, "=")
			if name == "StrictPostBuildSubstitutions" {
				l.StrictSubstitution = v != "false"
			}
		}
	}
}

var flagRe = regexp.MustCompile(`--[a-z][a-z-]*(=[^\s"',\]]*)?`)

// lockdownFromPatches reads kustomize-controller flags from the patches of
// the kustomization files below envPath/flux-system whose target can be the
// kustomize-controller Deployment.
func lockdownFromPatches(x *Index, envPath string) Lockdown {
	l := Lockdown{StrictSubstitution: true}
	for _, patch := range bootstrapPatches(x, envPath, "Deployment", "kustomize-controller") {
		for _, f := range flagRe.FindAllString(patch, -1) {
			l.apply(f)
		}
	}
	for _, patch := range bootstrapPatches(x, envPath, "Deployment", "helm-controller") {
		for _, f := range flagRe.FindAllString(patch, -1) {
			l.applyHelm(f)
		}
	}
	return l
}

// bootstrapPatches returns the inline patches of envPath/flux-system's
// kustomization whose target can select the object kind/name.
func bootstrapPatches(x *Index, envPath, kind, name string) []string {
	dir := strings.TrimPrefix(envPath+"/"+defaultNS, "/")
	var out []string
	for _, file := range kustFileNames {
		docs := x.Files[dir+"/"+file]
		if len(docs) == 0 {
			continue
		}
		patches, _ := objects.Nested(docSpec(docs[0]), "patches").([]any)
		for _, p := range patches {
			pm, _ := p.(map[string]any)
			if k := objects.NestedString(pm, "target", "kind"); k != "" && k != kind {
				continue
			}
			if n := objects.NestedString(pm, "target", "name"); n != "" {
				re, err := regexp.Compile("^(?:" + n + ")$")
				if err != nil || !re.MatchString(name) {
					continue
				}
			}
			out = append(out, str(pm["patch"]))
		}
	}
	return out
}

// adoptSelf updates the entry Kustomization with what it applies to itself:
// a bootstrap sync reconciles its own definition, so the cluster runs it with
// the spec its own build renders (bootstrap patches often set
// serviceAccountName there). A synthetic entry whose sync is not committed
// takes serviceAccountName from the flux-system patches aimed at it.
func adoptSelf(root *Kustomization, x *Index, e entry) {
	for _, o := range root.Objects {
		if isFluxKustomization(o.APIVersion(), o.Kind()) && o.Name() == root.Name && cmpOr(o.Namespace(), "default") == root.Namespace {
			if sa := objects.NestedString(o.Content, "spec", "serviceAccountName"); sa != "" {
				root.ServiceAccountName = sa
			}
			return
		}
	}
	if e.file == "" && root.ServiceAccountName == "" {
		root.ServiceAccountName = selfPatchedSA(x, e.env.Path)
	}
}

var saValueRe = regexp.MustCompile(`(?s)path:\s*/spec/serviceAccountName.*?value:\s*["']?([a-z0-9][-a-z0-9.]*)|serviceAccountName:\s*["']?([a-z0-9][-a-z0-9.]*)`)

// selfPatchedSA reads a serviceAccountName that envPath/flux-system's
// kustomization patches into the flux-system Kustomization.
func selfPatchedSA(x *Index, envPath string) string {
	for _, patch := range bootstrapPatches(x, envPath, kindKustomize, defaultNS) {
		if m := saValueRe.FindStringSubmatch(patch); m != nil {
			return cmpOr(m[1], m[2])
		}
	}
	return ""
}

// yamlFailure marks a kustomize or Flux generator error caused by a file
// that does not parse.
var yamlFailure = regexp.MustCompile(`MalformedYAMLError|error converting YAML to JSON|failed to decode Kubernetes YAML|yaml: line \d+`)

// brokenFile returns the linted file whose parse failure the build error
// msg reports, when a yaml/syntax finding of the scan names it: the
// message carries the parser's words and the file's name.
func (r *renderer) brokenFile(msg string) string {
	if !yamlFailure.MatchString(msg) {
		return ""
	}
	for _, f := range r.lint.Findings {
		if f.Rule != RuleYAMLSyntax.ID || f.Message == "" || f.File == "" {
			continue
		}
		if strings.Contains(msg, f.Message) && strings.Contains(msg, path.Base(f.File)) {
			return f.File
		}
	}
	return ""
}
