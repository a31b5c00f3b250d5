package admission

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/rbacworld"
)

// namespaces lists the Namespaces of an environment's cluster as the
// apiserver's informer would: each rendered Namespace with the
// kubernetes.io/metadata.name label the apiserver sets. A namespace the
// environment does not render is known by that label only (its objects
// fail to apply anyway, which the convergence checks report), so the
// matcher never falls back to a client.
type namespaces map[string]*corev1.Namespace

func (n namespaces) add(obj map[string]any) {
	var ns corev1.Namespace
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &ns); err != nil || ns.Name == "" {
		return
	}
	ns.Labels = labelsWithName(ns.Labels, ns.Name)
	n[ns.Name] = &ns
}

func labelsWithName(in map[string]string, name string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out[corev1.LabelMetadataName] = name
	return out
}

func (n namespaces) Get(name string) (*corev1.Namespace, error) {
	if ns, ok := n[name]; ok {
		return ns, nil
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labelsWithName(nil, name)}}, nil
}

// rbacAuthorizer answers the CEL authorizer from the RBAC the environment
// renders (rbacworld), for ServiceAccounts: every identity Flux
// impersonates is one. Other users get no opinion, which CEL reads as
// denied. When the identity asked about is the requester, impersonated for
// the Kustomization self, the bindings that Kustomization applies do not
// count: they do not exist yet when its objects are admitted on a fresh
// cluster (as in rbacsim). Any other identity is asked about in the steady
// state, every binding present.
type rbacAuthorizer struct {
	world     *rbacworld.World
	requester identity.Identity
	self      string
}

func (a rbacAuthorizer) Authorize(_ context.Context, attr authorizer.Attributes) (authorizer.Decision, string, error) {
	u := attr.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "", nil
	}
	id, ok := serviceAccount(u.GetName())
	if !ok {
		return authorizer.DecisionNoOpinion, "", nil
	}
	self := ""
	if id == a.requester {
		self = a.self
	}
	grants := a.world.Grants(id, self)
	if attr.IsResourceRequest() {
		req := rbacworld.Request{Verb: attr.GetVerb(), APIGroup: attr.GetAPIGroup(), Resource: attr.GetResource(),
			Subresource: attr.GetSubresource(), Name: attr.GetName(), Namespace: attr.GetNamespace()}
		for _, g := range grants {
			if g.Namespace != "" && g.Namespace != req.Namespace {
				continue
			}
			if rbacworld.Allows(g.Rules, req) {
				return authorizer.DecisionAllow, "RBAC: allowed by " + g.String(), nil
			}
		}
		return authorizer.DecisionNoOpinion, "", nil
	}
	rule := rbacv1.PolicyRule{Verbs: []string{attr.GetVerb()}, NonResourceURLs: []string{attr.GetPath()}}
	if ok, _ := validation.Covers(rbacworld.PolicyRules(grants, ""), []rbacv1.PolicyRule{rule}); ok {
		return authorizer.DecisionAllow, "RBAC: allowed", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// serviceAccount parses system:serviceaccount:NAMESPACE:NAME.
func serviceAccount(user string) (identity.Identity, bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return identity.Identity{}, false
	}
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return identity.Identity{}, false
	}
	return identity.Identity{Namespace: ns, Name: name}, true
}
