package render

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// Flux API groups and kinds.
const (
	kustomizeGroup  = "kustomize.toolkit.fluxcd.io"
	sourceGroup     = "source.toolkit.fluxcd.io"
	sourceExtGroup  = "source.extensions.fluxcd.io"
	kindKustomize   = "Kustomization"
	kindGitRepo     = "GitRepository"
	kindExtArtifact = "ExternalArtifact"
	kindArtifactGen = "ArtifactGenerator"
	defaultNS       = "flux-system"
)

// isFluxKustomization reports whether apiVersion/kind is a Flux Kustomization
// (and not kustomize's own kustomize.config.k8s.io Kustomization).
func isFluxKustomization(apiVersion, kind string) bool {
	return kind == kindKustomize && objects.Group(apiVersion) == kustomizeGroup
}

// entry is where an environment starts: a Flux Kustomization to build first.
type entry struct {
	env EnvironmentSpec
	// ks is the entry Kustomization (a bootstrap sync, or synthetic).
	ks map[string]any
	// file/line/col declare it (empty for synthetic roots).
	file      string
	line, col int
	// self is the sourceRef ("Kind/ns/name") that means "this repository".
	self []string
	// branchFile/branchLine/branchCol locate the GitRepository's spec.ref.branch.
	branchFile            string
	branchLine, branchCol int
	// root is the directory of the repository that the self source's
	// artifact holds at its root ("" for the repository root): a Flux
	// Operator sync of an OCI artifact pushed from a subdirectory.
	root string
	// lockdown holds the kustomize-controller flags the entry configures
	// outside the rendered tree (a FluxInstance's multitenancy and
	// patches); nil when the tree says (bootstrap patches).
	lockdown *Lockdown
}

// discover finds the environments of a repository: bootstrap pairs first,
// else `flux bootstrap` layouts, else Flux Operator syncs (FluxInstance),
// else Flux Kustomizations no other Kustomization reaches, else top-level
// kustomize overlays.
func discover(x *Index, explicit []EnvironmentSpec) []entry {
	if len(explicit) > 0 {
		var out []entry
		for _, e := range explicit {
			en := syntheticEntry(e)
			if b := bootstrapIn(x, e.Path); b != nil {
				b.env.Name, b.env.Branch = e.Name, cmpOr(e.Branch, b.env.Branch)
				en = *b
			} else if o := operatorIn(x, e.Path); o != nil {
				o.env.Name, o.env.Branch = e.Name, cmpOr(e.Branch, o.env.Branch)
				en = *o
			}
			out = append(out, en)
		}
		return out
	}
	if out := bootstrapEntries(x); len(out) > 0 {
		return nameEntries(out)
	}
	if out := bootstrapLayoutEntries(x); len(out) > 0 {
		return nameEntries(out)
	}
	if out := operatorEntries(x); len(out) > 0 {
		return nameEntries(out)
	}
	if out := orphanEntries(x); len(out) > 0 {
		return nameEntries(out)
	}
	return nameEntries(overlayEntries(x))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func cleanPath(p string) string {
	p = path.Clean(strings.TrimPrefix(p, "./"))
	if p == "." || p == "/" {
		return ""
	}
	return strings.TrimPrefix(p, "/")
}

func under(file, dir string) bool {
	return dir == "" || strings.HasPrefix(file, dir+"/")
}

// docSpec decodes a document into the unstructured form apimachinery uses
// (int64 and float64 numbers, string keys).
func docSpec(d *Doc) map[string]any {
	if d.Node == nil {
		return docSpecJSON(d)
	}
	if v, err := decodedValue(d.Node); err == nil {
		if m, ok := v.(map[string]any); ok {
			return m
		}
	}
	return docSpecJSON(d)
}

// docSpecJSON is docSpec's generic path: decode, encode as JSON, read back.
func docSpecJSON(d *Doc) map[string]any {
	var v any
	if err := d.Node.Decode(&v); err != nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := utiljson.Unmarshal(b, &m); err != nil {
		return nil
	}
	return m
}

// sourceRefOf returns Kind/namespace/name of a Kustomization's sourceRef.
func sourceRefOf(ks map[string]any, ns string) (kind, namespace, name string) {
	kind = cmpOr(objects.NestedString(ks, "spec", "sourceRef", "kind"), kindGitRepo)
	namespace = cmpOr(objects.NestedString(ks, "spec", "sourceRef", "namespace"), ns)
	name = objects.NestedString(ks, "spec", "sourceRef", "name")
	return
}

func nsOf(d *Doc) string { return cmpOr(d.Namespace, defaultNS) }

// bootstrapEntries finds Flux's bootstrap pairs: a Kustomization whose
// GitRepository is declared in the repo and whose path holds the file that
// declares it (the sync reconciles itself).
func bootstrapEntries(x *Index) []entry {
	var out []entry
	for _, d := range x.Docs() {
		if !isFluxKustomization(d.APIVersion, d.Kind) {
			continue
		}
		ks := docSpec(d)
		kind, ns, name := sourceRefOf(ks, nsOf(d))
		if kind != kindGitRepo {
			continue
		}
		p := objects.NestedString(ks, "spec", "path")
		// A sync reconciles itself: its path holds its own file. A tenant's
		// sync at the root of its repo ("./") is not a cluster entry point.
		if strings.Contains(p, "${") || !under(d.File, cleanPath(p)) || (cleanPath(p) == "" && d.Name != defaultNS) {
			continue
		}
		// The pair's GitRepository: the one closest to the Kustomization
		// (same file, then same directory, then inside the synced path).
		var repo *Doc
		best := 0
		for _, g := range x.Docs() {
			if g.Kind != kindGitRepo || objects.Group(g.APIVersion) != sourceGroup || g.Name != name || nsOf(g) != ns {
				continue
			}
			score := 1
			switch {
			case g.File == d.File:
				score = 4
			case path.Dir(g.File) == path.Dir(d.File):
				score = 3
			case under(g.File, cleanPath(p)):
				score = 2
			}
			if score > best {
				repo, best = g, score
			}
		}
		if repo == nil {
			continue
		}
		gr := docSpec(repo)
		out = append(out, entry{
			env:  EnvironmentSpec{Path: cleanPath(p), Branch: objects.NestedString(gr, "spec", "ref", "branch")},
			ks:   ks,
			file: d.File, line: d.Line, col: d.Column,
			self:       []string{kindGitRepo + "/" + ns + "/" + name},
			branchFile: repo.File,
		})
		e := &out[len(out)-1]
		e.branchLine, e.branchCol = repo.FieldPos("spec", "ref", "branch")
	}
	return out
}

// bootstrapIn returns the bootstrap entry whose path is dir, if any.
func bootstrapIn(x *Index, dir string) *entry {
	for _, e := range bootstrapEntries(x) {
		if e.env.Path == cleanPath(dir) {
			return &e
		}
	}
	return nil
}

// syntheticEntry makes a root Kustomization flux-system/flux-system that
// builds dir from this repository, as a Flux bootstrap (or the Flux
// Operator's FluxInstance sync) would.
func syntheticEntry(e EnvironmentSpec) entry {
	e.Path = cleanPath(e.Path)
	return entry{
		env: e,
		ks: map[string]any{
			"apiVersion": kustomizeGroup + "/v1",
			"kind":       kindKustomize,
			"metadata":   map[string]any{"name": defaultNS, "namespace": defaultNS},
			"spec": map[string]any{
				"path":      "./" + e.Path,
				"prune":     true,
				"sourceRef": map[string]any{"kind": kindGitRepo, "name": defaultNS},
			},
		},
		self: []string{kindGitRepo + "/" + defaultNS + "/" + defaultNS},
	}
}

// orphanEntries finds the Flux Kustomizations no other Kustomization's
// path reaches (a sync created outside git, e.g. by `flux bootstrap` before
// it committed its sync, or applied by hand); each is an entry point.
//
// A Kustomization whose path holds its own file (a sync that reconciles
// itself, created once outside git) and that no other Kustomization
// reaches is a root, and the entry is that Kustomization itself: what its
// sourceRef names is this repository. Kustomizations that reach only each
// other (a cycle of paths) get a root too: the one declared nearest the
// repository root. Any other orphan makes its directory an entry point, a
// synthetic sync of this repository.
func orphanEntries(x *Index) []entry {
	type fluxKS struct {
		d    *Doc
		ks   map[string]any
		path string // cleaned spec.path
		lit  bool   // the path is literal (no ${var}) and not the root
	}
	var kss []*fluxKS
	for _, d := range x.Docs() {
		if isFluxKustomization(d.APIVersion, d.Kind) {
			ks := docSpec(d)
			p := objects.NestedString(ks, "spec", "path")
			kss = append(kss, &fluxKS{d: d, ks: ks, path: cleanPath(p), lit: !strings.Contains(p, "${") && cleanPath(p) != ""})
		}
	}
	reaches := func(a, b *fluxKS) bool { return a.lit && under(b.d.File, a.path) }
	var roots []*fluxKS
	for _, b := range kss {
		covered := false
		for _, a := range kss {
			if a != b && reaches(a, b) {
				covered = true
				break
			}
		}
		if !covered {
			roots = append(roots, b)
		}
	}
	// Everything the roots reach, transitively; what is left reaches only
	// itself in cycles: give each cycle the root declared nearest the top.
	reached := map[*fluxKS]bool{}
	var mark func(k *fluxKS)
	mark = func(k *fluxKS) {
		if reached[k] {
			return
		}
		reached[k] = true
		for _, o := range kss {
			if reaches(k, o) {
				mark(o)
			}
		}
	}
	for _, r := range roots {
		mark(r)
	}
	for {
		var next *fluxKS
		for _, k := range kss {
			if reached[k] {
				continue
			}
			if next == nil || nearer(k.d, next.d) {
				next = k
			}
		}
		if next == nil {
			break
		}
		roots = append(roots, next)
		mark(next)
	}

	var out []entry
	dirs := map[string]bool{}
	for _, r := range roots {
		if reaches(r, r) {
			ns := cmpOr(r.d.Namespace, "default") // as the renderer places it
			k, sns, n := sourceRefOf(r.ks, ns)
			out = append(out, entry{
				env: EnvironmentSpec{Path: r.path},
				ks:  r.ks, file: r.d.File, line: r.d.Line, col: r.d.Column,
				self: []string{objKey(k, sns, n)},
			})
			continue
		}
		dirs[path.Dir(r.d.File)] = true
	}
	for dir := range dirs {
		if dir == "." {
			dir = ""
		}
		e := syntheticEntry(EnvironmentSpec{Path: dir})
		// Orphans name their source; treat what they name as this repository.
		for _, k := range kss {
			if path.Dir(k.d.File) == cmpOr(dir, ".") {
				kind, ns, n := sourceRefOf(k.ks, nsOf(k.d))
				if kind == kindGitRepo {
					e.self = append(e.self, kind+"/"+ns+"/"+n)
				}
			}
		}
		out = append(out, e)
	}
	return out
}

// nearer orders documents by depth of their file, then file, then line.
func nearer(a, b *Doc) bool {
	da, db := strings.Count(a.File, "/"), strings.Count(b.File, "/")
	if da != db {
		return da < db
	}
	if a.File != b.File {
		return a.File < b.File
	}
	return a.Line < b.Line
}

// overlayEntries treats every kustomize overlay that no other kustomization
// includes as an environment (a repo without Flux objects).
func overlayEntries(x *Index) []entry {
	kdirs := map[string]bool{}
	included := map[string]bool{}
	for f, docs := range x.Files {
		if !slices.Contains(kustFileNames, path.Base(f)) || len(docs) == 0 {
			continue
		}
		dir := path.Dir(f)
		kdirs[dir] = true
		var k kustypes.Kustomization
		if b, err := yaml.Marshal(docSpec(docs[0])); err != nil || yaml.Unmarshal(b, &k) != nil {
			continue
		}
		for _, r := range append(append(slices.Clone(k.Resources), k.Bases...), k.Components...) {
			included[path.Clean(path.Join(dir, r))] = true
		}
	}
	var out []entry
	for dir := range kdirs {
		if !included[dir] {
			if dir == "." {
				dir = ""
			}
			out = append(out, syntheticEntry(EnvironmentSpec{Path: dir}))
		}
	}
	return out
}

// nameEntries names environments after their directory, using more of the
// path where two directories share a base name, and sorts them.
func nameEntries(es []entry) []entry {
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.env.Path, b.env.Path) })
	count := map[string]int{}
	for _, e := range es {
		count[path.Base(cmpOr(e.env.Path, "."))]++
	}
	for i := range es {
		if es[i].env.Name != "" {
			continue
		}
		base := path.Base(cmpOr(es[i].env.Path, "."))
		if base == "." {
			base = "default"
		}
		if count[base] > 1 {
			base = strings.ReplaceAll(es[i].env.Path, "/", "-")
		}
		es[i].env.Name = base
	}
	return es
}

// bootstrapLayoutEntries finds `flux bootstrap` layouts whose sync is not
// committed yet (a placeholder gotk-sync.yaml, as in Flux's example repos):
// DIR/flux-system/ holding gotk-components.yaml or gotk-sync.yaml makes DIR
// an environment, synced from this repository.
func bootstrapLayoutEntries(x *Index) []entry {
	dirs := map[string]bool{}
	for f := range x.Files {
		base := path.Base(f)
		parent := path.Dir(f)
		if (base == "gotk-components.yaml" || base == "gotk-sync.yaml") && path.Base(parent) == defaultNS {
			dirs[path.Dir(parent)] = true
		}
	}
	var out []entry
	for d := range dirs {
		if d == "." {
			d = ""
		}
		out = append(out, syntheticEntry(EnvironmentSpec{Path: d}))
	}
	return out
}
