package render

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/gitops-lint/gitops-lint/internal/objects"
)

// The Flux Operator (github.com/controlplaneio-fluxcd/flux-operator) installs
// Flux from a FluxInstance and, when spec.sync is set, creates the cluster's
// sync itself (internal/builder/templates.go, syncTmpl): a source of
// spec.sync.kind named spec.sync.name (default: the FluxInstance's
// namespace) in the FluxInstance's namespace, and a Flux Kustomization of
// the same name and namespace that builds spec.sync.path from it with
// prune, after spec.kustomize.patches (and, with cluster.multitenant, the
// operator's multitenant profile) are applied to it. Neither is in git:
// discovery makes them from the FluxInstance (see docs/flux-operator.md).

const (
	operatorGroup    = "fluxcd.controlplane.io"
	kindFluxInstance = "FluxInstance"
	kindResourceSet  = "ResourceSet"
	kindHelmRelease  = "HelmRelease"
	kindOCIRepo      = "OCIRepository"
	kindBucket       = "Bucket"
)

// fluxSync is one FluxInstance sync found in the repository.
type fluxSync struct {
	kind, url, ref, path, name, namespace string
	multitenant                           bool
	tenantSA                              string
	patches                               []any
	// doc declares it; at is the path of spec.sync within doc's content.
	doc *Doc
	at  []string
}

// operatorEntries finds clusters the Flux Operator syncs: every
// FluxInstance (a fluxcd.controlplane.io FluxInstance object, one in a
// ResourceSet's resources, or the values of the flux-instance Helm chart:
// a HelmRelease's spec.values.instance or a values file's instance) whose
// spec.sync path exists in this repository.
func operatorEntries(x *Index) []entry {
	var out []entry
	seen := map[string]bool{}
	for _, s := range fluxSyncs(x) {
		root, ok := syncRoot(x, s)
		if !ok {
			continue
		}
		p := cleanPath(s.path)
		key := root + "\x00" + p
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, s.entry(root, p))
	}
	return out
}

// operatorIn returns the Flux Operator entry whose environment path is dir.
func operatorIn(x *Index, dir string) *entry {
	for _, e := range operatorEntries(x) {
		if e.env.Path == cleanPath(dir) {
			return &e
		}
	}
	return nil
}

// fluxSyncs lists the FluxInstance syncs of the repository, FluxInstance
// objects first, then the flux-instance chart's values, each in file order.
func fluxSyncs(x *Index) []fluxSync {
	var instances, charts []fluxSync
	for _, d := range append(x.Docs(), chartValues(x)...) {
		if !maySync(d) {
			continue // decoding every document of a repository is not cheap
		}
		m := docSpec(d)
		if m == nil {
			continue
		}
		switch {
		case d.Kind == kindFluxInstance && objects.Group(d.APIVersion) == operatorGroup:
			if s, ok := syncOf(m, nsOf(d), "spec"); ok {
				s.doc, s.at = d, []string{"spec", "sync"}
				instances = append(instances, s)
			}
		case d.Kind == kindHelmRelease && d.IsObject():
			ns := cmpOr(objects.NestedString(m, "spec", "targetNamespace"), nsOf(d))
			if s, ok := syncOf(m, ns, "spec", "values", "instance"); ok {
				s.doc, s.at = d, []string{"spec", "values", "instance", "sync"}
				charts = append(charts, s)
			}
		case d.Kind == kindResourceSet && objects.Group(d.APIVersion) == operatorGroup:
			res, _ := objects.Nested(m, "spec", "resources").([]any)
			for i, r := range res {
				rm, _ := r.(map[string]any)
				ns := cmpOr(objects.NestedString(rm, "metadata", "namespace"), nsOf(d))
				var s fluxSync
				var ok bool
				var at []string
				switch str(rm["kind"]) {
				case kindFluxInstance:
					s, ok = syncOf(rm, ns, "spec")
					at = []string{"spec", "resources", strconv.Itoa(i), "spec", "sync"}
				case kindHelmRelease:
					s, ok = syncOf(rm, cmpOr(objects.NestedString(rm, "spec", "targetNamespace"), ns), "spec", "values", "instance")
					at = []string{"spec", "resources", strconv.Itoa(i), "spec", "values", "instance", "sync"}
				}
				if ok {
					s.doc, s.at = d, at
					instances = append(instances, s)
				}
			}
		case !d.IsObject():
			// A values file of the flux-instance chart (a valuesFrom
			// ConfigMap's generator input).
			if s, ok := syncOf(m, defaultNS, "instance"); ok {
				s.doc, s.at = d, []string{"instance", "sync"}
				charts = append(charts, s)
			}
		}
	}
	return append(instances, charts...)
}

// maySync reports whether fluxSyncs may find a sync in d: a FluxInstance,
// HelmRelease or ResourceSet, or a values document with an instance key
// (or a merge key that could bring one).
func maySync(d *Doc) bool {
	switch {
	case d.Kind == kindFluxInstance && objects.Group(d.APIVersion) == operatorGroup,
		d.Kind == kindResourceSet && objects.Group(d.APIVersion) == operatorGroup:
		return true
	case d.Kind == kindHelmRelease && d.IsObject():
		return mayHave(d.Node, "spec", "values", "instance")
	case d.IsObject():
		return false
	}
	return mayHave(d.Node, "instance")
}

// mayHave reports whether the mapping n may hold the path of keys: false
// only when it certainly does not (no merge keys, aliases or non-scalar
// keys on the way, which decoding could turn into the key).
func mayHave(n *yamlv3.Node, path ...string) bool {
	if n != nil && n.Kind == yamlv3.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if len(path) == 0 {
		return true
	}
	if n == nil || n.Kind != yamlv3.MappingNode {
		return n != nil && n.Kind == yamlv3.AliasNode
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yamlv3.ScalarNode || k.Value == "<<" {
			return true
		}
		if k.Value == path[0] && mayHave(n.Content[i+1], path[1:]...) {
			return true
		}
	}
	return false
}

// valuesName matches the Helm values files the index leaves out (see
// nonManifestNames).
var valuesName = regexp.MustCompile(`^values(\.[\w-]+)?\.ya?ml$`)

// chartValues reads the Helm values files that kustomizations turn into
// ConfigMaps (configMapGenerator files, the usual valuesFrom input of a
// flux-instance HelmRelease); the index does not hold them. They are read
// within the run's limits, and not at all for an index without a reader
// (a --changed-since base revision: its environments then count as new).
func chartValues(x *Index) []*Doc {
	if x.rd == nil {
		return nil
	}
	var rels []string
	for f, docs := range x.Files {
		if !slices.Contains(kustFileNames, path.Base(f)) || len(docs) == 0 {
			continue
		}
		gens, _ := docSpec(docs[0])["configMapGenerator"].([]any)
		for _, g := range gens {
			gm, _ := g.(map[string]any)
			files, _ := gm["files"].([]any)
			for _, e := range files {
				_, p, ok := strings.Cut(str(e), "=")
				if !ok {
					p = str(e)
				}
				rel := path.Join(path.Dir(f), p)
				if valuesName.MatchString(path.Base(rel)) && !strings.HasPrefix(rel, "../") && rel != ".." && x.Files[rel] == nil {
					rels = append(rels, rel)
				}
			}
		}
	}
	if len(rels) == 0 {
		return nil
	}
	slices.Sort(rels)
	rels = slices.Compact(rels)
	croot, err := x.rd.openRoot(x.Root)
	if err != nil {
		return nil
	}
	defer croot.Close()
	var out []*Doc
	for _, rel := range rels {
		abs := filepath.Join(x.Root, filepath.FromSlash(rel))
		info, err := os.Lstat(abs)
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		data, err := x.file(croot, abs, rel, info.Size())
		if err != nil || !x.rd.parseable(data) {
			continue
		}
		if docs, _, err := parseDocs(rel, data); err == nil {
			out = append(out, docs...)
		}
	}
	return out
}

// syncOf reads a FluxInstance spec (or the chart's instance values) at
// keys of m: its sync, kustomize patches and multitenancy.
func syncOf(m map[string]any, ns string, keys ...string) (fluxSync, bool) {
	spec, _ := objects.Nested(m, keys...).(map[string]any)
	sync, _ := spec["sync"].(map[string]any)
	s := fluxSync{
		kind: str(sync["kind"]), url: str(sync["url"]), ref: str(sync["ref"]),
		path: str(sync["path"]), name: str(sync["name"]), namespace: ns,
	}
	switch s.kind {
	case kindGitRepo, kindOCIRepo, kindBucket:
	default:
		return s, false
	}
	for _, v := range []string{s.path, s.name, s.namespace} {
		if strings.Contains(v, "${") || strings.Contains(v, "<<") || strings.Contains(v, "{{") {
			return s, false // templated (postBuild, ResourceSet inputs, Helm)
		}
	}
	if s.name == "" {
		s.name = s.namespace
	}
	s.multitenant, _ = objects.Nested(spec, "cluster", "multitenant").(bool)
	s.tenantSA = cmpOr(objects.NestedString(spec, "cluster", "tenantDefaultServiceAccount"), "default")
	s.patches, _ = objects.Nested(spec, "kustomize", "patches").([]any)
	return s, true
}

// syncRoot finds where, in this repository, the sync's artifact root is: a
// GitRepository's is the repository root; an OCI artifact or a Bucket may
// have been pushed from a subdirectory, so theirs is the shallowest
// directory (of those above the FluxInstance's file, then any) below which
// spec.sync.path exists. ok is false when the path exists nowhere (the
// FluxInstance syncs another repository).
func syncRoot(x *Index, s fluxSync) (string, bool) {
	p := cleanPath(s.path)
	if strings.HasPrefix(p, "../") || p == ".." {
		return "", false
	}
	if repoHasDir(x, p) {
		return "", true
	}
	if s.kind == kindGitRepo {
		return "", false
	}
	dir := path.Dir(s.doc.File)
	var above []string
	for ; dir != "." && dir != "/"; dir = path.Dir(dir) {
		above = append(above, dir)
	}
	slices.Reverse(above)
	for _, d := range above {
		if repoHasDir(x, path.Join(d, p)) {
			return d, true
		}
	}
	// Anywhere else: only when exactly one directory fits.
	found := map[string]bool{}
	for f := range x.Files {
		for d := path.Dir(f); d != "." && d != "/"; d = path.Dir(d) {
			if rest, ok := strings.CutSuffix(d, "/"+p); ok && p != "" {
				found[rest] = true
			}
		}
	}
	if len(found) == 1 {
		for d := range found {
			return d, true
		}
	}
	return "", false
}

// repoHasDir reports whether the repository has a YAML file below dir.
func repoHasDir(x *Index, dir string) bool {
	for f := range x.Files {
		if under(f, dir) {
			return true
		}
	}
	return false
}

// entry makes the environment entry of a sync whose artifact root is root
// (relative to the repository) and whose path p is relative to that root.
func (s fluxSync) entry(root, p string) entry {
	ks := map[string]any{
		"apiVersion": kustomizeGroup + "/v1",
		"kind":       kindKustomize,
		"metadata":   map[string]any{"name": s.name, "namespace": s.namespace},
		"spec": map[string]any{
			"interval":  "10m0s",
			"path":      "./" + p,
			"prune":     true,
			"sourceRef": map[string]any{"kind": s.kind, "name": s.name},
		},
	}
	if s.multitenant {
		// The operator's multitenant profile (internal/builder/profiles.go).
		ks["spec"].(map[string]any)["serviceAccountName"] = "kustomize-controller"
	}
	ks = patchSync(ks, s.patches)
	e := entry{
		env:  EnvironmentSpec{Path: cleanPath(path.Join(root, p))},
		ks:   ks,
		file: s.doc.File,
		self: []string{objKey(s.kind, s.namespace, s.name)},
		root: root,
		lockdown: &Lockdown{StrictSubstitution: true, NoCrossNamespaceRefs: s.multitenant, NoRemoteBases: s.multitenant,
			DefaultServiceAccount: map[bool]string{true: s.tenantSA}[s.multitenant], HelmDefaultServiceAccount: map[bool]string{true: s.tenantSA}[s.multitenant]},
	}
	e.line, e.col = s.doc.FieldPos(s.at...)
	for _, arg := range patchFlags(s.patches, "kustomize-controller") {
		e.lockdown.apply(arg)
	}
	if s.kind == kindGitRepo {
		e.env.Branch = strings.TrimPrefix(s.ref, "refs/heads/")
		if strings.HasPrefix(s.ref, "refs/") && !strings.HasPrefix(s.ref, "refs/heads/") {
			e.env.Branch = "" // a tag or another ref: no branch
		}
		e.branchFile = s.doc.File
		e.branchLine, e.branchCol = s.doc.FieldPos(append(slices.Clone(s.at), "ref")...)
	}
	return e
}

// patchSync applies the FluxInstance's kustomize patches that target a
// Flux Kustomization to the sync Kustomization ks, as the operator's build
// does. A patch kustomize cannot apply leaves ks as it was.
func patchSync(ks map[string]any, patches []any) map[string]any {
	var keep []any
	for _, p := range patches {
		pm, _ := p.(map[string]any)
		if objects.NestedString(pm, "target", "kind") == kindKustomize {
			keep = append(keep, pm)
		}
	}
	if len(keep) == 0 {
		return ks
	}
	res, err := yaml.Marshal(ks)
	if err != nil {
		return ks
	}
	kust, err := yaml.Marshal(map[string]any{
		"apiVersion": kustypes.KustomizationVersion, "kind": kustypes.KustomizationKind,
		"resources": []string{"sync.yaml"}, "patches": keep,
	})
	if err != nil {
		return ks
	}
	fs := filesys.MakeFsInMemory()
	if fs.WriteFile("/sync/sync.yaml", res) != nil || fs.WriteFile("/sync/kustomization.yaml", kust) != nil {
		return ks
	}
	out, ok := runSyncBuild(fs)
	if !ok {
		return ks
	}
	return out
}

// runSyncBuild runs kustomize over the in-memory sync kustomization and
// returns its one Flux Kustomization.
func runSyncBuild(fs filesys.FileSystem) (out map[string]any, ok bool) {
	openapiLock.RLock()
	defer openapiLock.RUnlock()
	defer func() {
		if recover() != nil {
			out, ok = nil, false
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{PluginConfig: kustypes.DisabledPluginConfig()})
	m, err := k.Run(fs, "/sync")
	if err != nil || m.Size() != 1 {
		return nil, false
	}
	obj, err := m.Resources()[0].Map()
	if err != nil || !isFluxKustomization(str(obj["apiVersion"]), str(obj["kind"])) {
		return nil, false
	}
	return syncObjectMap(obj), true
}

// syncObjectMap normalises a decoded object to the unstructured form the renderer
// uses (int64 and float64 numbers).
func syncObjectMap(obj map[string]any) map[string]any {
	b, err := json.Marshal(obj)
	if err != nil {
		return obj
	}
	var m map[string]any
	if err := utiljson.Unmarshal(b, &m); err != nil {
		return obj
	}
	return m
}

// patchFlags returns the command-line flags the FluxInstance's patches add
// to the Deployment name (JSON6902 adds to containers/0/args).
func patchFlags(patches []any, name string) []string {
	var out []string
	for _, p := range patches {
		pm, _ := p.(map[string]any)
		if k := objects.NestedString(pm, "target", "kind"); k != "" && k != "Deployment" {
			continue
		}
		if n := objects.NestedString(pm, "target", "name"); n != "" && !targetNameMatches(n, name) {
			continue
		}
		out = append(out, flagRe.FindAllString(str(pm["patch"]), -1)...)
	}
	return out
}

// targetNameMatches matches a kustomize target name (an anchored regular
// expression) against name.
func targetNameMatches(pattern, name string) bool {
	if pattern == name {
		return true
	}
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	return err == nil && re.MatchString(name)
}

// selfArtifact is this repository as the entry's sync source serves it:
// the checkout, or, for an OCI artifact or Bucket pushed from a
// subdirectory (entry.root), that subdirectory as the artifact's root. The
// re-rooted artifact keeps every file's origin in the checkout, so that
// positions and the linted flag are those of the repository's files.
func (run *envRun) selfArtifact(ignore string) (*artifact, error) {
	a, err := run.r.dirArtifact(run.r.tree.Root, ignore)
	root := run.entry.root
	if err != nil || root == "" {
		return a, err
	}
	return run.r.arts.get("root\x00"+a.Dir+"\x00"+root, func(dst string) (*artifact, error) {
		return fromRules(dst, map[string]*artifact{"self": a}, []copyRule{{Alias: "self", From: root + "/**", To: ""}})
	})
}
