package render

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// Lean parents (--changed-since). An unaffected parent renders exactly what
// it rendered at the base revision, so building it in full only serves to
// list its children. When that is safe, its children are read from the
// documents that declare them instead, and the parent is built over a
// subset of its resource files: those declaring the children that must be
// built (which need their exact spec) and those providing objects other
// builds or the checkers look up. Every other resource file is left empty
// and every kustomization no kept file is accumulated under is reduced to
// nothing: neither can change the kept objects, because a parent is lean
// only when no transformer carries one resource into another (replacements,
// vars, configurations…), nothing renames objects, and no patch touches the
// fields a child is listed by. Any surprise (a build error, a child found
// elsewhere than its document said) falls back to the full build.

// leanFields are the spec fields a child is listed and judged by before it
// is rendered: they must be what its document says.
var leanFields = []string{"path", "components", "sourceRef", "postBuild", "serviceAccountName", "dependsOn"}

// leanEligible reports whether j (unaffected, not the entry) may be lean.
func (run *envRun) leanEligible(j *job) bool {
	st := &j.ch
	if run.r.changes == nil || st.parent == nil || st.in == nil || st.linted() || st.full || st.static {
		return false
	}
	if st.safe == nil {
		ok := st.in.leanSafe(run.r.changes, st.art, j.ks)
		st.safe = &ok
	}
	return *st.safe
}

// leanSafe reports whether the children listed from documents and the
// subset builds match the full build of a parent with these inputs.
func (in *inputs) leanSafe(c *changeSet, a *artifact, ks map[string]any) bool {
	if len(in.cross) > 0 || in.renames || in.overflow {
		return false
	}
	for _, p := range in.provides {
		if p.flux && len(in.multi[p.file]) > 0 {
			return false // listed twice, maybe in two namespaces
		}
	}
	if pb := objects.Nested(ks, "spec", "postBuild"); pb != nil {
		// Substitution could rewrite what the documents say.
		for f := range in.chain {
			if strings.Contains(string(a.mem.files[a.absOf(f)]), "${") {
				return false
			}
		}
	}
	specPatches, _ := objects.Nested(ks, "spec", "patches").([]any)
	if !patchesSafe(a, ".", specPatches) {
		return false
	}
	for _, files := range in.config {
		for _, f := range files {
			if !slices.Contains(kustFileNames, path.Base(f)) || !a.isFile(f) {
				continue
			}
			k := c.kustomization(a, a.absOf(f))
			dir := path.Dir(f)
			for _, field := range []string{"patches", "patchesStrategicMerge", "patchesJson6902"} {
				list, _ := k[field].([]any)
				if !patchesSafe(a, dir, list) {
					return false
				}
			}
		}
	}
	return true
}

// patchesSafe reports whether none of the patches (kustomize's patch
// entries, made from dir) may change a listing field of a Flux
// Kustomization.
func patchesSafe(a *artifact, dir string, list []any) bool {
	for _, e := range list {
		var body string
		switch t := e.(type) {
		case string: // patchesStrategicMerge: a file or an inline patch
			if p := path.Clean(path.Join(dir, t)); a.isFile(p) {
				body = string(a.mem.files[a.absOf(p)])
			} else {
				body = t
			}
		case map[string]any:
			if k := objects.NestedString(t, "target", "kind"); k != "" && k != kindKustomize {
				continue
			}
			body = str(t["patch"])
			if p := str(t["path"]); p != "" {
				body = string(a.mem.files[a.absOf(path.Clean(path.Join(dir, p)))])
			}
		default:
			return false
		}
		if !patchBodySafe(body) {
			return false
		}
	}
	return true
}

func patchBodySafe(body string) bool {
	dec := yaml.NewDecoder(strings.NewReader(body))
	for {
		var doc any
		err := dec.Decode(&doc)
		if err != nil {
			return err.Error() == "EOF"
		}
		switch t := doc.(type) {
		case nil:
		case []any: // JSON 6902 operations
			for _, op := range t {
				m, ok := op.(map[string]any)
				if !ok || touchesListing(str(m["path"])) || m["from"] != nil && touchesListing(str(m["from"])) {
					return false
				}
			}
		case map[string]any:
			if k := str(t["kind"]); k != "" && k != kindKustomize {
				continue
			}
			if _, ok := t["$patch"]; ok {
				return false
			}
			spec, _ := t["spec"].(map[string]any)
			for k := range spec {
				if slices.Contains(leanFields, k) || strings.HasPrefix(k, "$") {
					return false
				}
			}
			md, _ := t["metadata"].(map[string]any)
			if _, ok := md["$patch"]; ok {
				return false
			}
		default:
			return false
		}
	}
}

func touchesListing(p string) bool {
	switch p {
	case "", "/", "/spec", "/metadata", "/metadata/name", "/metadata/namespace":
		return true
	}
	if strings.HasPrefix(p, "/metadata/name/") || strings.HasPrefix(p, "/metadata/namespace/") {
		return true
	}
	for _, f := range leanFields {
		if p == "/spec/"+f || strings.HasPrefix(p, "/spec/"+f+"/") {
			return true
		}
	}
	return false
}

// namespaceOf is the namespace kustomize gives the objects of resource file
// f: the outermost namespace: of its kustomizations, the parent's
// targetNamespace above all ("" when none sets one).
func (in *inputs) namespaceOf(f, targetNamespace string) string {
	if targetNamespace != "" {
		return targetNamespace
	}
	for _, d := range strings.Split(in.chain[f], "\x00") {
		if n := in.ns[d]; n != "" {
			return n
		}
	}
	return ""
}

// staticChildren lists the Flux Kustomizations lean parent p renders from
// the documents that declare them.
func (run *envRun) staticChildren(p *job) []*job {
	st := &p.ch
	target := objects.NestedString(p.ks, "spec", "targetNamespace")
	files := make([]string, 0, len(st.in.chain))
	for f := range st.in.chain {
		files = append(files, f)
	}
	slices.Sort(files)
	var out []*job
	for _, f := range files {
		origin, ok := st.art.files[f]
		if !ok {
			continue
		}
		lintFile, x, xrel := run.r.position(origin)
		if x == nil {
			continue
		}
		for _, d := range x.Files[xrel] {
			if !isFluxKustomization(d.APIVersion, d.Kind) {
				continue
			}
			ks := docSpec(d)
			if ks == nil {
				continue
			}
			if ns := st.in.namespaceOf(f, target); ns != "" {
				md, _ := ks["metadata"].(map[string]any)
				if md == nil {
					md = map[string]any{}
					ks["metadata"] = md
				}
				md["namespace"] = ns
			}
			id := cmpOr(objects.NestedString(ks, "metadata", "namespace"), "default") + "/" + objects.NestedString(ks, "metadata", "name")
			run.mu.Lock()
			dup := run.seen[id]
			run.mu.Unlock()
			if dup {
				continue
			}
			cj := run.newJob(ks, lintFile, p.k)
			cj.k.Line, cj.k.Column = d.Line, d.Column
			cj.ch.parent = p
			cj.ch.static = true
			cj.ch.declRel = f
			cj.ch.declared = run.r.changedFile(lintFile)
			out = append(out, cj)
		}
	}
	return out
}

// leanBuild builds lean parent p over the resource files in its subset and
// gives the static children it renders their exact spec. It reports
// false when only the full build will do.
func (run *envRun) leanBuild(ctx context.Context, p *job) bool {
	st := &p.ch
	run.r.refund(&p.k.charged) // an earlier lean build's output is replaced
	art, err := run.subsetArtifact(p)
	if err != nil {
		return false
	}
	m, wantOrigin, err := run.r.kustomizeBuild(art, p.ks, &p.k.charged)
	if err != nil {
		return false
	}
	vars := run.newSubstituter(p.k, p.ks)
	var objs []*Object
	for _, res := range m {
		obj, err := run.object(ctx, p.k, art, res, vars, wantOrigin)
		if err != nil {
			return false
		}
		objs = append(objs, obj)
	}
	if cm, ok := objects.Nested(p.ks, "spec", "commonMetadata").(map[string]any); ok {
		setCommonMetadata(objs, cm)
	}
	// Every static child whose document was kept must come out as listed.
	byID := map[string]*job{}
	for _, j := range run.jobs {
		if j.ch.parent == p {
			byID[j.k.ID()] = j
		}
	}
	adopted := map[*job]bool{}
	for _, o := range objs {
		if !isFluxKustomization(o.APIVersion(), o.Kind()) {
			continue
		}
		j := byID[cmpOr(o.Namespace(), "default")+"/"+o.Name()]
		if j == nil {
			return false
		}
		if j.ch.static && !run.adopt(j, o) {
			return false
		}
		adopted[j] = true
	}
	for _, j := range byID {
		if j.ch.static && st.subset[j.ch.declRel] && !adopted[j] {
			return false
		}
	}
	p.k.Objects = objs
	p.k.Rendered = true
	for _, o := range objs {
		run.register(o)
	}
	st.subsetBuilt = len(st.subset)
	leanBuilds.Add(1)
	return true
}

// leanBuilds counts successful lean builds (for tests).
var leanBuilds atomic.Int64

// adopt gives static child j the exact spec its parent rendered; false
// when a listing field differs from its document's.
func (run *envRun) adopt(j *job, o *Object) bool {
	for _, f := range leanFields {
		if fmt.Sprint(objects.Nested(j.ks, "spec", f)) != fmt.Sprint(objects.Nested(o.Content, "spec", f)) {
			return false
		}
	}
	k := j.k
	k.Spec, _ = o.Content["spec"].(map[string]any)
	k.SourceKind, k.SourceNamespace, k.SourceName = sourceRefOf(o.Content, k.Namespace)
	k.Path = objects.NestedString(o.Content, "spec", "path")
	k.ServiceAccountName = objects.NestedString(o.Content, "spec", "serviceAccountName")
	k.TargetNamespace = objects.NestedString(o.Content, "spec", "targetNamespace")
	k.Prune, _ = objects.Nested(o.Content, "spec", "prune").(bool)
	k.Force, _ = objects.Nested(o.Content, "spec", "force").(bool)
	k.File, k.Line, k.Column = o.File, o.Line, o.Column
	j.ks = o.Content
	j.ch.static = false
	j.ch.declRel = o.artRel
	return true
}

// dropStatic forgets p's static children before p is built in full (which
// lists them again, exactly).
func (run *envRun) dropStatic(p *job) {
	run.mu.Lock()
	defer run.mu.Unlock()
	gone := map[*Kustomization]bool{}
	run.jobs = slices.DeleteFunc(run.jobs, func(j *job) bool {
		if j.ch.parent == p && j.ch.static {
			gone[j.k] = true
			delete(run.seen, j.k.ID())
			return true
		}
		return false
	})
	run.env.Kustomizations = slices.DeleteFunc(run.env.Kustomizations, func(k *Kustomization) bool { return gone[k] })
}

// subsetArtifact is p's artifact with the resource files outside p's
// subset emptied and the kustomizations none of them is accumulated under
// reduced to nothing, in a directory of its own.
func (run *envRun) subsetArtifact(p *job) (*artifact, error) {
	st := &p.ch
	in, base := st.in, st.art
	keepDirs := map[string]bool{}
	for f := range st.subset {
		for _, c := range append([]string{in.chain[f]}, in.multi[f]...) {
			for _, d := range strings.Split(c, "\x00") {
				keepDirs[d] = true
			}
		}
	}
	config := map[string]bool{}
	for _, files := range in.config {
		for _, f := range files {
			config[f] = true
		}
	}
	r := run.r
	r.mu.Lock()
	r.subsets++
	dir := filepath.Join(r.tmp, fmt.Sprintf("subset%d", r.subsets))
	r.mu.Unlock()
	a := newArtifact(dir, base.Origin)
	a.files = base.files
	empty := []byte{}
	nothing := []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nmetadata:\n  name: gitops-lint-left-out\n")
	for abs, data := range base.mem.files {
		rel := base.rel(abs)
		_, resource := in.chain[rel]
		switch {
		case resource && !config[rel] && !st.subset[rel]:
			data = empty
		case slices.Contains(kustFileNames, path.Base(rel)) && in.kdirs[path.Dir(rel)] && !keepDirs[path.Dir(rel)] && !in.isComponent(path.Dir(rel)):
			data = nothing
		}
		a.mem.add(filepath.Join(dir, filepath.FromSlash(rel)), data)
	}
	for abs, err := range base.mem.refused {
		a.mem.refuse(filepath.Join(dir, filepath.FromSlash(base.rel(abs))), err)
	}
	for d := range base.mem.dirs { // empty directories too
		if rel := base.rel(d); rel != "." {
			if _, ok := a.mem.dirs[filepath.Join(dir, filepath.FromSlash(rel))]; !ok {
				a.mem.dirs[filepath.Join(dir, filepath.FromSlash(rel))] = nil
			}
		}
	}
	return a, nil
}

// isComponent reports whether dir was accumulated as a component (its
// configuration is in its includer's scope, not its own).
func (in *inputs) isComponent(dir string) bool {
	_, own := in.config[dir]
	return in.kdirs[dir] && !own
}

// lean handles the lean side of a wave: static jobs about to be built get
// their exact spec from a lean build of their parent; unaffected parents
// that may be lean list their children from documents (returned) instead
// of being built, or are built again over a grown subset. It returns the
// jobs still to build in full.
func (run *envRun) lean(ctx context.Context, pending []*job) (build, kids []*job) {
	parents := map[*job]bool{}
	for _, j := range pending {
		if j.ch.static {
			p := j.ch.parent
			p.ch.subset[j.ch.declRel] = true
			parents[p] = true
		}
	}
	for _, j := range pending {
		if j.ch.lean && j.ch.sched && len(j.ch.subset) > j.ch.subsetBuilt {
			parents[j] = true
		}
	}
	for p := range parents {
		if !p.ch.lean || !run.leanBuild(ctx, p) {
			run.goFull(p)
			if !slices.Contains(pending, p) {
				pending = append(pending, p)
			}
		}
	}
	for _, j := range pending {
		switch {
		case j.ch.static && !j.ch.parent.ch.lean:
			// Its parent is being built in full: listed again then.
		case j.ch.lean && j.ch.linted():
			// Affected after all (its variables, say): built in full.
			run.goFull(j)
			build = append(build, j)
		case j.ch.lean:
			j.ch.sched = false
		case run.leanEligible(j) && j.ch.subset == nil:
			j.ch.lean, j.ch.sched = true, false
			j.ch.subset = map[string]bool{}
			kids = append(kids, run.staticChildren(j)...)
		default:
			build = append(build, j)
		}
	}
	return build, kids
}

// goFull gives up on lean builds of p: its static children are forgotten
// and it is built in full.
func (run *envRun) goFull(p *job) {
	p.ch.lean, p.ch.full, p.ch.sched = false, true, true
	p.k.Objects, p.k.Rendered = nil, false
	run.r.refund(&p.k.charged)
	run.dropStatic(p)
}
