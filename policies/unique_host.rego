# METADATA
# title: A host belongs to one tenant
# description: >-
#   A tenant Kustomization that routes an Ingress host or HTTPRoute hostname
#   another Kustomization also routes takes a share of traffic that is not
#   its own (or gives its own away): ingress controllers and Gateways merge
#   the routes of one host, so the tenant boundary is crossed silently.
#   Routes of one host spread over platform (non-tenant) Kustomizations are a
#   normal pattern (a shared robots.txt route, say) and are not reported.
# custom:
#   id: unique-host
#   severity: error
#   combine: true
#   remediation: Use a distinct hostname per tenant, or route both paths from one Kustomization.
package gitopslint.unique_host

hosts contains [h, i] if {
	some i, item in input
	item.object.kind == "Ingress"
	some rule in item.object.spec.rules
	h := rule.host
}

hosts contains [h, i] if {
	some i, item in input
	item.object.kind == "HTTPRoute"
	some h in item.object.spec.hostnames
}

deny contains {"msg": msg, "index": i, "path": ["spec"]} if {
	some [h, i] in hosts
	some [h2, j] in hosts
	h == h2
	ki := input[i].context.kustomization
	kj := input[j].context.kustomization
	[ki.namespace, ki.name] != [kj.namespace, kj.name]
	tenant_involved(i, j)
	msg := sprintf("host %q is also routed by %s/%s (Kustomization %s/%s)", [h, input[j].object.kind, input[j].object.metadata.name, kj.namespace, kj.name])
}

tenant_involved(i, _) if input[i].context.tenant

tenant_involved(_, j) if input[j].context.tenant
