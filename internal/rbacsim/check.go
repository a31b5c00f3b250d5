package rbacsim

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/rbacworld"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// resourceInfo maps a kind to its API resource.
type resourceInfo = rbacworld.Resource

// Checker simulates the RBAC of every Flux Kustomization's identity.
type Checker struct {
	base *rbacworld.Base
}

// FluxReconcilerBinding returns the ClusterRoleBinding every Flux
// installation (flux bootstrap, flux install, the Flux Operator) creates for
// its reconcilers, which the simulation assumes when an environment does not
// render Flux's install itself.
func FluxReconcilerBinding() map[string]any { return rbacworld.FluxReconcilerBinding() }

// Options of the RBAC simulation.
type Options struct {
	// RBACDirs hold more Roles, ClusterRoles and bindings (a cluster dump,
	// another repository) that every environment has, read within
	// FileBytes a file and the run's Budget.
	RBACDirs  []string
	FileBytes int64
	Budget    *confine.Budget
}

// Load builds a checker from the embedded catalog (bootstrap RBAC policy
// and the kind → resource table of the newest Kubernetes version).
func Load(opts Options) (*Checker, error) {
	base, err := rbacworld.LoadBase("rbac-dir", opts.RBACDirs, opts.FileBytes, opts.Budget)
	if err != nil {
		return nil, err
	}
	return &Checker{base: base}, nil
}

// env is the RBAC state of one environment.
type env struct {
	world     *World
	resources map[string]resourceInfo
}

// envState is the RBAC of one cluster of e (rbacworld.Base.State).
func (c *Checker) envState(e *render.Environment, cluster string) *env {
	st := c.base.State(e, cluster)
	return &env{world: st.World, resources: st.Resources}
}

// groupKind turns "apps/v1/Deployment" or "v1/Pod" into "apps/Deployment" or
// "/Pod": RBAC names resources by group, whatever the version.
func groupKind(apiVersionKind string) string { return rbacworld.GroupKind(apiVersionKind) }

// Check simulates every Kustomization of every environment.
func (c *Checker) Check(ctx context.Context, res *render.Result) []finding.Finding {
	var out []finding.Finding
	for _, e := range res.Environments {
		if ctx.Err() != nil {
			break
		}
		states := map[string]*env{} // by cluster
		for _, k := range e.Kustomizations {
			if k.Unchanged {
				continue // --changed-since: rendered for the others' sake only
			}
			st := states[k.Cluster()]
			if st == nil {
				st = c.envState(e, k.Cluster())
				states[k.Cluster()] = st
			}
			out = append(out, crossNamespace(res.Index, e, k)...)
			id, ok := identity.Of(e, k)
			if !ok {
				continue
			}
			grants := st.world.Grants(id, k.ID())
			if f, outside := identityOutsideGit(e, k, id, grants); outside {
				out = append(out, f)
				continue
			}
			for _, o := range k.Objects {
				out = append(out, st.checkObject(e, k, id, grants, o)...)
			}
		}
	}
	return out
}

func baseFinding(e *render.Environment, k *render.Kustomization, o *render.Object) finding.Finding {
	f := finding.Finding{File: o.File, Line: o.Line, Column: o.Column, Environment: e.Name, Kustomization: k.ID(), Object: o.Ref()}
	if o.File == "" {
		f.Line, f.Column = 0, 0
	}
	return f
}

func (st *env) checkObject(e *render.Environment, k *render.Kustomization, id identity.Identity, grants []Grant, o *render.Object) []finding.Finding {
	base := baseFinding(e, k, o)
	where := ""
	if o.File == "" {
		where = fmt.Sprintf(" (object from %s of source %s/%s/%s)", o.OriginPath, k.SourceKind, k.SourceNamespace, k.SourceName)
	}
	ri, ok := st.resources[groupKind(o.APIVersion()+"/"+o.Kind())]
	if !ok && wildcardAllowed(grants, o) {
		return nil // the identity may do anything there, whatever the resource is called
	}
	if !ok {
		f := base
		f = RuleUnknownResource.New(f)
		f.Message = fmt.Sprintf("cannot tell which API resource %s %s is (not a built-in kind and no CustomResourceDefinition in this environment), so whether %s may apply it is not checked%s", o.APIVersion(), o.Kind(), id.User(), where)
		return []finding.Finding{f}
	}
	ns := ""
	if ri.Namespaced {
		ns = o.Namespace()
	}
	group := ""
	if i := strings.LastIndex(o.APIVersion(), "/"); i >= 0 {
		group = o.APIVersion()[:i]
	}
	rules := PolicyRules(grants, ns)
	req := Request{APIGroup: group, Resource: ri.Resource, Name: o.Name(), Namespace: ns}
	var out []finding.Finding
	var denied []string
	// Server-side apply is a PATCH, which the apiserver authorizes first;
	// kustomize-controller also creates and reads what it applies.
	for _, verb := range []string{"patch", "create", "get"} {
		req.Verb = verb
		if !Allows(rules, req) {
			denied = append(denied, verb)
		}
	}
	if len(denied) > 0 {
		req.Verb = denied[0]
		f := base
		f = RuleForbidden.New(f)
		f.Message = forbidden(id, req) + alsoDenied(denied[1:]) + "; " + bindingsOf(grants) + where
		out = append(out, f)
		return out // nothing else matters until it may apply
	}
	if k.Prune || k.Force {
		req.Verb = "delete"
		if !Allows(rules, req) {
			f := base
			f = RulePrune.New(f)
			why := "prune: true"
			if k.Force {
				why = "force: true"
			}
			f.Message = forbidden(id, req) + fmt.Sprintf(": with %s kustomize-controller deletes it (garbage collection or force-recreate) and that would fail; ", why) + bindingsOf(grants) + where
			out = append(out, f)
		}
	}
	if f, ok := st.escalation(id, grants, o, ri, ns, base); ok {
		f.Message += where
		out = append(out, f)
	}
	return out
}

func alsoDenied(verbs []string) string {
	if len(verbs) == 0 {
		return ""
	}
	return " (nor " + strings.Join(verbs, ", ") + ")"
}

// forbidden words a denial as the apiserver does:
// cronjobs.batch "cleanup" is forbidden: User "…" cannot patch resource "cronjobs" in API group "batch" in the namespace "team-a".
func forbidden(id identity.Identity, req Request) string {
	scope := "at the cluster scope"
	if req.Namespace != "" {
		scope = fmt.Sprintf("in the namespace %q", req.Namespace)
	}
	return fmt.Sprintf("%s %q is forbidden: User %q cannot %s resource %q in API group %q %s", qualified(req.Resource, req.APIGroup), req.Name, id.User(), req.Verb, req.Resource, req.APIGroup, scope)
}

// qualified is the apiserver's resource.group name ("configmaps" for core).
func qualified(resource, group string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

func bindingsOf(grants []Grant) string {
	if len(grants) == 0 {
		return "it is bound to no role (beyond what every authenticated user holds)"
	}
	var names []string
	for _, g := range grants {
		if strings.HasPrefix(g.Role, "ClusterRole/system:") {
			continue // bootstrap defaults every identity has
		}
		names = append(names, g.String())
	}
	if len(names) == 0 {
		return "it is bound to no role (beyond what every authenticated user holds)"
	}
	return "its bindings: " + strings.Join(names, ", ")
}

// escalation checks that granting what o grants does not exceed what the
// identity holds, as the apiserver's RBAC escalation check does for roles
// and bindings.
func (st *env) escalation(id identity.Identity, grants []Grant, o *render.Object, ri resourceInfo, ns string, base finding.Finding) (finding.Finding, bool) {
	if !strings.HasPrefix(o.APIVersion(), rbacv1.GroupName+"/") {
		return finding.Finding{}, false
	}
	var granted []rbacv1.PolicyRule
	var verb, target string
	var targetNS = ns
	switch o.Kind() {
	case "Role", "ClusterRole":
		w := NewWorld()
		if err := w.Add(o.Content); err != nil {
			return finding.Finding{}, false
		}
		granted, _ = w.RoleRules(o.Kind(), o.Namespace(), o.Name())
		verb, target = "escalate", o.Name()
	case "RoleBinding", "ClusterRoleBinding":
		ref, _ := o.Content["roleRef"].(map[string]any)
		kind, _ := ref["kind"].(string)
		name, _ := ref["name"].(string)
		rules, ok := st.world.RoleRules(kind, ns, name)
		if !ok {
			return finding.Finding{}, false // the role is not known here: cannot tell
		}
		granted = rules
		verb, target = "bind", name
		ri = resourceInfo{Resource: strings.ToLower(kind) + "s", Namespaced: kind == "Role"}
		if kind == "ClusterRole" && o.Kind() == "ClusterRoleBinding" {
			targetNS = ""
		}
	default:
		return finding.Finding{}, false
	}
	held := PolicyRules(grants, ns)
	covered, missing := validation.Covers(held, granted)
	if covered {
		return finding.Finding{}, false
	}
	// escalate/bind on the role lets the identity grant it anyway.
	if Allows(PolicyRules(grants, targetNS), Request{Verb: verb, APIGroup: rbacv1.GroupName, Resource: ri.Resource, Name: target, Namespace: targetNS}) {
		return finding.Finding{}, false
	}
	f := base
	f = RuleEscalation.New(f)
	scope := "cluster-wide"
	if ns != "" {
		scope = "in namespace " + ns
	}
	groups := make([]string, len(id.Groups()))
	for i, g := range id.Groups() {
		groups[i] = fmt.Sprintf("%q", g)
	}
	f.Message = fmt.Sprintf("%s %q is forbidden: user %q (groups=[%s]) is attempting to grant RBAC permissions not currently held: %s (%s, and without %q on %s %q); %s",
		strings.ToLower(o.Kind())+"s."+rbacv1.GroupName, o.Name(), id.User(), strings.Join(groups, " "), formatRules(missing), scope, verb, ri.Resource, target, bindingsOf(grants))
	return f, true
}

// formatRules prints rules as the apiserver's escalation message does
// (empty fields left out), at most five, then a count.
func formatRules(rules []rbacv1.PolicyRule) string {
	var parts []string
	for i, r := range rules {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(rules)-5))
			break
		}
		var fields []string
		add := func(name string, v []string) {
			if len(v) > 0 {
				q := make([]string, len(v))
				for j, s := range v {
					q[j] = fmt.Sprintf("%q", s)
				}
				fields = append(fields, name+":["+strings.Join(q, " ")+"]")
			}
		}
		add("APIGroups", r.APIGroups)
		add("Resources", r.Resources)
		add("ResourceNames", r.ResourceNames)
		add("NonResourceURLs", r.NonResourceURLs)
		add("Verbs", r.Verbs)
		parts = append(parts, "{"+strings.Join(fields, ", ")+"}")
	}
	return strings.Join(parts, " ")
}

// crossNamespace reports sourceRef and dependsOn references to another
// namespace under --no-cross-namespace-refs, as kustomize-controller words
// its refusal.
func crossNamespace(x *render.Index, e *render.Environment, k *render.Kustomization) []finding.Finding {
	if !e.Lockdown.NoCrossNamespaceRefs {
		return nil
	}
	doc := x.DocAt(k.File, k.Line)
	var out []finding.Finding
	mk := func(at []string, msg string) finding.Finding {
		f := RuleCrossNamespaceRef.New(finding.Finding{File: k.File, Line: k.Line, Column: k.Column,
			Environment: e.Name, Kustomization: k.ID(), Message: msg})
		if doc != nil {
			f.Line, f.Column = doc.FieldPos(at...)
		}
		if k.File == "" {
			f.Line, f.Column = 0, 0
		}
		return f
	}
	if k.SourceNamespace != k.Namespace {
		out = append(out, mk([]string{"spec", "sourceRef", "namespace"},
			fmt.Sprintf("can't access '%s/%s/%s', cross-namespace references have been blocked (kustomize-controller runs with --no-cross-namespace-refs)", k.SourceKind, k.SourceNamespace, k.SourceName)))
	}
	deps, _ := k.Spec["dependsOn"].([]any)
	for i, d := range deps {
		dm, _ := d.(map[string]any)
		dns, _ := dm["namespace"].(string)
		name, _ := dm["name"].(string)
		if dns != "" && dns != k.Namespace {
			out = append(out, mk([]string{"spec", "dependsOn", fmt.Sprint(i), "namespace"},
				fmt.Sprintf("can't access dependency '%s/%s', cross-namespace references have been blocked (kustomize-controller runs with --no-cross-namespace-refs)", dns, name)))
		}
	}
	return slices.Clip(out)
}

// wildcardAllowed reports whether the identity's wildcard rules alone let it
// apply o, so that the unknown resource name does not matter.
func wildcardAllowed(grants []Grant, o *render.Object) bool {
	const unknown = "\x00unknown-resource"
	group := ""
	if i := strings.LastIndex(o.APIVersion(), "/"); i >= 0 {
		group = o.APIVersion()[:i]
	}
	for _, ns := range []string{o.Namespace(), ""} {
		rules := PolicyRules(grants, ns)
		ok := true
		// Server-side apply is a PATCH, which the apiserver authorizes first;
		// kustomize-controller also creates and reads what it applies.
		for _, verb := range []string{"patch", "create", "get"} {
			if !Allows(rules, Request{Verb: verb, APIGroup: group, Resource: unknown, Name: o.Name(), Namespace: ns}) {
				ok = false
				break
			}
		}
		if ok && (ns == "" || o.Namespace() != "") {
			return true
		}
	}
	return false
}

// CanI answers whether id may make req in environment e, and which grants
// allow it (kubectl auth can-i, offline). Bindings that Kustomizations
// applying as id itself create do not count: an identity cannot grant
// itself what it lacks (the escalation check stops those).
func (c *Checker) CanI(e *render.Environment, id identity.Identity, req Request) (bool, []Grant) {
	st := c.envState(e, "") // the environment's own cluster
	self := map[string]bool{}
	for _, k := range e.Kustomizations {
		if kid, ok := identity.Of(e, k); ok && kid == id {
			self[k.ID()] = true
		}
	}
	var allowing []Grant
	for _, g := range st.world.GrantsExcept(id, func(owner string) bool { return self[owner] }) {
		if g.Namespace != "" && g.Namespace != req.Namespace {
			continue
		}
		if Allows(g.Rules, req) {
			allowing = append(allowing, g)
		}
	}
	return len(allowing) > 0, allowing
}

// RuleIdentityOutsideGit is declared beside the only code that emits it.
var RuleIdentityOutsideGit = rules.Add(finding.Rule{ID: "rbac/identity-outside-git", Severity: finding.Warning,
	Help:        "A Kustomization is reconciled as a ServiceAccount that nothing in the environment declares or binds: its permissions are granted outside git (at bootstrap, by the platform), so what it may apply is not simulated.",
	Remediation: "Pass the identity's Roles and bindings with --rbac-dir DIR (a dump of the cluster's RBAC) to check them, or declare the ServiceAccount and its bindings in git."})

// identityOutsideGit reports a Kustomization whose explicit
// serviceAccountName names a ServiceAccount the environment neither
// declares nor binds to any role (beyond the bootstrap roles every
// identity holds), and that --rbac-dir does not bind either: its
// permissions live outside git, and simulating them would report every
// object as forbidden although the cluster applies them.
func identityOutsideGit(e *render.Environment, k *render.Kustomization, id identity.Identity, grants []Grant) (finding.Finding, bool) {
	if k.ServiceAccountName == "" {
		return finding.Finding{}, false // the lockdown's default account: the platform's choice, simulated
	}
	for _, g := range grants {
		if !strings.HasPrefix(g.Role, "ClusterRole/system:") {
			return finding.Finding{}, false
		}
	}
	for _, kk := range e.Kustomizations {
		for _, o := range kk.Objects {
			if o.Kind() == "ServiceAccount" && o.APIVersion() == "v1" && o.Name() == id.Name && o.Namespace() == id.Namespace {
				return finding.Finding{}, false
			}
		}
	}
	f := RuleIdentityOutsideGit.New(finding.Finding{File: k.File, Line: k.Line, Column: k.Column, Environment: e.Name, Kustomization: k.ID(),
		Message: fmt.Sprintf("%s is reconciled as %s, which nothing in this environment declares or binds: its permissions are granted outside git, so what it may apply is not simulated; pass --rbac-dir DIR with its bindings to check them", k.ID(), id.User())})
	if k.File == "" {
		f.Line, f.Column = 0, 0
	}
	return f, true
}
