# METADATA
# title: A host belongs to one tenant
# description: Two Kustomizations that route the same Ingress host or HTTPRoute hostname fight over its traffic; the second one silently steals or breaks the first.
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
	msg := sprintf("host %q is also routed by %s/%s (Kustomization %s/%s)", [h, input[j].object.kind, input[j].object.metadata.name, kj.namespace, kj.name])
}
