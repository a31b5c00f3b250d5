package converge

import (
	"cmp"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// This file is the one model of what exists in a cluster besides the
// objects the Kustomizations of an environment apply: references that are
// out of band by design, and objects that a controller creates from an
// object in git. docs/converge.md documents it; keep the two in step.

// outOfBand are the Secret and ConfigMap references that are satisfied
// outside git by design, so a fresh-cluster check never demands them: the
// SOPS private key must never be in git (it decrypts the repository), and
// a kubeconfig is written by whatever provisions the remote cluster
// (Cluster API, a cloud, a bootstrap script). Nothing is reported for them
// — not even an info: every SOPS user would get one per Kustomization, and
// there is nothing to do about it. References marked `optional: true` are
// skipped too (substituteFrom, valuesFrom).
var outOfBand = []struct {
	Kind string   // the referencing kind
	Path []string // the field, under spec
}{
	{"Kustomization", []string{"decryption", "secretRef"}},
	{"Kustomization", []string{"kubeConfig", "secretRef"}},
	{"Kustomization", []string{"kubeConfig", "configMapRef"}},
	{"HelmRelease", []string{"kubeConfig", "secretRef"}},
	{"HelmRelease", []string{"kubeConfig", "configMapRef"}},
}

// objRef is an object a producer makes exist. Namespace anyNamespace
// means "some namespaces we cannot tell" (a selector): it satisfies a
// reference of that kind and name in any namespace.
type objRef struct{ Kind, Namespace, Name string }

const anyNamespace = "*"

func (r objRef) key() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// Producer is one row of the table: objects of Group/Kind make the objects
// Produce returns exist in the cluster (a controller creates them).
type Producer struct {
	Group, Kind string
	// Makes says what, for docs/converge.md and messages.
	Makes   string
	Produce func(o *render.Object) []objRef
}

// Producers is the built-in table of known controllers.
var Producers = []Producer{
	{Group: "external-secrets.io", Kind: "ExternalSecret",
		Makes: "Secret spec.target.name (default: its own name) in its namespace, unless spec.target.creationPolicy is Merge or None (then the Secret must already exist)",
		Produce: func(o *render.Object) []objRef {
			switch objects.NestedString(o.Content, "spec", "target", "creationPolicy") {
			case "Merge", "None":
				return nil
			}
			return []objRef{{"Secret", o.Namespace(), cmp.Or(objects.NestedString(o.Content, "spec", "target", "name"), o.Name())}}
		}},
	{Group: "external-secrets.io", Kind: "ClusterExternalSecret",
		Makes: "an ExternalSecret, and so a Secret, named spec.externalSecretSpec.target.name (default: spec.externalSecretName, default: its own name) in each of spec.namespaces, or in any namespace when it selects them by label",
		Produce: func(o *render.Object) []objRef {
			switch objects.NestedString(o.Content, "spec", "externalSecretSpec", "target", "creationPolicy") {
			case "Merge", "None":
				return nil
			}
			esName := cmp.Or(objects.NestedString(o.Content, "spec", "externalSecretName"), o.Name())
			name := cmp.Or(objects.NestedString(o.Content, "spec", "externalSecretSpec", "target", "name"), esName)
			var nss []string
			list, _ := objects.Nested(o.Content, "spec", "namespaces").([]any)
			for _, n := range list {
				if s := str(n); s != "" {
					nss = append(nss, s)
				}
			}
			if objects.Nested(o.Content, "spec", "namespaceSelector") != nil || objects.Nested(o.Content, "spec", "namespaceSelectors") != nil || len(nss) == 0 {
				nss = []string{anyNamespace}
			}
			var out []objRef
			for _, ns := range nss {
				out = append(out, objRef{"Secret", ns, name}, objRef{"ExternalSecret", ns, esName})
			}
			return out
		}},
	{Group: "bitnami.com", Kind: "SealedSecret",
		Makes: "Secret of the same name in its namespace",
		Produce: func(o *render.Object) []objRef {
			return []objRef{{"Secret", o.Namespace(), o.Name()}}
		}},
	{Group: "cert-manager.io", Kind: "Certificate",
		Makes: "Secret spec.secretName in its namespace",
		Produce: func(o *render.Object) []objRef {
			if name := objects.NestedString(o.Content, "spec", "secretName"); name != "" {
				return []objRef{{"Secret", o.Namespace(), name}}
			}
			return nil
		}},
	{Group: "source.extensions.fluxcd.io", Kind: "ArtifactGenerator",
		Makes: "an ExternalArtifact named after each spec.artifacts[].name in its namespace",
		Produce: func(o *render.Object) []objRef {
			var out []objRef
			arts, _ := objects.Nested(o.Content, "spec", "artifacts").([]any)
			for _, a := range arts {
				am, _ := a.(map[string]any)
				if name := str(am["name"]); name != "" {
					out = append(out, objRef{"ExternalArtifact", o.Namespace(), name})
				}
			}
			return out
		}},
	{Group: "fluxcd.controlplane.io", Kind: "FluxInstance",
		Makes: "with spec.sync: a source of kind spec.sync.kind (GitRepository, OCIRepository or Bucket) and a Kustomization, both named spec.sync.name (default: its namespace, as flux bootstrap names them) in its namespace",
		Produce: func(o *render.Object) []objRef {
			kind := objects.NestedString(o.Content, "spec", "sync", "kind")
			if kind == "" {
				return nil
			}
			name := cmp.Or(objects.NestedString(o.Content, "spec", "sync", "name"), o.Namespace())
			return []objRef{{kind, o.Namespace(), name}, {"Kustomization", o.Namespace(), name}}
		}},
	{Group: "helm.toolkit.fluxcd.io", Kind: "HelmRelease",
		Makes: "with spec.chart: a HelmChart named NAMESPACE-NAME in the namespace of its chart's sourceRef",
		Produce: func(o *render.Object) []objRef {
			if objects.Nested(o.Content, "spec", "chart") == nil {
				return nil
			}
			ns := cmp.Or(objects.NestedString(o.Content, "spec", "chart", "spec", "sourceRef", "namespace"), o.Namespace())
			return []objRef{{"HelmChart", ns, o.Namespace() + "-" + o.Name()}}
		}},
}

// Provide is an entry of the `provides:` key of .gitops-lint.yaml: either
// an in-house producer (Kind set: objects of Group/Kind make an object of
// Produces.Kind exist in their namespace, named Produces.Name, else the
// value at the dotted path Produces.NameFrom, else the producer's own
// name), or (Kind empty) an object that exists outside git: Produces.Kind
// named Produces.Name in Produces.Namespace (empty: any namespace).
type Provide struct {
	Group, Kind string
	Produces    Produced
}

// Produced is what a Provide entry makes exist.
type Produced struct {
	Kind, Name, NameFrom, Namespace string
}

// producer turns a config entry with a Kind into a table row.
func (p Provide) producer() Producer {
	return Producer{Group: p.Group, Kind: p.Kind, Makes: "declared in .gitops-lint.yaml (provides)",
		Produce: func(o *render.Object) []objRef {
			name := p.Produces.Name
			if name == "" && p.Produces.NameFrom != "" {
				name = objects.NestedString(o.Content, strings.Split(p.Produces.NameFrom, ".")...)
			} else if name == "" {
				name = o.Name()
			}
			if name == "" {
				return nil
			}
			return []objRef{{p.Produces.Kind, cmp.Or(p.Produces.Namespace, o.Namespace()), name}}
		}}
}

// world is what exists in a fresh cluster of one environment: what its
// Kustomizations apply, what known producers make from those objects, what
// the config declares, and which Kustomizations were not rendered (whose
// objects are unknown).
type world struct {
	created  map[string]bool // Kind/ns/name applied by a rendered Kustomization
	produced map[string]string
	unknown  []*render.Kustomization
	// lost: Kind/ns/name of objects whose render failed on their own (a
	// render/error each): they exist once that error is fixed.
	lost map[string]bool
}

func newWorld(env *render.Environment, provides []Provide) *world {
	w := &world{created: map[string]bool{}, produced: map[string]string{}, lost: map[string]bool{}}
	type gk struct{ group, kind string }
	table := map[gk][]Producer{}
	var anyGroup []Producer
	for _, p := range Producers {
		table[gk{p.Group, p.Kind}] = append(table[gk{p.Group, p.Kind}], p)
	}
	for _, p := range provides {
		switch {
		case p.Kind == "":
			w.produced[objRef{p.Produces.Kind, cmp.Or(p.Produces.Namespace, anyNamespace), p.Produces.Name}.key()] = "declared in .gitops-lint.yaml (provides)"
		case p.Group == "":
			anyGroup = append(anyGroup, p.producer())
		default:
			table[gk{p.Group, p.Kind}] = append(table[gk{p.Group, p.Kind}], p.producer())
		}
	}
	for _, k := range env.Kustomizations {
		if !k.Rendered && !k.Unchanged {
			w.unknown = append(w.unknown, k)
		}
		for _, o := range k.Lost {
			w.lost[o.Kind+"/"+o.Namespace+"/"+o.Name] = true
		}
		for _, o := range k.Objects {
			w.created[o.Kind()+"/"+o.Namespace()+"/"+o.Name()] = true
			ps := table[gk{objects.Group(o.APIVersion()), o.Kind()}]
			for _, p := range anyGroup {
				if p.Kind == o.Kind() {
					ps = append(ps, p)
				}
			}
			for _, p := range ps {
				for _, r := range p.Produce(o) {
					if _, seen := w.produced[r.key()]; !seen {
						w.produced[r.key()] = o.Kind() + " " + nsName(o.Namespace(), o.Name())
					}
				}
			}
		}
	}
	return w
}

// exists reports whether kind/ns/name is applied by the environment or made
// by a producer, and by what ("" when applied). An object whose own render
// failed counts as applied: its render/error is the cause to fix.
func (w *world) exists(kind, ns, name string) (bool, string) {
	if w.created[kind+"/"+ns+"/"+name] || w.lost[kind+"/"+ns+"/"+name] {
		return true, ""
	}
	for _, key := range []string{kind + "/" + ns + "/" + name, kind + "/" + anyNamespace + "/" + name} {
		if by, ok := w.produced[key]; ok {
			return true, by
		}
	}
	return false, ""
}

// mayCreate are the Kustomizations of the environment that were not
// rendered (their source is missing, or their build failed) and so may
// create kind/ns/name for all we know — except the one that builds from
// it and the one that needs it to build (user), which cannot create what
// they need first.
func (w *world) mayCreate(kind, ns, name string, user *render.Kustomization) []*render.Kustomization {
	var out []*render.Kustomization
	for _, k := range w.unknown {
		if k == user || k.SourceKind == kind && k.SourceNamespace == ns && k.SourceName == name {
			continue
		}
		out = append(out, k)
	}
	return out
}

// mayHaveFailed are the Kustomizations of mayCreate whose build failed
// with an error (render/error, yaml/syntax): that error is the cause of
// the reference not resolving, so no finding follows from it — not even
// the flux/reference-out-of-band warning that a Kustomization left
// unrendered for want of its source still gets.
func (w *world) mayHaveFailed(kind, ns, name string, user *render.Kustomization) []*render.Kustomization {
	var out []*render.Kustomization
	for _, k := range w.mayCreate(kind, ns, name, user) {
		if k.Failed {
			out = append(out, k)
		}
	}
	return out
}

// fluxSourceKinds must come from git (or a known producer): nobody creates
// a GitRepository by hand on a cluster rebuilt from git.
var fluxSourceKinds = map[string]bool{"GitRepository": true, "OCIRepository": true, "HelmRepository": true, "Bucket": true, "HelmChart": true, "ExternalArtifact": true}

func nsName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
