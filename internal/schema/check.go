package schema

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/pool"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// Checker validates the objects of a render result.
type Checker struct {
	v *Validator
	// crds are CRDs known regardless of the environment (Flux's own,
	// --crd-dir); an environment's own CRDs take precedence.
	crds []map[string]any
	// KubernetesVersion is the catalog's version, for messages ("1.37").
	KubernetesVersion string
	Workers           int
	CPU               *pool.Limiter
	cel               celRules

	// bundled are the served versions of crds, read once (nil entry: a
	// CRD that cannot be read, which adds nothing).
	bundledOnce sync.Once
	bundled     [][]*crdVersion
}

// bundledVersions reads the versions of the checker's own CRDs once; every
// environment shares them (and what they compile).
func (c *Checker) bundledVersions() [][]*crdVersion {
	c.bundledOnce.Do(func() {
		c.bundled = make([][]*crdVersion, len(c.crds))
		for i, crd := range c.crds {
			c.bundled[i], _ = crdVersions(crd)
		}
	})
	return c.bundled
}

// NewChecker builds a checker over a catalog and extra CRD objects.
func NewChecker(cat *Catalog, crds []map[string]any) (*Checker, error) {
	v, err := NewValidator(cat)
	if err != nil {
		return nil, err
	}
	ver := strings.TrimPrefix(cat.Version, "v")
	if parts := strings.SplitN(ver, ".", 3); len(parts) >= 2 {
		ver = parts[0] + "." + parts[1]
	}
	return &Checker{v: v, crds: crds, KubernetesVersion: ver}, nil
}

// target is what an object is validated against.
type target struct {
	schema  *jsonschema.Schema
	builtin bool        // a Kubernetes kind (its Go validation applies)
	crd     *crdVersion // set for a custom resource (its CRD has a schema)
	problem string      // set when the kind itself is the problem
	rule    finding.Rule
	// namespaced is set when the kind's scope is known to be Namespaced
	// (a built-in kind, or a CRD of the environment).
	namespaced bool
}

// envSchemas resolves apiVersion/Kind to schemas within one environment.
type envSchemas struct {
	c    *Checker
	crds map[string]*crdVersion // "group/version/Kind"
	// served lists the versions CRDs serve per "group/Kind", and whether
	// the environment applies that CRD itself (else it is an embedded one).
	served map[string]*servedKind
}

type servedKind struct {
	versions []string
	own      bool
}

func (c *Checker) forEnv(env *render.Environment) (*envSchemas, []finding.Finding) {
	es := &envSchemas{c: c, crds: map[string]*crdVersion{}, served: map[string]*servedKind{}}
	var fs []finding.Finding
	add := func(vs []*crdVersion, own bool) {
		gk := ""
		if len(vs) > 0 {
			gk = vs[0].Group + "/" + vs[0].Kind
			if sk, exists := es.served[gk]; exists && sk.own && !own {
				return // the environment's own CRD wins
			}
			es.served[gk] = &servedKind{own: own}
		}
		for _, v := range vs {
			es.crds[v.Group+"/"+v.Version+"/"+v.Kind] = v
			es.served[gk].versions = append(es.served[gk].versions, v.Version)
		}
	}
	for _, k := range env.Kustomizations {
		for _, o := range k.Objects {
			if o.Kind() == "CustomResourceDefinition" && strings.HasPrefix(o.APIVersion(), "apiextensions.k8s.io/") {
				vs, err := crdVersions(o.Content)
				if err != nil {
					fs = append(fs, RuleInvalid.New(finding.Finding{Message: err.Error(), File: o.File, Line: o.Line, Column: o.Column,
						Environment: env.Name, Kustomization: k.ID(), Object: o.Ref()}))
					continue
				}
				add(vs, true)
			}
		}
	}
	for _, vs := range c.bundledVersions() {
		add(vs, false)
	}
	return es, fs
}

// The API-version rules are declared beside the only code that emits them.
var RuleRemovedAPI = rules.Add(finding.Rule{ID: "schema/removed-api", Severity: finding.Error,
	Help:        "The object uses an API version that the Kubernetes version it is validated for no longer serves, so the apiserver refuses it (no matches for kind).",
	Remediation: "Move to the replacement the message names (or drop the object when it has none), or validate for the version your clusters run with --kubernetes-version."})

// RuleDeprecatedAPI is a warning, not an error: the CRDs gitops-lint
// bundles no longer serve the version, but the cluster's Flux may be older
// and still serve it; the next Flux upgrade will not.
var RuleDeprecatedAPI = rules.Add(finding.Rule{ID: "schema/deprecated-api", Severity: finding.Warning,
	Help:        "The object uses an API version of a custom resource (a Flux kind, say) that the CRDs gitops-lint bundles no longer serve; a cluster still on an older release serves it, the next upgrade will refuse it.",
	Remediation: "Migrate to the served version the message names, or put your cluster's CRDs in the environment (or --crd-dir) to validate against them."})

func (es *envSchemas) resolve(apiVersion, kind string) target {
	group, version := "", apiVersion
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	}
	if cv, ok := es.crds[group+"/"+version+"/"+kind]; ok {
		if cv.Schema == nil {
			return target{namespaced: cv.Namespaced}
		}
		s, err := cv.compiled(es.c.v)
		if err != nil {
			return target{rule: RuleInvalid,
				problem: fmt.Sprintf("the CustomResourceDefinition of %s %s has a schema gitops-lint cannot compile: %v", apiVersion, kind, err)}
		}
		return target{schema: s, crd: cv, namespaced: cv.Namespaced}
	}
	key := apiVersion + "/" + kind
	if ki, ok := es.c.v.cat.Kinds[key]; ok {
		s, err := es.c.v.builtin(ki.Definition)
		if err != nil {
			return target{rule: RuleInvalid, problem: fmt.Sprintf("compile schema of %s %s: %v", apiVersion, kind, err)}
		}
		return target{schema: s, builtin: true, namespaced: ki.Namespaced}
	}
	if r, ok := es.c.v.cat.Removed[key]; ok {
		msg := fmt.Sprintf("%s %s was removed in Kubernetes %s (last served by %s; validating for %s)", apiVersion, kind, nextMinor(r.LastServed), r.LastServed, es.c.KubernetesVersion)
		if r.Replacement != "" {
			msg += ", use " + r.Replacement + " " + kind
		} else {
			msg += "; it has no replacement"
		}
		return target{rule: RuleRemovedAPI, problem: msg}
	}
	if sk, ok := es.served[group+"/"+kind]; ok {
		served := group + "/" + strings.Join(sk.versions, ", "+group+"/")
		if sk.own {
			return target{rule: RuleInvalid,
				problem: fmt.Sprintf("%s %s is not served: the CustomResourceDefinition this environment applies serves %s only (no matches for kind %q in version %q)", apiVersion, kind, served, kind, apiVersion)}
		}
		return target{rule: RuleDeprecatedAPI,
			problem: fmt.Sprintf("%s %s is not served by the CRDs of %s, which serve %s only: it was removed, migrate to %s before upgrading (or add your cluster's CRDs to the environment)", apiVersion, kind, es.c.fluxRelease(), served, served)}
	}
	return target{rule: RuleUnknownKind,
		problem: fmt.Sprintf("no schema for %s %s: it is not a built-in kind of Kubernetes %s and no CustomResourceDefinition in this environment defines it; add the CRD to the environment or pass --crd-dir DIR", apiVersion, kind, es.c.KubernetesVersion)}
}

type job struct {
	env *render.Environment
	k   *render.Kustomization
	o   *render.Object
	es  *envSchemas
}

// Check validates every rendered object. Objects that failed to render
// are not here; their render findings stand for them.
func (c *Checker) Check(ctx context.Context, res *render.Result) []finding.Finding {
	var out []finding.Finding
	var jobs []job
	for _, env := range res.Environments {
		es, fs := c.forEnv(env)
		out = append(out, fs...)
		for _, k := range env.Kustomizations {
			if k.Unchanged {
				continue // --changed-since: rendered for the others' sake only
			}
			for _, o := range k.Objects {
				jobs = append(jobs, job{env, k, o, es})
			}
		}
	}
	results := make([][]finding.Finding, len(jobs))
	pool.Each(ctx, pool.Or(c.CPU, c.Workers), len(jobs), func(i int) {
		results[i] = c.checkObject(res.Index, jobs[i])
	})
	failed := map[string]bool{}
	for _, env := range res.Environments {
		for _, k := range env.Kustomizations {
			failed[env.Name] = failed[env.Name] || k.Failed
		}
	}
	for _, r := range results {
		for _, f := range r {
			if f.Rule == RuleUnknownKind.ID && failed[f.Environment] {
				// A Kustomization of the environment failed to build:
				// it may apply the CRD, and its error is the cause.
				continue
			}
			out = append(out, f)
		}
	}
	return foldUnknownKinds(out)
}

// Warm compiles, before the objects exist, the schemas (and CEL rules) of
// kinds the repository's files declare, most likely first, resolved as in
// an environment without CRDs of its own: the built-in kinds' and the
// checker's own CRDs' (an environment's CRDs are compiled when it is
// checked, or found compiled when identical). It stops when ctx ends; the
// rest is compiled on demand, as without it.
func (c *Checker) Warm(ctx context.Context, kinds []render.TypeMeta) {
	es, _ := c.forEnv(&render.Environment{})
	for _, k := range kinds {
		if ctx.Err() != nil {
			return
		}
		if t := es.resolve(k.APIVersion, k.Kind); t.crd != nil {
			t.crd.rules(&c.cel)
		}
	}
}

// foldUnknownKinds makes schema/unknown-kind one problem per kind and
// environment: the cause (no CRD for the kind) is one, whatever the number
// of objects. Every object of the kind is reported at the first of them
// (in file and line order, the repository's own files first) with its
// message, so that the engine folds them into one finding whose contexts
// list each object. Only the Kustomizations a run lints count (--shard,
// --changed-since).
func foldUnknownKinds(fs []finding.Finding) []finding.Finding {
	return finding.Gather(fs, func(f finding.Finding) string {
		if f.Rule != RuleUnknownKind.ID || f.Object == nil {
			return ""
		}
		return f.Environment + "|" + f.Object.APIVersion + "|" + f.Object.Kind
	})
}

// fluxRelease names the release the embedded CRDs come from.
func (c *Checker) fluxRelease() string { return "Flux " + catalog.FluxRelease }

func (c *Checker) checkObject(x *render.Index, j job) (out []finding.Finding) {
	o := j.o
	base := finding.Finding{File: o.File, Line: o.Line, Column: o.Column, Environment: j.env.Name, Kustomization: j.k.ID(), Object: o.Ref()}
	suffix := ""
	if o.File == "" {
		// The object comes from another source than the linted repository.
		base.Line, base.Column = 0, 0
		suffix = fmt.Sprintf(" (in %s of source %s/%s/%s, not in this repository)", o.OriginPath, j.k.SourceKind, j.k.SourceNamespace, j.k.SourceName)
	}
	defer func() {
		for i := range out {
			out[i].Message += suffix
		}
	}()
	t := j.es.resolve(o.APIVersion(), o.Kind())
	if t.problem != "" {
		f := base
		f = t.rule.New(f)
		f.Message = t.problem
		if doc := x.DocAt(o.File, o.Line); doc != nil {
			f.Line, f.Column = doc.FieldPos("apiVersion")
		}
		out = append(out, f)
		return out
	}
	if t.namespaced && o.Namespace() == "" {
		out = append(out, namespaceMissing(x, j, base))
	}
	if t.schema == nil {
		return out
	}
	obj := validatable(o.Content)
	var problems []Problem
	if t.crd != nil {
		// A custom resource: pruned and defaulted (on a copy) as the
		// apiserver does before it validates.
		problems = checkCustom(context.Background(), t.schema, t.crd.rules(&c.cel), obj)
	} else {
		problems = Validate(t.schema, obj)
		if len(problems) == 0 {
			problems = Semantic(obj, t.builtin)
		}
	}
	if len(problems) == 0 {
		return out
	}
	doc := x.DocAt(o.File, o.Line)
	substituted := objects.Nested(j.k.Spec, "postBuild") != nil
	for _, p := range problems {
		if substituted && unresolved(obj, p.Path) {
			// A variable post-build substitution left as written: its
			// value is unknown here (render reports the variable), so is
			// the verdict.
			continue
		}
		f := base
		rule := RuleInvalid
		if p.rule != nil {
			rule = *p.rule
		}
		f = rule.New(f)
		f.Message = p.String()
		if doc != nil {
			path := p.Path
			if p.Field != "" {
				path = append(append([]string(nil), path...), p.Field)
			}
			// An element's problem points at the element (its path
			// ends in its index), a field's at its key.
			f.Line, f.Column = doc.FieldPos(path...)
		}
		out = append(out, f)
	}
	return out
}

// unresolved reports whether the value at path is a string that still
// holds a ${variable}.
func unresolved(obj map[string]any, path []string) bool {
	s, ok := objects.Nested(obj, path...).(string)
	return ok && strings.Contains(s, "${")
}

// validatable is the object as the apiserver validates it on apply: status
// is ignored and SOPS metadata is removed by kustomize-controller's
// decryption before it applies.
func validatable(obj map[string]any) map[string]any {
	_, hasStatus := obj["status"]
	_, hasSops := obj["sops"]
	if !hasStatus && !hasSops {
		return obj
	}
	cp := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "status" && k != "sops" {
			cp[k] = v
		}
	}
	return cp
}

// nextMinor turns "1.24" into "1.25".
func nextMinor(v string) string {
	major, minor, ok := strings.Cut(v, ".")
	n, err := strconv.Atoi(minor)
	if !ok || err != nil {
		return "a later release than " + v
	}
	return major + "." + strconv.Itoa(n+1)
}

// RuleNamespaceMissing is declared beside the only code that emits it.
var RuleNamespaceMissing = rules.Add(finding.Rule{ID: "schema/namespace-missing", Severity: finding.Error,
	Help:        "A namespaced object has no namespace and its Kustomization sets no spec.targetNamespace: kustomize-controller does not default one, its server-side apply fails (\"namespace not specified\") and with it the whole Kustomization.",
	Remediation: "Set metadata.namespace on the object, a namespace: in its kustomization.yaml, or spec.targetNamespace on the Flux Kustomization."})

// namespaceMissing is the finding for a namespaced object rendered without
// a namespace, worded as fluxcd/pkg/ssa words the failed dry run.
func namespaceMissing(x *render.Index, j job, base finding.Finding) finding.Finding {
	f := RuleNamespaceMissing.New(base)
	f.Message = fmt.Sprintf("%s namespace not specified: %s is namespaced, and neither the object nor %s (spec.targetNamespace) names a namespace, so the apply of the whole Kustomization fails", j.o.Ref(), j.o.Kind(), j.k.ID())
	if doc := x.DocAt(j.o.File, j.o.Line); doc != nil {
		f.Line, f.Column = doc.FieldPos("metadata")
	}
	return f
}
