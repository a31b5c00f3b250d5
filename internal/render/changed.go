package render

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	syaml "sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// This file is --changed-since: which Flux Kustomizations' rendered output
// can differ from what it was at a base revision, given the files changed
// since then, without rendering the base revision.
//
// A Kustomization's output is a function of its spec (what its parent
// renders for it), the files its build reads, its source's packaging, and
// the variables it substitutes. The files a build reads are known before
// building it: kustomize reads the kustomization file of its path (or, with
// none, Flux's generator lists the path's manifests), and everything that
// file references, recursively. So each Kustomization's input set is
// computed from the artifact, and:
//   - a Kustomization whose input set holds a changed file is affected;
//   - its children's specs may have changed only when a changed input was
//     configuration (a kustomization file, a patch, a component, a generator
//     input), or a transformer that reads other resources is declared
//     (replacements, vars, configurations, transformers, crds), or its own
//     spec or variables changed: otherwise only the children declared in a
//     changed file are;
//   - the entry Kustomization being affected affects the whole environment
//     (it renders kustomize-controller's flags), as does a changed
//     .sourceignore;
//   - substituteFrom ConfigMaps/Secrets and sources whose producer is
//     affected affect their users (with no producer in git, any affected
//     Kustomization of the environment may have deleted it, so the user is
//     affected whenever one is).
//
// Unaffected Kustomizations are built only when something else needs their
// objects: parents (to find the children), producers of sources and
// substituted variables, and producers of what the checkers of an affected
// Kustomization look up (Namespaces, CRDs, RBAC, HelmRelease references,
// objects of the same kind and name). Producers are found from the input
// sets' documents. Their findings are not reported.

// changeSet is the --changed-since input of a run.
type changeSet struct {
	// abs holds the changed paths, absolute (below the linted root).
	abs []string
	mu  sync.Mutex
	// byArtifact caches what changed inside each artifact.
	byArtifact map[*artifact]*artifactChanges
	kusts      map[string]map[string]any // parsed kustomization files, by absolute artifact path
	// relevant is false when no changed file can reach a build (see
	// anyRelevant): then nothing is rendered at all.
	relevant bool
	// kustFile is set when a kustomization file changed: environments
	// discovered from kustomize overlays may then be others.
	kustFile bool
	// gone are the changed YAML files that no longer exist (absolute).
	gone []string
	// orphan: a changed file lies in a chart directory no HelmRelease
	// names (orphanChart).
	orphan     bool
	orphanOnce sync.Once
	// baseUnknown is set when the base content of the changed files is
	// not known: then environments may be new without it being known, and
	// the conservative rules apply (see newEntries).
	baseUnknown bool
	// newEnv holds the entries (entryKey) the base revision did not have.
	newEnv map[string]bool
}

func entryKey(e entry) string { return e.env.Name + "\x00" + e.env.Path + "\x00" + e.file }

// newEntries records which of entries discovery at the base revision
// would not have found: the linted repository with the changed YAML files
// as they were (gone if they were not there). Everything such an
// environment renders is new. Without the base content, environments
// without an entry document (overlays, Flux Operator) are taken as new
// when a kustomization file changed, and every environment when a YAML
// file is gone that no build reads now.
func (r *renderer) newEntries(entries []entry) {
	c := r.changes
	if r.tree != r.lint {
		return // the platform's environments do not change with the tenant
	}
	if r.opts.BaseContent == nil {
		c.baseUnknown = true
		return
	}
	base := &Index{Root: r.lint.Root, Files: maps.Clone(r.lint.Files)}
	for _, f := range r.opts.Changed {
		if !isYAMLName(path.Base(f)) {
			continue
		}
		delete(base.Files, f)
		if data, ok := r.opts.BaseContent[f]; ok && r.rd.parseable(data) {
			if docs, _, err := parseDocs(f, data); err == nil {
				base.Files[f] = docs
			}
		}
	}
	had := map[string]bool{}
	for _, e := range discover(base, r.opts.ExplicitEnvironments) {
		had[entryKey(e)] = true
	}
	c.newEnv = map[string]bool{}
	for _, e := range entries {
		if !had[entryKey(e)] {
			c.newEnv[entryKey(e)] = true
		}
	}
}

type artifactChanges struct {
	rel []string // artifact-relative changed paths
	all bool     // packaging changed (.sourceignore): everything is affected
}

func newChangeSet(root string, rel []string) *changeSet {
	c := &changeSet{byArtifact: map[*artifact]*artifactChanges{}, kusts: map[string]map[string]any{}}
	for _, p := range rel {
		abs := filepath.Join(root, filepath.FromSlash(p))
		c.abs = append(c.abs, abs)
		c.kustFile = c.kustFile || slices.Contains(kustFileNames, path.Base(p))
		if _, err := os.Lstat(abs); err != nil && isYAMLName(path.Base(p)) {
			c.gone = append(c.gone, abs)
		}
	}
	return c
}

// in returns what changed inside artifact a.
func (c *changeSet) in(a *artifact, lintRoot string) *artifactChanges {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ac, ok := c.byArtifact[a]; ok {
		return ac
	}
	ac := &artifactChanges{}
	var reverse map[string]string
	if a.Origin == "" {
		reverse = make(map[string]string, len(a.files))
		for rel, o := range a.files {
			reverse[o] = rel
		}
	}
	for _, p := range c.abs {
		if a.Origin != "" {
			rel, err := filepath.Rel(a.Origin, p)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				continue
			}
			rel = filepath.ToSlash(rel)
			if path.Base(rel) == ".sourceignore" {
				ac.all = true
			}
			ac.rel = append(ac.rel, rel)
			continue
		}
		// Assembled (ExternalArtifact): map the files it copied; a change
		// that maps to none may be a file it copied before, so be safe.
		if rel, ok := reverse[p]; ok {
			ac.rel = append(ac.rel, rel)
		} else if a.within(lintRoot) {
			ac.all = true
		}
	}
	c.byArtifact[a] = ac
	return ac
}

// kustomization returns the parsed kustomization file at abs (nil if it
// does not parse: the build reports that).
func (c *changeSet) kustomization(a *artifact, abs string) map[string]any {
	c.mu.Lock()
	k, ok := c.kusts[abs]
	c.mu.Unlock()
	if ok {
		return k
	}
	_ = syaml.Unmarshal(a.mem.files[abs], &k)
	c.mu.Lock()
	c.kusts[abs] = k
	c.mu.Unlock()
	return k
}

// inputs is what one build reads from its artifact (artifact-relative,
// '/'-separated paths; "." is the artifact root).
type inputs struct {
	read   map[string]bool // files read
	listed map[string]bool // directories Flux's generator lists
	kdirs  map[string]bool // directories whose kustomization file is looked up
	// Configuration (kustomization files, patches, generator inputs…) acts
	// on every resource of its kustomization, nested ones included: config
	// maps a kustomization directory to its configuration files, scope a
	// resource file to the kustomization directories it is accumulated
	// under ("" stands for the build itself). cross marks kustomization
	// directories with a transformer that may carry one resource's change
	// into others.
	config map[string][]string
	scope  map[string][]string
	cross  map[string]bool
	// chain maps a resource file to its scope stack ("\x00"-joined,
	// outermost first); multi holds the other chains of a file
	// accumulated through several (a component's, say). ns is the namespace: field of each
	// kustomization scope; renames is set when one renames objects
	// (namePrefix, nameSuffix).
	chain   map[string]string
	multi   map[string][]string
	ns      map[string]string
	renames bool
	// provides are the objects the read files declare or generate.
	provides []provided
	// overflow is set when the walk gave up (maxVisits): every change in
	// the artifact is then taken as an input.
	overflow bool
}

// maxVisits bounds the directories one input set walk visits.
const maxVisits = 20000

// crossKeys are kustomization fields whose transformers read other
// resources (or arbitrary configuration) to change an object.
var crossKeys = []string{"replacements", "vars", "configurations", "transformers", "validators", "generators", "crds", "openapi", "helmCharts"}

// inputsOf computes the input set of a build of dir (artifact-relative)
// with the given spec.components.
func (c *changeSet) inputsOf(r *renderer, a *artifact, dir string, components []string) *inputs {
	in := &inputs{read: map[string]bool{}, listed: map[string]bool{}, kdirs: map[string]bool{},
		config: map[string][]string{}, scope: map[string][]string{}, cross: map[string]bool{},
		chain: map[string]string{}, ns: map[string]string{}, multi: map[string][]string{}}
	v := &visitor{in: in, c: c, a: a, seen: map[string]bool{}, stack: []string{""}}
	dir = cleanRel(dir)
	v.visit(dir)
	for _, comp := range components {
		v.ref(dir, comp)
	}
	for rel := range in.read {
		in.provides = append(in.provides, c.providedBy(r, a, rel)...)
	}
	return in
}

func cleanRel(p string) string {
	p = path.Clean("/" + filepath.ToSlash(p))
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

func (a *artifact) absOf(rel string) string { return filepath.Join(a.Dir, filepath.FromSlash(rel)) }

// absIn is where artifact path rel is in the checkout it was made from
// ("" for an assembled artifact's file that has no origin).
func (a *artifact) absIn(rel string) string {
	if a.Origin != "" {
		return filepath.Join(a.Origin, filepath.FromSlash(rel))
	}
	return a.files[rel]
}

func (a *artifact) isDir(rel string) bool { _, ok := a.mem.dirs[a.absOf(rel)]; return ok }

func (a *artifact) isFile(rel string) bool { _, ok := a.mem.files[a.absOf(rel)]; return ok }

// kustFile returns the kustomization file of dir ("" if none).
func (a *artifact) kustFile(dir string) string {
	for _, name := range kustFileNames {
		if p := path.Join(dir, name); a.isFile(p) {
			return p
		}
	}
	return ""
}

// visitor walks what a build reads. stack holds the kustomization
// directories being accumulated, outermost first.
type visitor struct {
	in    *inputs
	c     *changeSet
	a     *artifact
	seen  map[string]bool
	stack []string
	// asConfig is set while following a reference that is configuration;
	// component while following a components: entry.
	asConfig, component bool
}

func (v *visitor) readFile(p string) {
	in := v.in
	in.read[p] = true
	top := v.stack[len(v.stack)-1]
	if v.asConfig {
		if !slices.Contains(in.config[top], p) {
			in.config[top] = append(in.config[top], p)
		}
		return
	}
	for _, d := range v.stack {
		if !slices.Contains(in.scope[p], d) {
			in.scope[p] = append(in.scope[p], d)
		}
	}
	chain := strings.Join(v.stack, "\x00")
	if prev, ok := in.chain[p]; ok && prev != chain {
		in.multi[p] = append(in.multi[p], chain)
		return
	}
	in.chain[p] = chain
}

// visit adds what a build of dir reads: its kustomization file and what it
// references, or (with none) the manifests Flux's generator lists below it.
func (v *visitor) visit(dir string) {
	key := fmt.Sprintf("%s\x00%v\x00%v\x00%s", dir, v.asConfig, v.component, strings.Join(v.stack, "\x00"))
	if v.seen[key] {
		return
	}
	if len(v.stack) > 64 || len(v.seen) > maxVisits {
		// A hostile tree (kustomizations including each other along many
		// paths): stop, and let every change count.
		v.in.overflow = true
		return
	}
	v.seen[key] = true
	a, in := v.a, v.in
	kf := a.kustFile(dir)
	if kf == "" {
		v.component = false
		in.listed[dir] = true
		for _, e := range a.mem.dirs[a.absOf(dir)] {
			p := path.Join(dir, e)
			switch {
			case a.isDir(p):
				v.visit(p)
			case isYAMLName(e):
				v.readFile(p)
			}
		}
		return
	}
	in.kdirs[dir] = true
	outer := v.asConfig
	// A component acts on the resources of the kustomization including
	// it: its configuration joins that kustomization's scope. Anything
	// else is a scope of its own.
	scope := dir
	if v.component {
		scope = v.stack[len(v.stack)-1]
		v.component = false // what the component names is not a component
	}
	v.stack = append(v.stack, scope)
	defer func() { v.stack, v.asConfig = v.stack[:len(v.stack)-1], outer }()
	v.asConfig = true
	v.readFile(kf)
	k := v.c.kustomization(a, a.absOf(kf))
	if n := str(k["namespace"]); n != "" && scope == dir {
		in.ns[dir] = n
	}
	if k["namePrefix"] != nil || k["nameSuffix"] != nil || (scope != dir && k["namespace"] != nil) {
		in.renames = true
	}
	for key, val := range k {
		switch key {
		case "apiVersion", "kind", "metadata":
		case "resources", "bases", "components":
			// A component's resources are resources; its own
			// kustomization file and patches are its configuration.
			v.asConfig = outer
			list, _ := val.([]any)
			for _, s := range list {
				v.component = key == "components"
				v.ref(dir, str(s))
				v.component = false
			}
		default:
			if slices.Contains(crossKeys, key) {
				in.cross[scope] = true
			}
			// Every other field may name files (patches, generator
			// inputs, configurations…): follow each string that
			// resolves to a path in the artifact, as configuration.
			v.asConfig = true
			walkStrings(val, func(s string) {
				v.ref(dir, s)
				if _, after, ok := strings.Cut(s, "="); ok {
					v.ref(dir, after)
				}
			})
		}
	}
}

// ref follows a reference s made from dir.
func (v *visitor) ref(dir, s string) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Contains(s, "://") || strings.ContainsAny(s, "\n\x00") || len(s) > 4096 {
		return
	}
	p := path.Clean(path.Join(dir, s))
	if p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
		return
	}
	if v.a.isDir(p) {
		v.visit(p)
		return
	}
	// A file, or a path that does not exist (yet): kustomize tries it.
	v.readFile(p)
}

func walkStrings(v any, fn func(string)) {
	switch t := v.(type) {
	case string:
		fn(t)
	case []any:
		for _, e := range t {
			walkStrings(e, fn)
		}
	case map[string]any:
		for _, e := range t {
			walkStrings(e, fn)
		}
	}
}

// hits returns the changed paths (artifact-relative) the build reads.
func (in *inputs) hits(a *artifact, changed []string) []string {
	var out []string
	for _, p := range changed {
		if in.reads(a, p) {
			out = append(out, p)
		}
	}
	return out
}

func (in *inputs) reads(a *artifact, p string) bool {
	if in.read[p] {
		return true
	}
	dir := path.Dir(p)
	for anc := dir; anc != "."; anc = path.Dir(anc) {
		if in.read[anc] {
			return true // below a referenced directory that is gone
		}
	}
	if in.kdirs[dir] && slices.Contains(kustFileNames, path.Base(p)) {
		return true // a kustomization file appeared or went
	}
	// A file (or directory) that is gone or new below a directory the
	// generator lists changes the listing.
	for anc := dir; ; anc = path.Dir(anc) {
		if in.listed[anc] {
			return anc != dir || isYAMLName(path.Base(p)) && !a.isFile(p)
		}
		if anc == "." || a.isDir(anc) {
			return false
		}
	}
}

// scopedHit reports whether a changed input may change the objects of
// resource file f: configuration of a kustomization f is accumulated
// under, or any change within a kustomization whose transformers read
// other resources. With f "", any configuration change counts.
func (in *inputs) scopedHit(f string, hits []string) bool {
	if len(hits) == 0 {
		return false
	}
	if in.overflow {
		return true
	}
	dirs := in.scope[f]
	if f == "" || len(dirs) == 0 {
		dirs = slices.Collect(maps.Keys(in.config))
		dirs = append(dirs, "")
		for d := range in.cross {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		for _, h := range hits {
			if slices.Contains(in.config[d], h) {
				return true
			}
			if in.cross[d] && slices.Contains(in.scope[h], d) {
				return true
			}
		}
	}
	for _, h := range hits {
		if slices.Contains(kustFileNames, path.Base(h)) && !in.read[h] || !in.read[h] && !in.listed[path.Dir(h)] {
			return true // a kustomization file appeared or went, or a directory did
		}
	}
	return false
}

// provided is an object a file declares or a kustomization generates.
type provided struct {
	file              string // artifact-relative
	group, kind, name string
	// crd is the group/Kind a CustomResourceDefinition defines, or that a
	// HelmRelease declares its chart provides.
	crds []string
	flux bool // a Flux Kustomization
	// release is what a HelmRelease's render reads besides its document.
	release *releaseInputs
}

// releaseInputs are what rendering a HelmRelease reads besides the
// HelmRelease itself: the chart directory and values files of a chart in a
// GitRepository or Bucket (paths in that source), and the objects it
// looks up (its chart source, its valuesFrom ConfigMaps and Secrets).
type releaseInputs struct {
	paths []string
	needs []need
}

// releaseInputsOf reads the release inputs of a HelmRelease document.
func releaseInputsOf(doc *yaml.Node) *releaseInputs {
	spec := child(doc, "spec")
	in := &releaseInputs{}
	chart := child(child(spec, "chart"), "spec")
	for _, ref := range []*yaml.Node{child(chart, "sourceRef"), child(spec, "chartRef")} {
		if kind, name := scalar(ref, "kind"), scalar(ref, "name"); kind != "" && name != "" {
			in.needs = append(in.needs, need{kind: kind, name: name, exact: true})
		}
	}
	if kind := scalar(child(chart, "sourceRef"), "kind"); kind == "GitRepository" || kind == "Bucket" {
		in.paths = append(in.paths, cleanRel(scalar(chart, "chart")))
		scalars(child(chart, "valuesFiles"), func(f string) { in.paths = append(in.paths, cleanRel(f)) })
		if f := scalar(chart, "valuesFile"); f != "" {
			in.paths = append(in.paths, cleanRel(f))
		}
	}
	if list := child(spec, "valuesFrom"); list != nil && list.Kind == yaml.SequenceNode {
		for _, v := range list.Content {
			if kind, name := scalar(v, "kind"), scalar(v, "name"); kind != "" && name != "" {
				in.needs = append(in.needs, need{kind: kind, name: name})
			}
		}
	}
	return in
}

// chartChanged reports whether a changed file of the linted repository
// may be read by a release whose chart and values files are at paths
// (relative to its source, which may be the repository, a subdirectory of
// it or a --source): a changed file at or under one of them, matched by
// path suffix so that the source's root does not matter; or a changed
// file of a chart directory no release names, which may be a file://
// dependency of any chart.
func (r *renderer) chartChanged(paths []string) bool {
	if r.changes == nil || len(paths) == 0 {
		return false
	}
	for _, f := range r.opts.Changed {
		for _, p := range paths {
			if p == "." || p == "" || pathUnder("/"+f, "/"+p) {
				return true
			}
		}
	}
	return r.changes.orphanChart(r)
}

// pathUnder reports whether f is p or lies below it, p matched as a
// suffix of f's directories ("/a/charts/x/t.yaml" is under "/charts/x").
func pathUnder(f, p string) bool {
	return strings.HasSuffix(f, p) || strings.Contains(f, p+"/")
}

// orphanChart reports whether a changed file lies in a chart directory
// (one holding a Chart.yaml, up to the linted repository's root) that no
// HelmRelease of the repository names as its chart: it may be a file://
// dependency of another chart. Computed once.
func (c *changeSet) orphanChart(r *renderer) bool {
	c.orphanOnce.Do(func() {
		named := map[string]bool{}
		for _, docs := range r.lint.Files {
			for _, d := range docs {
				if d.IsObject() && d.Kind == "HelmRelease" {
					for _, p := range releaseInputsOf(d.Node).paths {
						named[p] = true
					}
				}
			}
		}
		for _, f := range r.opts.Changed {
			for dir := path.Dir(f); dir != "." && dir != "/"; dir = path.Dir(dir) {
				if _, err := os.Lstat(filepath.Join(r.lint.Root, filepath.FromSlash(dir), "Chart.yaml")); err != nil {
					continue
				}
				found := false
				for p := range named {
					if pathUnder("/"+dir, "/"+p) || pathUnder("/"+p, "/"+dir) {
						found = true
						break
					}
				}
				if !found {
					c.orphan = true
					return
				}
			}
		}
	})
	return c.orphan
}

// providedBy lists what the artifact file rel declares.
func (c *changeSet) providedBy(r *renderer, a *artifact, rel string) []provided {
	var out []provided
	if slices.Contains(kustFileNames, path.Base(rel)) && a.isFile(rel) {
		k := c.kustomization(a, a.absOf(rel))
		for field, kind := range map[string]string{"configMapGenerator": "ConfigMap", "secretGenerator": "Secret"} {
			gens, _ := k[field].([]any)
			for _, g := range gens {
				gm, _ := g.(map[string]any)
				out = append(out, provided{file: rel, kind: kind, name: str(gm["name"])})
			}
		}
	}
	origin, ok := a.files[rel]
	if !ok {
		return out
	}
	_, x, xrel := r.position(origin)
	if x == nil {
		return out
	}
	for _, d := range x.Files[xrel] {
		if !d.IsObject() {
			continue
		}
		p := provided{file: rel, group: d.Group(), kind: d.Kind, name: d.Name, flux: isFluxKustomization(d.APIVersion, d.Kind)}
		switch {
		case d.Kind == "CustomResourceDefinition" && d.Group() == "apiextensions.k8s.io":
			spec := child(d.Node, "spec")
			p.crds = append(p.crds, scalar(spec, "group")+"/"+scalar(child(spec, "names"), "kind"))
		case d.Kind == "HelmRelease":
			ann := scalar(child(child(d.Node, "metadata"), "annotations"), ProvidesCRDsAnnotation)
			for _, gk := range strings.Split(ann, ",") {
				if gk = strings.TrimSpace(gk); gk != "" {
					p.crds = append(p.crds, gk)
				}
			}
			p.release = releaseInputsOf(d.Node)
		}
		out = append(out, p)
	}
	return out
}

// ProvidesCRDsAnnotation on a HelmRelease lists the kinds its chart's CRDs
// define ("group/Kind,…"): what a chart installs cannot be known offline.
const ProvidesCRDsAnnotation = "gitops-lint.io/provides-crds"

// need is something a build or a checker looks up in the environment.
type need struct {
	kind, name string
	exact      bool   // the name must match exactly (else it may carry a prefix/suffix)
	crd        string // group/Kind whose CRD is needed
	rbac       bool   // any RBAC object
}

var rbacKinds = []string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}

func (p provided) satisfies(n need) bool {
	switch {
	case n.rbac:
		return slices.Contains(rbacKinds, p.kind)
	case n.crd != "":
		return slices.Contains(p.crds, n.crd)
	case p.kind != n.kind || p.name == "":
		return false
	case n.exact:
		return p.name == n.name
	default:
		return strings.Contains(n.name, p.name)
	}
}

// renderNeeds are what building j looks up: its source and the objects
// it substitutes variables from.
func renderNeeds(j *job) []need {
	ns := []need{{kind: j.k.SourceKind, name: j.k.SourceName}}
	if j.k.SourceKind == kindExtArtifact {
		ns = append(ns, need{kind: kindArtifactGen})
	}
	for _, ref := range substituteFrom(j.ks) {
		ns = append(ns, need{kind: ref.Kind, name: ref.Name})
	}
	return ns
}

// Needs are the kinds of lookup a checker makes in the environment while
// it judges a Kustomization's objects. A checker declares its own; the
// zero value needs nothing beyond the objects themselves.
type Needs struct {
	// RBAC: the Roles, ClusterRoles and bindings, when the Kustomization
	// is impersonated (its ServiceAccount's permissions).
	RBAC bool
	// CRDs: the CustomResourceDefinition of each custom kind it applies.
	CRDs bool
	// Namespaces: the Namespace object of each namespaced object.
	Namespaces bool
	// SameName: other objects of the same kind and name (duplicates).
	SameName bool
	// References: the objects its spec references (decryption and
	// kubeConfig secrets) and its HelmReleases reference (chart sources,
	// valuesFrom, dependsOn).
	References bool
}

// Union is what n and o together need.
func (n Needs) Union(o Needs) Needs {
	return Needs{RBAC: n.RBAC || o.RBAC, CRDs: n.CRDs || o.CRDs, Namespaces: n.Namespaces || o.Namespaces,
		SameName: n.SameName || o.SameName, References: n.References || o.References}
}

// checkNeeds are what the checkers look up for an affected Kustomization,
// as far as they declared it (want).
func checkNeeds(k *Kustomization, lock Lockdown, want Needs) []need {
	var ns []need
	if want.References {
		for _, f := range []string{"decryption", "kubeConfig"} {
			if name := objects.NestedString(k.Spec, f, "secretRef", "name"); name != "" {
				ns = append(ns, need{kind: "Secret", name: name})
			}
		}
	}
	if want.RBAC && (k.ServiceAccountName != "" || lock.DefaultServiceAccountFor(k) != "") {
		ns = append(ns, need{rbac: true})
	}
	for _, o := range k.Objects {
		if want.SameName {
			ns = append(ns, need{kind: o.Kind(), name: o.Name(), exact: true})
		}
		if n := o.Namespace(); n != "" && want.Namespaces {
			ns = append(ns, need{kind: "Namespace", name: n, exact: true})
		}
		if g := objects.Group(o.APIVersion()); g != "" && want.CRDs {
			ns = append(ns, need{crd: g + "/" + o.Kind()})
		}
		if o.Kind() != "HelmRelease" || !want.References {
			continue
		}
		spec, _ := o.Content["spec"].(map[string]any)
		for _, ref := range []any{objects.Nested(spec, "chart", "spec", "sourceRef"), spec["chartRef"]} {
			if m, ok := ref.(map[string]any); ok {
				ns = append(ns, need{kind: str(m["kind"]), name: str(m["name"])})
			}
		}
		for _, field := range []string{"valuesFrom", "dependsOn"} {
			list, _ := spec[field].([]any)
			for _, v := range list {
				m, _ := v.(map[string]any)
				kind := str(m["kind"])
				if field == "dependsOn" {
					kind = "HelmRelease"
				}
				ns = append(ns, need{kind: kind, name: str(m["name"])})
			}
		}
	}
	return ns
}

// changedState is a job's --changed-since bookkeeping.
type changedState struct {
	in       *inputs
	art      *artifact
	hits     []string // changed inputs (artifact-relative)
	all      bool     // every object it renders may have changed
	affected bool     // its rendered output may have changed
	selected bool     // Options.Select picks it
	declared bool     // the file declaring it changed
	declRel  string   // that file, relative to the parent's artifact
	parent   *job
	sched    bool // to be built (affected, a parent, or another needs its objects)
	built    bool

	// Lean parents (lean.go): static is set while the spec is the
	// declaring document's rather than what the parent renders; lean
	// while the job is built over subset (artifact-relative resource
	// files) only, subsetBuilt of them so far; full once only a full
	// build will do; safe caches leanSafe.
	static, lean, full bool
	safe               *bool
	subset             map[string]bool
	subsetBuilt        int
}

// linted reports whether the run lints j: its output or check context may
// have changed, or it is selected.
func (st *changedState) linted() bool { return st.affected || st.selected }

// prepare computes j's input set and changed inputs; it reports whether j
// must be built now: affected on what is known so far, or a parent of
// other Kustomizations.
func (run *envRun) prepare(j *job) bool {
	cs := run.r.changes
	st := &j.ch
	if st.parent == nil {
		st.declared = run.r.changedFile(j.k.File)
	}
	if sel := run.r.opts.Select; sel != nil {
		st.selected = sel(run.env.Name, j.k.ID())
	}
	if st.in == nil {
		art, err := run.source(j)
		if err != nil {
			return true // reports the missing source if it is selected
		}
		ac := cs.in(art, run.r.lint.Root)
		var comps []string
		list, _ := objects.Nested(j.ks, "spec", "components").([]any)
		for _, c := range list {
			comps = append(comps, path.Join(cleanRel(j.k.Path), str(c)))
		}
		st.art = art
		j.k.Linted = art.within(run.r.lint.Root)
		st.in = cs.inputsOf(run.r, art, j.k.Path, comps)
		st.hits = st.in.hits(art, ac.rel)
		if st.in.overflow {
			st.hits = ac.rel
		}
		if ac.all {
			run.envAll = true
		}
		for _, h := range st.hits {
			run.read[art.absIn(h)] = true
		}
	}
	run.evaluate(j)
	if st.sched || st.linted() {
		return true
	}
	for _, p := range st.in.provides {
		if p.flux {
			return true
		}
	}
	return false
}

// evaluate updates j's affected state from what is known; it reports
// whether it changed. The state only ever grows, so repeating it over all
// jobs reaches a fixpoint.
func (run *envRun) evaluate(j *job) bool {
	st := &j.ch
	if st.affected && st.all {
		return false
	}
	all := run.envAll || st.declared
	if p := st.parent; p != nil && (p.ch.all || p.ch.in != nil && p.ch.in.scopedHit(st.declRel, p.ch.hits)) {
		all = true // its spec, as the parent renders it, may have changed
	}
	if st.parent == nil && (len(st.hits) > 0 || st.declared) {
		// The entry renders kustomize-controller itself (its flags) and
		// the source every child builds from.
		all = true
		run.envAll = true
	}
	if !all {
		for _, n := range renderNeeds(j) {
			if run.producerAffected(j, n) {
				all = true
				break
			}
		}
	}
	if !all && st.in != nil {
		all = run.releaseAffected(j)
	}
	affected := all || len(st.hits) > 0 || run.contextChanged(j)
	if affected == st.affected && all == st.all {
		return false
	}
	st.affected, st.all = affected, all
	return true
}

// releaseAffected reports whether a HelmRelease j applies renders
// differently although its document did not change: a file of its chart
// or a values file changed, or its chart source or a valuesFrom object
// may have.
func (run *envRun) releaseAffected(j *job) bool {
	for _, p := range j.ch.in.provides {
		if p.release == nil {
			continue
		}
		if run.r.chartChanged(p.release.paths) {
			return true
		}
	needs:
		for _, n := range p.release.needs {
			for _, q := range j.ch.in.provides {
				if q.satisfies(n) {
					continue needs // j's own: a change to it is j's
				}
			}
			if run.producerAffected(j, n) {
				return true
			}
		}
	}
	return false
}

// producerAffected reports whether what j needs may have changed: the
// object that satisfies it may have (its file changed, or configuration
// acting on it), or none in git does and any other Kustomization is
// affected (it may have removed it).
func (run *envRun) producerAffected(j *job, n need) bool {
	if n.kind == j.k.SourceKind && n.name == j.k.SourceName && slices.Contains(run.entry.self, objKey(n.kind, j.k.SourceNamespace, n.name)) {
		return false // the repository itself: the entry covers it
	}
	found, other := false, false
	for _, o := range run.jobs {
		if o == j {
			continue
		}
		other = other || o.ch.affected
		if o.ch.in == nil {
			continue
		}
		for _, p := range o.ch.in.provides {
			if !p.satisfies(n) {
				continue
			}
			found = true
			if o.ch.affected && (o.ch.all || slices.Contains(o.ch.hits, p.file) || o.ch.in.scopedHit(p.file, o.ch.hits)) {
				return true
			}
		}
	}
	return !found && other
}

// contextChanged reports whether what the checkers judge j's objects by
// changed although its output did not: the RBAC its ServiceAccount holds,
// or the CustomResourceDefinition of a kind it applies.
func (run *envRun) contextChanged(j *job) bool {
	if j.ch.in == nil {
		return false
	}
	want := run.r.opts.Needs
	if want.RBAC && (j.k.ServiceAccountName != "" || run.env.Lockdown.DefaultServiceAccountFor(j.k) != "") {
		if run.producerChanged(j, need{rbac: true}) {
			return true
		}
	}
	seen := map[string]bool{}
	for _, p := range j.ch.in.provides {
		if gk := p.group + "/" + p.kind; want.CRDs && p.group != "" && !seen[gk] {
			seen[gk] = true
			if run.producerChanged(j, need{crd: gk}) {
				return true
			}
		}
	}
	return false
}

// producerChanged reports whether an affected Kustomization other than j
// provides n from a changed file (or one configuration acts on).
func (run *envRun) producerChanged(j *job, n need) bool {
	for _, o := range run.jobs {
		if o == j || !o.ch.affected || o.ch.in == nil {
			continue
		}
		for _, p := range o.ch.in.provides {
			if p.satisfies(n) && (o.ch.all || slices.Contains(o.ch.hits, p.file) || o.ch.in.scopedHit(p.file, o.ch.hits)) {
				return true
			}
		}
	}
	return false
}

// settle runs the affected fixpoint, then returns the deferred jobs that
// must now be built: the affected ones and the producers of what built and
// to-be-built jobs need.
func (run *envRun) settle() []*job {
	// A YAML file that is gone and that no build reads now may have been
	// anything: an entry point, a Kustomization nothing lists any more.
	for _, g := range run.r.changes.gone {
		if run.r.changes.baseUnknown && !run.read[g] {
			run.envAll = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, j := range run.jobs {
			if run.evaluate(j) {
				changed = true
			}
		}
	}
	var todo []*job
	want := func(j *job) {
		if !j.ch.built && !j.ch.sched {
			j.ch.sched = true
			todo = append(todo, j)
		}
	}
	for _, j := range run.jobs {
		if j.ch.linted() {
			want(j)
		}
	}
	// Producers of what the wanted and built jobs need, transitively.
	for {
		var needs []need
		for _, j := range run.jobs {
			if !j.ch.built && !j.ch.sched {
				continue
			}
			needs = append(needs, renderNeeds(j)...)
			if j.ch.linted() && j.ch.built {
				needs = append(needs, checkNeeds(j.k, run.env.Lockdown, run.r.opts.Needs)...)
			}
		}
		before := len(todo)
		for _, o := range run.jobs {
			if o.ch.lean && !o.ch.sched {
				// A lean parent adds the files that provide what is
				// needed to its subset, and is built again.
				added := false
				for _, p := range o.ch.in.provides {
					if _, resource := o.ch.in.chain[p.file]; resource && !o.ch.subset[p.file] && p.satisfiesAny(needs) {
						o.ch.subset[p.file] = true
						added = true
					}
				}
				if added {
					o.ch.sched = true
					todo = append(todo, o)
				}
				continue
			}
			if o.ch.built || o.ch.sched || o.ch.in == nil {
				continue
			}
			if o.ch.in.satisfiesAny(needs) {
				want(o)
			}
		}
		if len(todo) == before {
			break
		}
	}
	return todo
}

func (in *inputs) satisfiesAny(ns []need) bool {
	for _, p := range in.provides {
		if p.satisfiesAny(ns) {
			return true
		}
	}
	return false
}

func (p provided) satisfiesAny(ns []need) bool {
	for _, n := range ns {
		if p.satisfies(n) {
			return true
		}
	}
	return false
}

// anyRelevant reports whether a changed file of the linted repository can
// reach a build: kustomize and Flux's generator read YAML files, the
// files a kustomization names (generator inputs, patches…, or anything
// below a directory it names), and source-controller reads .sourceignore.
// Anything else (documentation, scripts, images) is never read, so a run
// whose changes are all such files renders nothing.
func anyRelevant(x *Index, changed []string) bool {
	var named map[string]bool
	for _, c := range changed {
		base := path.Base(c)
		if isYAMLName(base) || base == ".sourceignore" {
			return true
		}
		if named == nil {
			named = kustomizationNames(x)
		}
		if named["\x00"+base] {
			return true
		}
		for p := c; p != "." && p != "/"; p = path.Dir(p) {
			if named[p] || p != c && isChartDir(x.Root, p) {
				return true // read by kustomize, or a file of a Helm chart
			}
		}
	}
	return false
}

// isChartDir reports whether the directory rel of root is a Helm chart
// (holds a Chart.yaml).
func isChartDir(root, rel string) bool {
	_, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel), "Chart.yaml"))
	return err == nil
}

// kustomizationNames collects every path the kustomization files of x
// name (resolved against their directory), and "\x00"+base name of each.
func kustomizationNames(x *Index) map[string]bool {
	named := map[string]bool{}
	for file, docs := range x.Files {
		if !slices.Contains(kustFileNames, path.Base(file)) {
			continue
		}
		dir := path.Dir(file)
		for _, d := range docs {
			scalars(d.Node, func(s string) {
				for _, part := range []string{s, s[strings.Index(s, "=")+1:]} {
					part = strings.TrimSpace(part)
					named[path.Clean(path.Join(dir, part))] = true
					named["\x00"+path.Base(part)] = true
				}
			})
		}
	}
	return named
}

// scalars calls fn with every scalar value below n.
func scalars(n *yaml.Node, fn func(string)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		fn(n.Value)
		return
	}
	for _, c := range n.Content {
		scalars(c, fn)
	}
}

// changedFile reports whether the linted-repo file rel changed.
func (r *renderer) changedFile(rel string) bool {
	if r.changes == nil || rel == "" {
		return false
	}
	_, ok := slices.BinarySearch(r.opts.Changed, rel)
	return ok
}
