// Package render discovers the environments of a Flux repository and renders
// every Flux Kustomization in them the way kustomize-controller would. It is
// the only package that knows kustomize; everything downstream reads the
// model defined here.
package render

import (
	"github.com/gitops-lint/gitops-lint/internal/charts"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/diskcache"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/pool"
)

// Options control one render run.
type Options struct {
	// Root is the repository to lint (absolute or relative path).
	Root string
	// Sources maps a Flux source reference ("namespace/name" or a URL) to a
	// local directory holding its content.
	Sources map[string]string
	// Environments limits the run to these environment names (empty: all).
	Environments []string
	// Kustomization limits the output to one Flux Kustomization
	// ("namespace/name"); the tree is still walked to reach it.
	Kustomization string
	// Platform, when set, is the platform repository whose tree is rendered;
	// Root is then the tenant repository fed to the Kustomizations whose
	// source is Root, and findings are reported for Root's files only.
	Platform string
	// ExplicitEnvironments come from .gitops-lint.yaml and replace discovery.
	ExplicitEnvironments []EnvironmentSpec
	// Workers is the build parallelism (<= 0: number of CPUs), used when
	// CPU is nil.
	Workers int
	// CPU is the run's limiter, shared with the checkers (--workers bounds
	// the whole run); nil: a limiter of Workers slots for this render.
	CPU *pool.Limiter
	// ChangedOnly renders for --changed-since: Changed lists the files of
	// Root changed since the base revision ('/'-separated, relative to
	// Root). Kustomizations whose output cannot have changed are marked
	// Unchanged and built only when others need their objects.
	ChangedOnly bool
	Changed     []string
	// Select, when set, picks the Kustomizations to lint by environment
	// and "namespace/name" (--shard): the others are marked Unchanged and
	// rendered only as far as the picked ones need, as with ChangedOnly
	// (which it does not combine with).
	Select func(env, kustomization string) bool
	// Needs is what the run's checkers look up in the environment while
	// they judge a Kustomization's objects (each checker declares its own;
	// lint unions them). With ChangedOnly or Select, the producers of what
	// a linted Kustomization needs are rendered too, and a change to them
	// re-lints it.
	Needs Needs
	// BaseContent holds the base revision's content of the changed YAML
	// files that existed there (nil: unknown), to tell which environments
	// a change creates.
	BaseContent map[string][]byte
	// Limits bound the run (--limit): the size of one file read and of
	// all of them, the rendered bytes and objects, the output of one
	// Kustomization's post-build substitution. The zero value means
	// confine.Defaults(); within a set Limits, 0 means unlimited.
	Limits confine.Limits
	// Budget is the run's shared total-bytes budget, charged for every
	// file read from the repository, the platform repository and each
	// --source directory (nil: a budget of Limits.TotalBytes of its own).
	Budget *confine.Budget
	// Charts finds the charts of HelmReleases that are not in a source of
	// the repository (nil: none are rendered); KubernetesVersion ("X.Y",
	// "" for the newest embedded) is what charts see as .Capabilities.
	Charts            *charts.Cache
	KubernetesVersion string
	// Cache is the persistent cache (--cache-dir) kustomize builds are
	// reused from and stored in (nil: none). It never changes a result:
	// see diskbuild.go.
	Cache *diskcache.Cache
	// Prefetched is the index Prefetch started reading for Root, taken by
	// the first run of that root when it fits the run's limits (nil: read
	// it now).
	Prefetched *Prefetched
	// Indexed, when set, is called once the repository is read, before
	// anything is built, with what was read (nil when reading failed): a
	// caller preparing other work for later (the checkers) starts it then,
	// so that it does not compete with reading, which everything waits for.
	Indexed func(*Index)
}

// EnvironmentSpec declares an environment explicitly.
type EnvironmentSpec struct {
	Name   string `json:"name" yaml:"name"`
	Path   string `json:"path" yaml:"path"`
	Branch string `json:"branch,omitempty" yaml:"branch,omitempty"`
}

// Result is everything one render run produced.
type Result struct {
	Environments []*Environment
	// Findings are the yaml/* and render/* findings of the run.
	Findings []finding.Finding
	// Files is the number of YAML files read.
	Files int
	// Tenant is true in --platform mode: the tree is the platform's and
	// the linted repository is one of its sources.
	Tenant bool
	// Index holds the linted repository's documents, for field positions.
	Index *Index
	// ChangedOnly is set for a --changed-since render, Partial for it or
	// one with Options.Select (see Kustomization.Unchanged).
	ChangedOnly, Partial bool
	// annotatedBuilds counts the builds that ran again with kustomize's
	// origin annotations (originsOf was not certain), for tests.
	annotatedBuilds int64
}

// Lockdown holds the kustomize-controller flags an environment's bootstrap
// patches set (multi-tenancy lockdown), and helm-controller's default
// ServiceAccount.
type Lockdown struct {
	NoRemoteBases         bool   `json:"noRemoteBases,omitempty"`
	NoCrossNamespaceRefs  bool   `json:"noCrossNamespaceRefs,omitempty"`
	DefaultServiceAccount string `json:"defaultServiceAccount,omitempty"`
	// HelmDefaultServiceAccount is helm-controller's
	// --default-service-account: the account HelmReleases without
	// spec.serviceAccountName are installed as.
	HelmDefaultServiceAccount string `json:"helmDefaultServiceAccount,omitempty"`
	// StrictSubstitution is kustomize-controller's StrictPostBuildSubstitutions
	// feature gate: on by default since v1.9, off with
	// --feature-gates=StrictPostBuildSubstitutions=false.
	StrictSubstitution bool `json:"strictSubstitution"`
}

// Environment is one cluster: an entry point and everything it converges to.
type Environment struct {
	Name string
	// Path is the entry directory, relative to the repository root.
	Path string
	// Branch is the branch the entry GitRepository follows ("" if unknown).
	Branch string
	// BranchFile/BranchLine/BranchColumn locate spec.ref.branch of the
	// entry GitRepository (its key; the deepest of spec.ref.branch present).
	BranchFile   string
	BranchLine   int
	BranchColumn int
	Lockdown     Lockdown
	// Kustomizations in the order they were rendered (parents first).
	Kustomizations []*Kustomization
}

// Kustomization is one Flux Kustomization of an environment and what it renders.
type Kustomization struct {
	// Kind is "" for a Flux Kustomization, KindHelmRelease for the release
	// of a HelmRelease: its objects are the chart's, applied by
	// helm-controller as the HelmRelease's identity (helmrelease.go).
	Kind      string
	Namespace string
	Name      string
	// File, Line and Column locate the document that declares it
	// (relative to the linted repo; empty for the synthetic root of a plain
	// overlay): its first key.
	File   string
	Line   int
	Column int
	// Parent is the Kustomization whose build produced this one ("" for a root).
	Parent string
	// Spec is the Kustomization's spec after the parent's patches and
	// substitution, as kustomize-controller receives it.
	Spec map[string]any
	// SourceKind/SourceNamespace/SourceName is spec.sourceRef, defaulted.
	SourceKind      string
	SourceNamespace string
	SourceName      string
	// SourceDir is the local directory used as the source ("" if missing).
	SourceDir string
	// Path is spec.path, and Dir the directory it resolves to.
	Path string
	Dir  string
	// ServiceAccountName is spec.serviceAccountName.
	ServiceAccountName string
	TargetNamespace    string
	Prune              bool
	Force              bool
	// Objects are the rendered objects, in kustomize's output order.
	Objects []*Object
	// Rendered is false when the build was skipped (missing source) or failed.
	Rendered bool
	// Failed is set when the build was attempted and failed with an error
	// (a render/error, or the yaml/syntax of a file it reads, which then
	// stands for it): its whole output is unknown, so what it may have
	// created is not reported missing by the findings that follow from it
	// (docs/rendering.md, "One cause, one finding").
	Failed bool
	// Lost are the objects of a rendered Kustomization that failed on
	// their own (post-build substitution, encoding): each has its
	// render/error, and a reference to it is not reported missing.
	Lost []*finding.Object
	// Broken is the linted file whose parse failure made the build fail,
	// when known (its yaml/syntax finding is the one reported).
	Broken string
	// Skipped counts the rendered objects kustomize-controller does not apply
	// (kustomize.toolkit.fluxcd.io/reconcile: disabled or ssa: Ignore).
	Skipped int
	// Linted is true when the Kustomization builds from the linted
	// repository (in tenant mode: the tenant's Kustomizations).
	Linted bool
	// Unchanged is set in a --changed-since render when nothing the
	// Kustomization's output depends on changed (with Options.Select: when
	// it is not selected). It is then rendered only if other
	// Kustomizations need its objects (Rendered says whether), and its
	// findings are not to be reported.
	Unchanged bool

	// charged is what its output took from the run's bounds.
	charged charges
}

// ID is "namespace/name" for a Flux Kustomization, "HelmRelease/namespace/name"
// for a HelmRelease's release.
func (k *Kustomization) ID() string {
	if k.Kind != "" {
		return k.Kind + "/" + k.Namespace + "/" + k.Name
	}
	return k.Namespace + "/" + k.Name
}

// KindHelmRelease is the Kind of a HelmRelease's release.
const KindHelmRelease = "HelmRelease"

// Object is one rendered object with the source position it came from.
type Object struct {
	// Content is the object as kustomize-controller would apply it (origin
	// annotations removed).
	Content map[string]any
	// File/Line/Column locate the source document (relative to the linted
	// repo) at its first key, or the field that generated the object (a
	// ResourceSet's template, a generator's entry); File is "" when the
	// object has no source file in the linted repo (e.g. it came from
	// another source).
	File   string
	Line   int
	Column int
	// OriginPath is the path of the source file within its source (even
	// when it is not part of the linted repo).
	OriginPath string
	// artRel is the source file's path within the artifact built.
	artRel string
}

// APIVersion, Kind, Namespace and Name read the object's identity.
func (o *Object) APIVersion() string { return str(o.Content["apiVersion"]) }

// Kind of the object.
func (o *Object) Kind() string { return str(o.Content["kind"]) }

// Name of the object.
func (o *Object) Name() string { return str(meta(o.Content)["name"]) }

// Namespace of the object.
func (o *Object) Namespace() string { return str(meta(o.Content)["namespace"]) }

// Ref is the finding.Object for this object.
func (o *Object) Ref() *finding.Object {
	return &finding.Object{APIVersion: o.APIVersion(), Kind: o.Kind(), Namespace: o.Namespace(), Name: o.Name()}
}

func meta(m map[string]any) map[string]any {
	md, _ := m["metadata"].(map[string]any)
	return md
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// FluxNamespace is the namespace the environment's Flux runs from: the
// entry Kustomization's (flux-system when there is none). A Kustomization
// of another namespace belongs to a tenant.
func (e *Environment) FluxNamespace() string {
	for _, k := range e.Kustomizations {
		if k.Parent == "" && k.Namespace != "" {
			return k.Namespace
		}
	}
	return "flux-system"
}

// Cluster names the cluster k applies its objects to: "" for the cluster
// the environment's Flux runs in, else its spec.kubeConfig reference
// ("secret NAMESPACE/NAME" or "configMap NAMESPACE/NAME"): each distinct
// kubeConfig is another cluster, whose objects do not meet the local
// ones (duplicates, namespaces, CRDs and RBAC are per cluster).
func (k *Kustomization) Cluster() string {
	for _, ref := range []struct{ field, what string }{{"secretRef", "secret"}, {"configMapRef", "configMap"}} {
		if name := objects.NestedString(k.Spec, "kubeConfig", ref.field, "name"); name != "" {
			return ref.what + " " + k.Namespace + "/" + name
		}
	}
	return ""
}

// DefaultServiceAccountFor is the account the controller that applies k
// impersonates when k names none: helm-controller's for a release,
// kustomize-controller's for a Kustomization ("" for none).
func (l Lockdown) DefaultServiceAccountFor(k *Kustomization) string {
	if k.Kind == KindHelmRelease {
		return l.HelmDefaultServiceAccount
	}
	return l.DefaultServiceAccount
}
