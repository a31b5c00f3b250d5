# METADATA
# title: Tenant objects stay in their namespace
# description: >-
#   A tenant Kustomization without targetNamespace applies objects into the
#   namespaces they name; an object naming another namespace than the
#   Kustomization's reaches into someone else's namespace (or fails on RBAC).
# custom:
#   id: tenant-namespace
#   severity: error
#   remediation: Set spec.targetNamespace on the Kustomization, or remove metadata.namespace from the object.
package gitopslint.tenant_namespace

deny contains {"msg": msg, "path": ["metadata", "namespace"]} if {
	data.gitops_lint.tenant
	data.gitops_lint.targetNamespace == ""
	ns := input.metadata.namespace
	ns != data.gitops_lint.kustomization.namespace
	msg := sprintf("%s/%s is in namespace %q, not in %q of its tenant %s %s (which has no targetNamespace)", [input.kind, input.metadata.name, ns, object.get(data.gitops_lint.kustomization, "kind", "Kustomization"), data.gitops_lint.kustomization.namespace, data.gitops_lint.kustomization.name])
}
