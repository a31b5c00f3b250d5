// Package admission applies the ValidatingAdmissionPolicies an environment
// renders (and those --admission-dir holds) to every object it applies,
// offline, the way the kube-apiserver's admission does: the policies are
// compiled with the apiserver's CEL environment, matched with its matcher
// (namespaceSelector over the rendered Namespaces, objectSelector,
// resource rules), their params resolved from the rendered objects, and
// evaluated as the identity Flux impersonates, with a CEL authorizer
// backed by the RBAC the environment renders. See docs/admission.md.
package admission

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
	clientscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/gitops-lint/gitops-lint/internal/admission/gatekeeper"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/rbacworld"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// Options of the admission checker.
type Options struct {
	// Dirs hold policies, bindings and their params installed outside git
	// (--admission-dir), which every environment has; RBACDirs the RBAC
	// installed outside git (--rbac-dir), for the authorizer. Both are
	// read within FileBytes a file and the run's Budget.
	Dirs      []string
	RBACDirs  []string
	FileBytes int64
	Budget    *confine.Budget
	// KubernetesVersion ("X.Y", "" for the apiserver library's own) picks
	// the CEL libraries and cost rules of that apiserver.
	KubernetesVersion string
}

// Checker applies the ValidatingAdmissionPolicies of each environment.
type Checker struct {
	base  *rbacworld.Base
	extra []source
	// version is the Kubernetes version whose CEL environment compiles
	// the policies; cs, built on the first policy met, holds it.
	version *version.Version
	cs      *compilers

	mu       sync.Mutex
	compiled map[string]*compiled // by the policy's JSON: once a run
	seen     map[string]finding.Rule
	gk       map[string]*gkEntry // Gatekeeper policies, by their sources
}

// gkEntry is one set of Gatekeeper templates and constraints, compiled
// once a run.
type gkEntry struct {
	once     sync.Once
	policy   *gatekeeper.Policy
	problems []gatekeeper.Problem
}

// source is an admission object and where it comes from.
type source struct {
	obj map[string]any
	// o and k are set for a rendered object, dir for an --admission-dir one.
	o   *render.Object
	k   *render.Kustomization
	dir string
}

// Load reads --admission-dir and the RBAC base.
func Load(opts Options) (*Checker, error) {
	base, err := rbacworld.LoadBase("rbac-dir", opts.RBACDirs, opts.FileBytes, opts.Budget)
	if err != nil {
		return nil, err
	}
	c := &Checker{base: base, compiled: map[string]*compiled{}, seen: map[string]finding.Rule{}, gk: map[string]*gkEntry{}}
	v := environment.DefaultCompatibilityVersion()
	if opts.KubernetesVersion != "" {
		parsed, err := version.ParseMajorMinor(strings.TrimPrefix(opts.KubernetesVersion, "v"))
		if err != nil {
			return nil, finding.Usagef("--kubernetes-version %s: %w", opts.KubernetesVersion, err)
		}
		v = parsed
	}
	c.version = v
	for _, dir := range opts.Dirs {
		objs, err := objects.ReadDir(dir, opts.FileBytes, opts.Budget)
		if err != nil {
			return nil, finding.Usagef("--admission-dir %s: %w", dir, err)
		}
		for _, o := range objs {
			c.extra = append(c.extra, source{obj: o, dir: dir})
		}
	}
	return c, nil
}

// Rules are the rules of the policies the last Check met: admission/NAME.
func (c *Checker) Rules() []finding.Rule {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]finding.Rule, 0, len(c.seen))
	for _, r := range c.seen {
		out = append(out, r)
	}
	return finding.SortRules(out)
}

func (c *Checker) compile(p *admissionregistrationv1.ValidatingAdmissionPolicy, raw map[string]any) *compiled {
	key, err := json.Marshal(raw)
	if err != nil {
		key = []byte(p.Name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp, ok := c.compiled[string(key)]; ok {
		return cp
	}
	if c.cs == nil {
		c.cs = newCompilers(c.version)
	}
	cp := safeCompile(p, c.cs)
	c.compiled[string(key)] = cp
	id := PolicyRulePrefix + p.Name
	if _, ok := c.seen[id]; !ok && cp.invalid == "" {
		c.seen[id] = finding.Rule{ID: id, Severity: finding.Error,
			Help:        fmt.Sprintf("The ValidatingAdmissionPolicy %s: the apiserver evaluates it on every object it matches; a binding's validationActions make a failed validation an error (Deny), a warning (Warn) or an info (Audit).", p.Name),
			Remediation: "Change the object so that the policy's validations pass, or have the policy's owners exempt it (the binding's matchResources, excludeResourceRules)."}
	}
	return cp
}

// newCompilers builds the CEL environment of a Kubernetes version (nil
// plain compiler if the library refuses the version: every policy is then
// refused with the reason).
func newCompilers(v *version.Version) (cs *compilers) {
	defer func() {
		if r := recover(); r != nil {
			cs = &compilers{err: fmt.Sprintf("no CEL environment for Kubernetes %s: %v", v, r)}
		}
	}()
	envs := environment.MustBaseEnvSet(v)
	return &compilers{envs: envs, plain: plugincel.NewCompiler(envs)}
}

// safeCompile compiles a policy; the CEL libraries expect policies the
// apiserver validated, so a panic on a hostile one makes it invalid.
func safeCompile(p *admissionregistrationv1.ValidatingAdmissionPolicy, cs *compilers) (cp *compiled) {
	defer func() {
		if r := recover(); r != nil {
			cp = &compiled{policy: p, invalid: fmt.Sprintf("ValidatingAdmissionPolicy %q cannot be compiled: %v", p.Name, r)}
		}
	}()
	if cs.err != "" {
		return &compiled{policy: p, invalid: cs.err}
	}
	return compilePolicy(p, cs)
}

// Check applies the policies of every environment to its objects.
func (c *Checker) Check(ctx context.Context, res *render.Result) []finding.Finding {
	var out []finding.Finding
	for _, e := range res.Environments {
		if ctx.Err() != nil {
			break
		}
		clusters := map[string]bool{}
		for _, k := range e.Kustomizations {
			clusters[k.Cluster()] = true
		}
		names := make([]string, 0, len(clusters))
		for cl := range clusters {
			names = append(names, cl)
		}
		slices.Sort(names)
		for _, cl := range names {
			out = append(out, c.checkCluster(ctx, res.Index, e, cl)...)
		}
	}
	return out
}

// hook is a policy with its bindings, as the apiserver's policy source
// pairs them.
type hook struct {
	name     string
	src      source
	compiled *compiled
	bindings []*boundTo
	// kyverno: a Kyverno ValidatingPolicy, evaluated as the
	// ValidatingAdmissionPolicy it extends with its implicit binding.
	kyverno bool
}

type boundTo struct {
	b   *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	src source
}

// cluster is what one cluster of an environment holds for admission.
type cluster struct {
	e       *render.Environment
	rbac    *rbacworld.Env
	ns      namespaces
	hooks   []*hook
	objects []source // every object, for params
	eq      equivalents
	gk      *gatekeeper.Policy // the Gatekeeper constraints (nil: none)
}

func (c *Checker) checkCluster(ctx context.Context, x *render.Index, e *render.Environment, name string) []finding.Finding {
	var srcs []source
	for _, k := range e.Kustomizations {
		if k.Cluster() != name {
			continue
		}
		for _, o := range k.Objects {
			srcs = append(srcs, source{obj: o.Content, o: o, k: k})
		}
	}
	srcs = append(srcs, c.extra...)
	cl := &cluster{e: e, ns: namespaces{}, objects: srcs}
	policies := map[string]*hook{}
	var bindings []boundTo
	var out []finding.Finding
	var gk []gatekeeper.Source
	gkAt := map[string]source{}
	var kyverno []*hook
	for _, s := range srcs {
		if s.obj["kind"] == "Namespace" && s.obj["apiVersion"] == "v1" {
			cl.ns.add(s.obj)
		}
		switch g := objects.Group(str(s.obj["apiVersion"])); {
		case isGatekeeper(s.obj):
			file, line := s.position()
			gk = append(gk, gatekeeper.Source{Object: s.obj, File: file, Line: line})
			gkAt[fmt.Sprintf("%s:%d", file, line)] = s
			continue
		case g == kyvernoPolicyGroup && s.obj["kind"] == kindVPol:
			pobj, bobj, why := kyvernoPolicy(s.obj)
			md, _ := s.obj["metadata"].(map[string]any)
			name := str(md["name"])
			if why != "" {
				out = append(out, c.about(x, e, s, RuleNotEvaluated, fmt.Sprintf("Kyverno ValidatingPolicy %s is not evaluated offline: %s", name, why), nil)...)
				continue
			}
			p, err := decodePolicy(pobj)
			b, berr := decodeBinding(bobj)
			if err != nil || berr != nil {
				out = append(out, c.about(x, e, s, RuleNotEvaluated, fmt.Sprintf("Kyverno ValidatingPolicy %s is not evaluated offline: it does not read as a ValidatingAdmissionPolicy: %v", name, cmp.Or(err, berr)), nil)...)
				continue
			}
			cp := c.compile(p, pobj)
			if cp.invalid != "" {
				// Kyverno's CEL has libraries the apiserver's lacks: what
				// does not compile here may well be valid there.
				out = append(out, c.about(x, e, s, RuleNotEvaluated, fmt.Sprintf("Kyverno ValidatingPolicy %s is not evaluated offline: it does not compile in the apiserver's CEL environment (it may use Kyverno's own CEL libraries): %s", name, firstLine(cp.invalid)), nil)...)
				continue
			}
			kyverno = append(kyverno, &hook{name: name, src: s, compiled: cp, kyverno: true, bindings: []*boundTo{{b: b, src: s}}})
			continue
		case g == kyvernoLegacyGroup && (s.obj["kind"] == "ClusterPolicy" || s.obj["kind"] == "Policy"):
			out = append(out, c.kyvernoLegacy(x, e, s)...)
			continue
		}
		kind, ok := isAdmissionObject(s.obj)
		if !ok {
			continue
		}
		switch kind {
		case kindPolicy:
			p, err := decodePolicy(s.obj)
			if err != nil {
				out = append(out, c.invalid(x, e, s, fmt.Sprintf("ValidatingAdmissionPolicy cannot be decoded: %v", err), nil)...)
				continue
			}
			cp := c.compile(p, s.obj)
			if cp.invalid != "" {
				out = append(out, c.invalid(x, e, s, cp.invalid, cp.invalidPath)...)
				continue
			}
			policies[p.Name] = &hook{name: p.Name, src: s, compiled: cp}
		case kindBinding:
			b, err := decodeBinding(s.obj)
			if err != nil {
				out = append(out, c.invalid(x, e, s, fmt.Sprintf("ValidatingAdmissionPolicyBinding cannot be decoded: %v", err), nil)...)
				continue
			}
			if msg, path := validateBinding(b); msg != "" {
				out = append(out, c.invalid(x, e, s, msg, path)...)
				continue
			}
			bindings = append(bindings, boundTo{b: b, src: s})
		}
	}
	if len(gk) > 0 {
		var problems []gatekeeper.Problem
		cl.gk, problems = c.gatekeeperPolicy(ctx, gk)
		out = append(out, c.gatekeeperProblems(x, e, gkAt, problems)...)
	}
	for i := range bindings {
		if h := policies[bindings[i].b.Spec.PolicyName]; h != nil {
			h.bindings = append(h.bindings, &bindings[i])
		}
	}
	for _, h := range policies {
		if len(h.bindings) > 0 {
			slices.SortFunc(h.bindings, func(a, b *boundTo) int { return cmp.Compare(a.b.Name, b.b.Name) })
			cl.hooks = append(cl.hooks, h)
		}
	}
	cl.hooks = append(cl.hooks, kyverno...)
	if len(cl.hooks) == 0 && (cl.gk == nil || cl.gk.Constraints() == 0) {
		return out
	}
	slices.SortFunc(cl.hooks, func(a, b *hook) int { return cmp.Compare(a.name, b.name) })
	cl.rbac = c.base.State(e, name)
	cl.eq = equivalents{}
	for _, s := range srcs {
		if s.obj["kind"] == "CustomResourceDefinition" && strings.HasPrefix(fmt.Sprint(s.obj["apiVersion"]), "apiextensions.k8s.io/") {
			cl.eq.addCRD(s.obj)
		}
	}
	for _, k := range e.Kustomizations {
		if ctx.Err() != nil {
			break
		}
		if k.Cluster() != name || k.Unchanged {
			continue
		}
		id, impersonated := identity.Of(e, k)
		self := k.ID()
		var grants []rbacworld.Grant
		if impersonated {
			grants = cl.rbac.World.Grants(id, self)
		} else {
			// Not impersonated: the controller applies as itself, with
			// the cluster-admin every Flux install binds it to (rbacsim
			// checks nothing there), bindings it applies included.
			sa := "kustomize-controller"
			if k.Kind == render.KindHelmRelease {
				sa = "helm-controller"
			}
			id, self = identity.Identity{Namespace: e.FluxNamespace(), Name: sa}, ""
		}
		az := rbacAuthorizer{world: cl.rbac.World, requester: id, self: self}
		// RBAC gates admission where rbacsim judges it: not for an
		// identity granted outside git (rbac/identity-outside-git), whose
		// objects the cluster does apply.
		gated := impersonated && !grantedOutsideGit(e, k, id, grants)
		for _, o := range k.Objects {
			out = append(out, c.admit(ctx, x, cl, k, id, gated, grants, az, o)...)
		}
	}
	return out
}

// invalid is the finding for a policy or binding the apiserver refuses,
// at the field it names.
func (c *Checker) invalid(x *render.Index, e *render.Environment, s source, msg string, path []string) []finding.Finding {
	return c.about(x, e, s, RuleInvalidPolicy, msg, path)
}

// admit runs every policy on one object as its Kustomization's identity.
func (c *Checker) admit(ctx context.Context, x *render.Index, cl *cluster, k *render.Kustomization, id identity.Identity, gated bool, grants []rbacworld.Grant, az rbacAuthorizer, o *render.Object) []finding.Finding {
	gv, err := schema.ParseGroupVersion(o.APIVersion())
	if err != nil || o.Kind() == "" {
		return nil
	}
	if gv.Group == groupName {
		return nil // the apiserver does not run policies on admission configuration
	}
	ri, ok := cl.rbac.Resource(o.APIVersion(), o.Kind())
	if !ok {
		return nil // unknown resource: rbac/unknown-resource and schema say so
	}
	ns := ""
	if ri.Namespaced {
		ns = o.Namespace()
	}
	// Admission runs after authorization: what RBAC forbids never reaches
	// it (rbac/forbidden reports it).
	if gated {
		rules := rbacworld.PolicyRules(grants, ns)
		for _, verb := range []string{"patch", "create", "get"} {
			if !rbacworld.Allows(rules, rbacworld.Request{Verb: verb, APIGroup: gv.Group, Resource: ri.Resource, Name: o.Name(), Namespace: ns}) {
				return nil
			}
		}
	}
	gvk := gv.WithKind(o.Kind())
	gvr := gv.WithResource(ri.Resource)
	obj := &unstructured.Unstructured{Object: o.Content}
	userInfo := &user.DefaultInfo{Name: id.User(), Groups: id.Groups()}
	attr := admission.NewAttributesRecord(obj, nil, gvk, ns, o.Name(), gvr, "", admission.Create, &metav1.CreateOptions{FieldManager: "kustomize-controller"}, false, userInfo)
	var namespace *corev1.Namespace
	if ns != "" && !(gvk.Kind == "Namespace" && gvk.Group == "" && gvk.Version == "v1") {
		namespace, _ = cl.ns.Get(ns)
	}
	var out []finding.Finding
	var typed runtime.Object // obj as the apiserver holds it, on the first match
	for _, h := range cl.hooks {
		p := h.compiled.policy
		matched, matchKind, err := safeMatch(p.Spec.MatchConstraints, attr, cl)
		if err != nil {
			if f := p.Spec.FailurePolicy; f == nil || *f == admissionregistrationv1.Fail {
				out = append(out, c.finding(x, cl, k, o, h, nil, decision{validation: -1, always: true, message: "failed to configure policy: " + err.Error()})...)
			}
			continue
		}
		if !matched {
			continue
		}
		if typed == nil {
			typed = roundTrip(obj, gvk)
		}
		va := &admission.VersionedAttributes{Attributes: attr, VersionedKind: matchKind}
		va.VersionedObject.Set(typed)
		for _, bt := range h.bindings {
			if m := bt.b.Spec.MatchResources; m != nil {
				ok, _, err := safeMatch(m, attr, cl)
				if err != nil {
					out = append(out, c.configError(x, cl, k, o, h, bt, err)...)
					continue
				}
				if !ok {
					continue
				}
			}
			params, err := cl.params(p, bt.b, ns)
			if err != nil {
				out = append(out, c.configError(x, cl, k, o, h, bt, err)...)
				continue
			}
			for _, param := range params {
				for _, d := range safeEvaluate(ctx, h.compiled, va, gvr, param, namespace, az) {
					out = append(out, c.finding(x, cl, k, o, h, bt, d)...)
				}
			}
		}
	}
	return append(out, c.review(ctx, cl, k, o, id.User(), id.Groups(), ns)...)
}

// configError is a binding the apiserver cannot apply to the object
// (params missing, a selector error): a denial under failurePolicy Fail.
func (c *Checker) configError(x *render.Index, cl *cluster, k *render.Kustomization, o *render.Object, h *hook, bt *boundTo, err error) []finding.Finding {
	if f := h.compiled.policy.Spec.FailurePolicy; f != nil && *f == admissionregistrationv1.Ignore {
		return nil
	}
	return c.finding(x, cl, k, o, h, bt, decision{validation: -1, always: true, message: "failed to configure binding: " + err.Error()})
}

// criteria adapts MatchResources to the matcher.
type criteria struct {
	m *admissionregistrationv1.MatchResources
}

func (c *criteria) GetParsedNamespaceSelector() (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(c.m.NamespaceSelector)
}

func (c *criteria) GetParsedObjectSelector() (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(c.m.ObjectSelector)
}

func (c *criteria) GetMatchResources() admissionregistrationv1.MatchResources { return *c.m }

func safeMatch(m *admissionregistrationv1.MatchResources, attr admission.Attributes, cl *cluster) (ok bool, gvk schema.GroupVersionKind, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("matching failed: %v", r)
		}
	}()
	return matches(m, attr, cl.ns, cl.eq)
}

func safeEvaluate(ctx context.Context, cp *compiled, va *admission.VersionedAttributes, gvr schema.GroupVersionResource, param runtime.Object, ns *corev1.Namespace, az rbacAuthorizer) (ds []decision) {
	defer func() {
		if r := recover(); r != nil {
			ds = nil
			if f := cp.policy.Spec.FailurePolicy; f == nil || *f == admissionregistrationv1.Fail {
				ds = []decision{{validation: -1, message: fmt.Sprintf("evaluation failed: %v", r)}}
			}
		}
	}()
	return evaluate(ctx, cp, va, gvr, param, ns, az)
}

// params resolves a binding's paramRef among the cluster's objects, as
// the apiserver's param lister would find them.
func (cl *cluster) params(p *admissionregistrationv1.ValidatingAdmissionPolicy, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding, ns string) ([]runtime.Object, error) {
	pk, ref := p.Spec.ParamKind, b.Spec.ParamRef
	if pk == nil || ref == nil {
		return []runtime.Object{nil}, nil
	}
	gv, err := schema.ParseGroupVersion(pk.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("paramKind kind `%v` not known", pk.String())
	}
	ri, ok := cl.rbac.Resource(pk.APIVersion, pk.Kind)
	if !ok {
		return nil, fmt.Errorf("paramKind kind `%v` not known", pk.String())
	}
	paramNS := ""
	if ri.Namespaced {
		paramNS = ns
		if ref.Namespace != "" {
			paramNS = ref.Namespace
		} else if paramNS == "" {
			return nil, fmt.Errorf("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources")
		}
	} else if ref.Namespace != "" {
		return nil, fmt.Errorf("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
	}
	var sel labels.Selector
	if ref.Name == "" {
		if sel, err = metav1.LabelSelectorAsSelector(ref.Selector); err != nil {
			return nil, err
		}
	}
	var out []runtime.Object
	seen := map[string]bool{}
	for _, s := range cl.objects {
		u := &unstructured.Unstructured{Object: s.obj}
		ogv, err := schema.ParseGroupVersion(u.GetAPIVersion())
		if err != nil || ogv.Group != gv.Group || u.GetKind() != pk.Kind {
			continue
		}
		if ri.Namespaced && u.GetNamespace() != paramNS {
			continue
		}
		if ref.Name != "" && u.GetName() != ref.Name {
			continue
		}
		if sel != nil && !sel.Matches(labels.Set(u.GetLabels())) {
			continue
		}
		key := u.GetNamespace() + "/" + u.GetName()
		if seen[key] {
			continue // applied twice: one object in the cluster
		}
		seen[key] = true
		out = append(out, u)
	}
	if len(out) == 0 && ref.ParameterNotFoundAction != nil && *ref.ParameterNotFoundAction == admissionregistrationv1.DenyAction {
		return nil, fmt.Errorf("no params found for policy binding with `Deny` parameterNotFoundAction")
	}
	return out, nil
}

// finding builds the finding of one decision, worded as the apiserver
// words it: its denial (Deny), the warning it returns (Warn), the audit
// annotation it records (Audit).
func (c *Checker) finding(x *render.Index, cl *cluster, k *render.Kustomization, o *render.Object, h *hook, bt *boundTo, d decision) []finding.Finding {
	policy := h.name
	rule := finding.Rule{ID: PolicyRulePrefix + policy, Severity: finding.Error}
	base := finding.Finding{File: o.File, Line: o.Line, Column: o.Column, Environment: cl.e.Name, Kustomization: k.ID(), Object: o.Ref()}
	suffix := ""
	if o.File == "" {
		base.Line, base.Column = 0, 0
		suffix = fmt.Sprintf(" (in %s of source %s/%s/%s, not in this repository)", o.OriginPath, k.SourceKind, k.SourceNamespace, k.SourceName)
	} else if doc := x.DocAt(o.File, o.Line); doc != nil && d.expr != "" {
		vars := map[string]string{}
		for _, v := range h.compiled.policy.Spec.Variables {
			vars[v.Name] = v.Expression
		}
		if path := deepestPath(o.Content, variablePaths(d.expr, vars, 3)); len(path) > 0 {
			base.Line, base.Column = doc.FieldPos(path...)
		}
	}
	ri, _ := cl.rbac.Resource(o.APIVersion(), o.Kind())
	forbidden := func(msg string) string {
		gr := schema.GroupResource{Group: objects.Group(o.APIVersion()), Resource: ri.Resource}
		return fmt.Sprintf("%s %q is forbidden: %s", gr.String(), o.Name(), msg)
	}
	if bt == nil {
		f := rule.New(base)
		f.Message = forbidden(fmt.Sprintf("ValidatingAdmissionPolicy '%s' denied request: %s", policy, d.message)) + suffix
		return []finding.Finding{f}
	}
	binding := bt.b.Name
	denied := forbidden(fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", policy, binding, d.message)) + suffix
	warned := fmt.Sprintf("Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s", policy, binding, d.message) + suffix
	audited := fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' records an audit failure: %s", policy, binding, d.message) + suffix
	if h.kyverno {
		// Kyverno's webhook, not the apiserver, words these.
		denied = fmt.Sprintf("Kyverno ValidatingPolicy '%s' denies the request: %s", policy, d.message) + suffix
		warned = fmt.Sprintf("Kyverno ValidatingPolicy '%s' warns: %s", policy, d.message) + suffix
		audited = fmt.Sprintf("Kyverno ValidatingPolicy '%s' reports a failure (Audit): %s", policy, d.message) + suffix
	}
	if d.always {
		f := rule.New(base)
		f.Message = denied
		return []finding.Finding{f}
	}
	var out []finding.Finding
	for _, a := range bt.b.Spec.ValidationActions {
		f := rule.New(base)
		switch a {
		case admissionregistrationv1.Deny:
			f.Message = denied
		case admissionregistrationv1.Warn:
			// The binding only warns: the apply succeeds with this warning.
			f.Severity = finding.Warning
			f.Message = warned
		case admissionregistrationv1.Audit:
			// The binding only audits: the apiserver records the failure
			// in its audit log (validation.policy.admission.k8s.io/validation_failure).
			f.Severity = finding.Info
			f.Message = audited
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}

// roundTrip returns a built-in object as the apiserver holds it when
// admission runs: decoded into its Go type and encoded again, which drops
// what the type does not know and the zero values it omits (a Deployment's
// `paused: false`) and writes quantities canonically. Defaulting is not
// done (the defaulters live in k8s.io/kubernetes). Other kinds, and any
// object that does not decode, are left as rendered.
func roundTrip(obj *unstructured.Unstructured, gvk schema.GroupVersionKind) runtime.Object {
	if !clientscheme.Scheme.Recognizes(gvk) {
		return obj
	}
	out, err := func() (out runtime.Object, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		typed, err := clientscheme.Scheme.New(gvk)
		if err != nil {
			return nil, err
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, typed); err != nil {
			return nil, err
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetAPIVersion(gvk.GroupVersion().String())
		u.SetKind(gvk.Kind)
		return u, nil
	}()
	if err != nil {
		return obj
	}
	return out
}

// grantedOutsideGit is rbacsim's rbac/identity-outside-git condition: an
// explicit serviceAccountName that the environment neither declares nor
// binds beyond the bootstrap roles.
func grantedOutsideGit(e *render.Environment, k *render.Kustomization, id identity.Identity, grants []rbacworld.Grant) bool {
	if k.ServiceAccountName == "" {
		return false
	}
	for _, g := range grants {
		if !strings.HasPrefix(g.Role, "ClusterRole/system:") {
			return false
		}
	}
	for _, kk := range e.Kustomizations {
		for _, o := range kk.Objects {
			if o.Kind() == "ServiceAccount" && o.APIVersion() == "v1" && o.Name() == id.Name && o.Namespace() == id.Namespace {
				return false
			}
		}
	}
	return true
}
