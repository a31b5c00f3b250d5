// Package identity names the user kustomize-controller impersonates when it
// applies a Flux Kustomization: the ServiceAccount of
// spec.serviceAccountName, else the lockdown's --default-service-account,
// else none (the controller's own identity). The RBAC simulation, the
// policies' data.gitops_lint.serviceAccount and the CLI all ask here, so
// that no checker imports another for it.
package identity

import "github.com/gitops-lint/gitops-lint/internal/render"

// Identity is the ServiceAccount kustomize-controller impersonates.
type Identity struct {
	Namespace, Name string
}

// User is the identity's user name.
func (id Identity) User() string { return "system:serviceaccount:" + id.Namespace + ":" + id.Name }

// Groups are the groups the apiserver gives a ServiceAccount token.
func (id Identity) Groups() []string {
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + id.Namespace, "system:authenticated"}
}

// Of returns the identity kustomize-controller (helm-controller, for a
// release) impersonates for k in e, or false when it applies as itself (no
// serviceAccountName and no --default-service-account lockdown of that
// controller: its own cluster-admin identity).
func Of(e *render.Environment, k *render.Kustomization) (Identity, bool) {
	sa := k.ServiceAccountName
	if sa == "" {
		sa = e.Lockdown.DefaultServiceAccountFor(k)
	}
	if sa == "" {
		return Identity{}, false
	}
	return Identity{Namespace: k.Namespace, Name: sa}, true
}
