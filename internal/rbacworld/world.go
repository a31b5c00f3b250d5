// Package rbacworld is the RBAC state of an environment (its Roles,
// ClusterRoles and bindings, Kubernetes' bootstrap policy) and the
// apiserver's rule matching over it, offline. The RBAC simulation
// (rbacsim) and admission's CEL authorizer both ask it, so that neither
// checker imports the other.
package rbacworld

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/gitops-lint/gitops-lint/internal/identity"
)

// Request is one API request an identity makes.
type Request struct {
	Verb        string
	APIGroup    string
	Resource    string
	Subresource string
	Name        string
	// Namespace is "" for a cluster-scoped request.
	Namespace string
}

// asRule expresses the request as the single-verb, single-resource rule the
// apiserver's comparator checks coverage of. A create of a top-level
// resource carries no name at authorization time (it POSTs to the
// collection), so rules restricted by resourceNames never allow it; a
// create of a subresource (pods/NAME/eviction) does carry the name.
func (r Request) asRule() rbacv1.PolicyRule {
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	rule := rbacv1.PolicyRule{Verbs: []string{r.Verb}, APIGroups: []string{r.APIGroup}, Resources: []string{res}}
	if r.Name != "" && (r.Verb != "create" || r.Subresource != "") {
		rule.ResourceNames = []string{r.Name}
	}
	return rule
}

// Allows reports whether rules allow the request, with Kubernetes RBAC
// semantics (wildcards, "*/subresource", resourceNames), using the
// comparator of k8s.io/component-helpers/auth/rbac/validation.
func Allows(rules []rbacv1.PolicyRule, req Request) bool {
	ok, _ := validation.Covers(rules, []rbacv1.PolicyRule{req.asRule()})
	return ok
}

// World is the RBAC state of one environment: its roles and bindings and
// Kubernetes' bootstrap policy.
type World struct {
	roles        map[string]*rbacv1.Role // ns/name
	clusterRoles map[string]*rbacv1.ClusterRole
	bindings     []*rbacv1.RoleBinding
	crbs         []*rbacv1.ClusterRoleBinding
	// owner records which Kustomization applies each binding ("" for the
	// bootstrap policy and --rbac-dir), by binding key.
	owner map[string]string
}

// NewWorld returns an empty world.
func NewWorld() *World {
	return &World{roles: map[string]*rbacv1.Role{}, clusterRoles: map[string]*rbacv1.ClusterRole{}, owner: map[string]string{}}
}

// Add records an RBAC object (unstructured); other kinds are ignored.
func (w *World) Add(obj map[string]any) error { return w.AddOwned(obj, "") }

// AddOwned records an RBAC object applied by the Kustomization owner.
func (w *World) AddOwned(obj map[string]any, owner string) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if !strings.HasPrefix(apiVersion, rbacv1.GroupName+"/") {
		return nil
	}
	var err error
	switch kind {
	case "Role":
		var r rbacv1.Role
		if err = runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &r); err == nil {
			w.roles[r.Namespace+"/"+r.Name] = &r
		}
	case "ClusterRole":
		var r rbacv1.ClusterRole
		if err = runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &r); err == nil {
			w.clusterRoles[r.Name] = &r
		}
	case "RoleBinding":
		var b rbacv1.RoleBinding
		if err = runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &b); err == nil {
			w.bindings = append(w.bindings, &b)
			w.owner["RoleBinding/"+b.Namespace+"/"+b.Name] = owner
		}
	case "ClusterRoleBinding":
		var b rbacv1.ClusterRoleBinding
		if err = runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &b); err == nil {
			w.crbs = append(w.crbs, &b)
			w.owner["ClusterRoleBinding/"+b.Name] = owner
		}
	}
	if err != nil {
		return fmt.Errorf("decode %s: %w", kind, err)
	}
	return nil
}

// Aggregate fills the rules of aggregated ClusterRoles from the ClusterRoles
// their selectors match, as the clusterrole-aggregation controller does,
// until nothing changes (admin aggregates edit, which aggregates others).
func (w *World) Aggregate() {
	for range 10 {
		if !w.aggregateOnce() {
			return
		}
	}
}

// aggregateOnce runs one aggregation pass and reports whether a role changed.
func (w *World) aggregateOnce() bool {
	changed := false
	names := make([]string, 0, len(w.clusterRoles))
	for n := range w.clusterRoles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cr := w.clusterRoles[n]
		if cr.AggregationRule == nil {
			continue
		}
		var rules []rbacv1.PolicyRule
		for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				continue
			}
			for _, m := range names {
				other := w.clusterRoles[m]
				if m == n || !s.Matches(labels.Set(other.Labels)) {
					continue
				}
				for _, r := range other.Rules {
					if !slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool { return equalRule(x, r) }) {
						rules = append(rules, r)
					}
				}
			}
		}
		if len(rules) != len(cr.Rules) {
			changed = true
		}
		cr.Rules = rules
	}
	return changed
}

func equalRule(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) &&
		slices.Equal(a.Resources, b.Resources) && slices.Equal(a.ResourceNames, b.ResourceNames) &&
		slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}

// Grant is one binding that gives an identity a role's rules.
type Grant struct {
	// Binding is "ClusterRoleBinding/name" or "RoleBinding/ns/name".
	Binding string
	// Role is "ClusterRole/name" or "Role/ns/name".
	Role string
	// Namespace is where the rules apply ("" for everywhere).
	Namespace string
	Rules     []rbacv1.PolicyRule
}

func (g Grant) String() string {
	if g.Namespace == "" {
		return g.Binding + " → " + g.Role
	}
	return g.Binding + " → " + g.Role + " (in " + g.Namespace + ")"
}

// matches reports whether the binding subject s (of a binding in
// bindingNS, "" for a ClusterRoleBinding) names id.
func matches(id identity.Identity, s rbacv1.Subject, bindingNS string) bool {
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNS
		}
		return s.Name == id.Name && ns == id.Namespace
	case rbacv1.UserKind:
		return s.Name == id.User()
	case rbacv1.GroupKind:
		return slices.Contains(id.Groups(), s.Name)
	}
	return false
}

// Grants lists every binding that applies to the identity, leaving out the
// bindings the Kustomization self applies: on a fresh cluster they do not
// exist yet when its objects are authorized (and one that escalates never
// will).
func (w *World) Grants(id identity.Identity, self string) []Grant {
	return w.grants(id, func(owner string) bool { return self != "" && owner == self })
}

// GrantsExcept lists the bindings of id, without those whose owning
// Kustomization skip names.
func (w *World) GrantsExcept(id identity.Identity, skip func(owner string) bool) []Grant {
	return w.grants(id, skip)
}

// grants lists the bindings of id, without those whose owning
// Kustomization skip names.
func (w *World) grants(id identity.Identity, skip func(owner string) bool) []Grant {
	var out []Grant
	for _, b := range w.crbs {
		if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool { return matches(id, s, "") }) {
			continue
		}
		if skip(w.owner["ClusterRoleBinding/"+b.Name]) {
			continue
		}
		g := Grant{Binding: "ClusterRoleBinding/" + b.Name, Role: "ClusterRole/" + b.RoleRef.Name}
		if cr, ok := w.clusterRoles[b.RoleRef.Name]; ok && b.RoleRef.Kind == "ClusterRole" {
			g.Rules = cr.Rules
		}
		out = append(out, g)
	}
	for _, b := range w.bindings {
		if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool { return matches(id, s, b.Namespace) }) {
			continue
		}
		if skip(w.owner["RoleBinding/"+b.Namespace+"/"+b.Name]) {
			continue
		}
		g := Grant{Binding: "RoleBinding/" + b.Namespace + "/" + b.Name, Namespace: b.Namespace}
		switch b.RoleRef.Kind {
		case "ClusterRole":
			g.Role = "ClusterRole/" + b.RoleRef.Name
			if cr, ok := w.clusterRoles[b.RoleRef.Name]; ok {
				g.Rules = cr.Rules
			}
		case "Role":
			g.Role = "Role/" + b.Namespace + "/" + b.RoleRef.Name
			if r, ok := w.roles[b.Namespace+"/"+b.RoleRef.Name]; ok {
				g.Rules = r.Rules
			}
		}
		out = append(out, g)
	}
	return out
}

// PolicyRules returns the rules the identity holds in namespace ns ("" for the
// cluster scope: only ClusterRoleBindings count there).
func PolicyRules(grants []Grant, ns string) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, g := range grants {
		if g.Namespace == "" || (ns != "" && g.Namespace == ns) {
			out = append(out, g.Rules...)
		}
	}
	return out
}

// RoleRules returns the rules of the role a binding refers to.
func (w *World) RoleRules(kind, ns, name string) ([]rbacv1.PolicyRule, bool) {
	switch kind {
	case "ClusterRole":
		if cr, ok := w.clusterRoles[name]; ok {
			return cr.Rules, true
		}
	case "Role":
		if r, ok := w.roles[ns+"/"+name]; ok {
			return r.Rules, true
		}
	}
	return nil, false
}
