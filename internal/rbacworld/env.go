package rbacworld

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// Resource is the API resource a kind maps to.
type Resource struct {
	Resource   string `json:"resource"`
	Namespaced bool   `json:"namespaced"`
}

// Base is what every environment's RBAC starts from: Kubernetes' bootstrap
// policy and the --rbac-dir objects, and the kind → resource table of the
// newest embedded Kubernetes version with Flux's CRDs.
type Base struct {
	bootstrap []map[string]any
	builtin   map[string]Resource // "group/Kind"
	fluxCRDs  []map[string]any
}

// LoadBase reads the embedded catalog and the objects of dirs (each read
// within fileBytes a file and the run's budget; flag names the setting
// the dirs come from, for messages).
func LoadBase(flag string, dirs []string, fileBytes int64, budget *confine.Budget) (*Base, error) {
	emb, err := embedded()
	if err != nil {
		return nil, err
	}
	items := slices.Clone(emb.bootstrap)
	for _, dir := range dirs {
		more, err := objects.ReadDir(dir, fileBytes, budget)
		if err != nil {
			return nil, finding.Usagef("--%s %s: %w", flag, dir, err)
		}
		items = append(items, more...)
	}
	return &Base{bootstrap: items, builtin: emb.builtin, fluxCRDs: emb.fluxCRDs}, nil
}

// embedded decodes the embedded catalog once a process: the RBAC
// simulation and admission both start from it, and nothing modifies it
// (worlds copy what they record).
var embedded = sync.OnceValues(func() (*Base, error) {
	versions := catalog.Versions()
	data, err := catalog.Kubernetes(versions[len(versions)-1])
	if err != nil {
		return nil, err
	}
	var cat struct {
		Kinds map[string]Resource `json:"kinds"`
	}
	// Only the kind table: split the catalog rather than scan its
	// definitions (catalog.Members).
	if top, splitErr := catalog.Members(data); splitErr == nil && top["kinds"] != nil {
		err = json.Unmarshal(top["kinds"], &cat.Kinds)
	} else {
		err = json.Unmarshal(data, &cat)
	}
	if err != nil {
		return nil, fmt.Errorf("decode kind table: %w", err)
	}
	boot, err := catalog.BootstrapRBAC()
	if err != nil {
		return nil, err
	}
	objs, err := catalog.DecodeLines(boot)
	if err != nil {
		return nil, fmt.Errorf("decode bootstrap RBAC: %w", err)
	}
	crds, err := catalog.FluxCRDObjects()
	if err != nil {
		return nil, fmt.Errorf("decode Flux CRDs: %w", err)
	}
	builtin := map[string]Resource{}
	for k, v := range cat.Kinds {
		builtin[GroupKind(k)] = v
	}
	return &Base{bootstrap: objects.Flatten(objs), builtin: builtin, fluxCRDs: crds}, nil
})

// FluxReconcilerBinding returns the ClusterRoleBinding every Flux
// installation (flux bootstrap, flux install, the Flux Operator) creates for
// its reconcilers, which the simulation assumes when an environment does not
// render Flux's install itself.
func FluxReconcilerBinding() map[string]any {
	return map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind":       "ClusterRoleBinding",
		"metadata":   map[string]any{"name": "cluster-reconciler-flux-system"},
		"roleRef":    map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
		"subjects": []any{
			map[string]any{"kind": "ServiceAccount", "name": "kustomize-controller", "namespace": "flux-system"},
			map[string]any{"kind": "ServiceAccount", "name": "helm-controller", "namespace": "flux-system"},
		},
	}
}

// Env is the RBAC state of one cluster of an environment.
type Env struct {
	World *World
	// Resources maps "group/Kind" to its API resource.
	Resources map[string]Resource
}

// Resource returns the API resource of an object's apiVersion and kind.
func (st *Env) Resource(apiVersion, kind string) (Resource, bool) {
	r, ok := st.Resources[GroupKind(apiVersion+"/"+kind)]
	return r, ok
}

// State is the RBAC of one cluster of e: the bootstrap roles, and the
// objects of the Kustomizations that apply to it (cluster: "" for the
// environment's own, else a kubeConfig, render.Kustomization.Cluster).
func (b *Base) State(e *render.Environment, cluster string) *Env {
	st := &Env{World: NewWorld(), Resources: map[string]Resource{}}
	for _, o := range b.bootstrap {
		_ = st.World.Add(o)
	}
	for k, v := range b.builtin {
		st.Resources[k] = v
	}
	for _, crd := range b.fluxCRDs {
		AddCRD(st.Resources, crd)
	}
	ownReconciler := false
	for _, k := range e.Kustomizations {
		if k.Cluster() != cluster {
			continue
		}
		for _, o := range k.Objects {
			_ = st.World.AddOwned(o.Content, k.ID())
			if o.Kind() == "CustomResourceDefinition" && strings.HasPrefix(o.APIVersion(), "apiextensions.k8s.io/") {
				AddCRD(st.Resources, o.Content)
			}
			if o.Kind() == "ClusterRoleBinding" && strings.HasPrefix(o.Name(), "cluster-reconciler") {
				ownReconciler = true
			}
		}
	}
	if !ownReconciler {
		// The environment does not render Flux's own install (a placeholder
		// gotk-components.yaml, or the Flux Operator installs it): assume
		// what every Flux install binds, cluster-admin for its reconcilers.
		_ = st.World.Add(FluxReconcilerBinding())
	}
	st.World.Aggregate()
	return st
}

// AddCRD records the resource a CustomResourceDefinition serves.
func AddCRD(dst map[string]Resource, crd map[string]any) {
	spec, _ := crd["spec"].(map[string]any)
	group, _ := spec["group"].(string)
	names, _ := spec["names"].(map[string]any)
	kind, _ := names["kind"].(string)
	plural, _ := names["plural"].(string)
	scope, _ := spec["scope"].(string)
	vs, _ := spec["versions"].([]any)
	for range vs {
		dst[group+"/"+kind] = Resource{Resource: plural, Namespaced: scope != "Cluster"}
	}
}

// GroupKind turns "apps/v1/Deployment" or "v1/Pod" into "apps/Deployment" or
// "/Pod": RBAC names resources by group, whatever the version.
func GroupKind(apiVersionKind string) string {
	i := strings.LastIndex(apiVersionKind, "/")
	if i < 0 {
		return "/" + apiVersionKind
	}
	av, kind := apiVersionKind[:i], apiVersionKind[i+1:]
	group := ""
	if j := strings.LastIndex(av, "/"); j >= 0 {
		group = av[:j]
	}
	return group + "/" + kind
}
