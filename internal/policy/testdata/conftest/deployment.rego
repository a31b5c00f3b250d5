# A policy written for conftest, in its conventions: package main, deny /
# violation / warn rules, string or {msg} results, METADATA annotations.
package main

import rego.v1

# METADATA
# title: Containers must not run as root
# custom:
#   id: run-as-non-root
#   remediation: Set securityContext.runAsNonRoot to true.
deny contains msg if {
	input.kind == "Deployment"
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg := sprintf("Deployment %s: containers must not run as root", [input.metadata.name])
}

violation contains {"msg": msg} if {
	input.kind == "Deployment"
	not input.metadata.labels["app.kubernetes.io/name"]
	msg := sprintf("Deployment %s: missing label app.kubernetes.io/name", [input.metadata.name])
}

warn_replicas contains msg if {
	input.kind == "Deployment"
	input.spec.replicas < 2
	msg := "fewer than two replicas"
}
