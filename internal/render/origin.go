package render

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
)

// generatorAt is a ConfigMap or Secret generator of a kustomization file;
// create is false for one that merges into or replaces another object.
type generatorAt struct {
	name, kfile string
	create      bool
}

// errNeedOrigin: the build must run again with kustomize's origin
// annotations, because originsOf cannot be certain where its objects come
// from.
var errNeedOrigin = errors.New("origins not certain without kustomize's annotations")

// originsOf sets kustomize's origin annotation on every object of a build
// that ran without buildMetadata, as kustomize would have: the path, from
// the build directory, of the resource file the object comes from. That
// file is the only one of the files the build's kustomizations list as
// resources that holds a document of the object's kind and name (or, under
// a name prefix or suffix, one whose name the object's contains; for a
// Namespace, one listed by a kustomization whose namespace: names it, as
// kustomize renames Namespaces). Whenever
// that is not certain, it returns errNeedOrigin and kustomize is asked:
//   - an object without a candidate, or with candidates in two files;
//   - a resource file the index did not parse (not YAML, oversized);
//   - a ConfigMap or Secret whose name holds the names of several
//     generators, or of one that merges or replaces, or of one and a
//     resource document's, or any in a build that generates through
//     generators: or Helm charts (one whose name holds exactly one creating
//     generator's, and no document's, is that generator's: kustomize
//     records the kustomization file that declares it);
//   - a build whose patches or replacements may remove or replace
//     annotations (kustomize would then record the transformer).
func (r *renderer) originsOf(a *artifact, dirPath string, g *guardFS, res []*resource.Resource) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.touchesMeta {
		return errNeedOrigin
	}
	type file struct {
		abs  string
		docs []*Doc
		ns   string // the namespace: of the kustomization listing it
	}
	var files []file
	for abs, ns := range g.resFiles {
		if _, ok := a.mem.files[abs]; !ok {
			continue // a directory: its own kustomization lists its files
		}
		src, ok := a.OriginOf(abs)
		if !ok {
			return errNeedOrigin
		}
		_, x, rel := r.position(src)
		if x == nil {
			return errNeedOrigin
		}
		docs, parsed := x.Files[rel]
		if !parsed {
			return errNeedOrigin
		}
		files = append(files, file{abs, docs, ns})
	}
	slices.SortFunc(files, func(p, q file) int { return strings.Compare(p.abs, q.abs) })
	for _, x := range res {
		kind, name := x.GetKind(), x.GetName()
		var gens []generatorAt
		if kind == "ConfigMap" || kind == "Secret" {
			if g.generates {
				return errNeedOrigin
			}
			// Prefixes, suffixes and hashes only add to a generated name.
			for _, gen := range g.gens {
				if gen.name != "" && strings.Contains(name, gen.name) {
					gens = append(gens, gen)
				}
			}
		}
		from, sure := "", true
		pick := func(match func(f *file, d *Doc) bool) {
			for _, f := range files {
				if slices.ContainsFunc(f.docs, func(d *Doc) bool { return match(&f, d) }) {
					sure = sure && (from == "" || from == f.abs)
					from = f.abs
				}
			}
		}
		pick(func(_ *file, d *Doc) bool { return d.Kind == kind && d.Name == name })
		if from == "" {
			pick(func(_ *file, d *Doc) bool { return d.Kind == kind && d.Name != "" && strings.Contains(name, d.Name) })
		}
		if from == "" && kind == "Namespace" {
			// kustomize names a Namespace after the namespace: of the
			// kustomization listing it.
			pick(func(f *file, d *Doc) bool { return d.Kind == kind && f.ns == name })
		}
		field := "path"
		switch {
		case len(gens) == 1 && gens[0].create && from == "":
			// Generated: kustomize records the kustomization file.
			from, field = gens[0].kfile, "configuredIn"
		case len(gens) > 0, from == "" || !sure:
			return errNeedOrigin
		}
		rel, err := filepath.Rel(dirPath, from)
		if err != nil {
			return errNeedOrigin
		}
		ann := x.GetAnnotations()
		ann[originAnnotation] = field + ": " + filepath.ToSlash(rel) + "\n"
		if err := x.SetAnnotations(ann); err != nil {
			return errNeedOrigin
		}
	}
	return nil
}

// mayTouchMeta reports whether a kustomization's patches or replacements
// may remove or replace an object's annotations (read: mention them, a
// $patch directive or metadata as a whole); file reads the files they
// name.
func mayTouchMeta(k *kustypes.Kustomization, file func(string) []byte) bool {
	var texts []string
	for _, p := range k.Patches {
		texts = append(texts, p.Patch, string(file(p.Path)))
	}
	for _, p := range k.PatchesJson6902 {
		texts = append(texts, p.Patch, string(file(p.Path)))
	}
	for _, p := range k.PatchesStrategicMerge {
		s := string(p)
		if !strings.Contains(s, "\n") {
			s += "\n" + string(file(s))
		}
		texts = append(texts, s)
	}
	for _, rp := range k.Replacements {
		if rp.Path == "" {
			return true // inline: judged conservatively
		}
		texts = append(texts, string(file(rp.Path)))
	}
	for _, t := range texts {
		if strings.Contains(t, "annotations") || strings.Contains(t, "$patch") || strings.Contains(t, "/metadata") {
			return true
		}
	}
	return false
}
