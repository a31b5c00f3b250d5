# METADATA
# title: No privileged containers in tenant workloads
# description: Tenant workloads may not run privileged containers or allow privilege escalation to root-equivalent access of the node.
# custom:
#   id: no-privileged
#   severity: error
#   remediation: Remove securityContext.privileged, or run the workload from a platform Kustomization.
package gitopslint.no_privileged

import data.gitopslint.lib

deny contains {"msg": msg, "path": array.concat(c.path, ["securityContext", "privileged"])} if {
	data.gitops_lint.tenant
	some c in lib.input_containers
	c.container.securityContext.privileged == true
	msg := sprintf("%s: container %q is privileged", [lib.name(input), c.container.name])
}
