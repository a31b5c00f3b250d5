# METADATA
# title: No LoadBalancer or NodePort Services for tenants
# description: >-
#   A tenant Kustomization (one that kustomize-controller applies as a
#   tenant's ServiceAccount) may not expose a Service of type LoadBalancer or
#   NodePort: those open the cluster to the outside and cost money. Platform
#   teams allow it per namespace with the allowedLoadBalancerNamespaces
#   parameter.
# custom:
#   id: no-loadbalancer
#   severity: error
#   remediation: Use a ClusterIP Service behind the platform's ingress or gateway, or ask the platform team to add the namespace to allowedLoadBalancerNamespaces.
package gitopslint.no_loadbalancer

deny contains {"msg": msg, "path": ["spec", "type"]} if {
	data.gitops_lint.tenant
	input.kind == "Service"
	input.spec.type in {"LoadBalancer", "NodePort"}
	not input.metadata.namespace in object.get(data.gitops_lint.params, "allowedLoadBalancerNamespaces", [])
	msg := sprintf("Service %s is of type %s, which tenant %s %s/%s may not create (allowed namespaces: %v)", [input.metadata.name, input.spec.type, object.get(data.gitops_lint.kustomization, "kind", "Kustomization"), data.gitops_lint.kustomization.namespace, data.gitops_lint.kustomization.name, object.get(data.gitops_lint.params, "allowedLoadBalancerNamespaces", [])])
}
