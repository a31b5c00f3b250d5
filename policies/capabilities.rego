# METADATA
# title: Only safe added capabilities in tenant workloads
# description: Tenant containers may add only the capabilities in the allowedCapabilities parameter (default NET_BIND_SERVICE).
# custom:
#   id: allowed-capabilities
#   severity: error
#   remediation: Remove the capability from securityContext.capabilities.add, or have the platform team allow it.
package gitopslint.allowed_capabilities

import data.gitopslint.lib

allowed := object.get(data.gitops_lint.params, "allowedCapabilities", ["NET_BIND_SERVICE"])

deny contains {"msg": msg, "path": array.concat(c.path, ["securityContext", "capabilities", "add"])} if {
	data.gitops_lint.tenant
	some c in lib.input_containers
	some cap in c.container.securityContext.capabilities.add
	not cap in allowed
	msg := sprintf("%s: container %q adds capability %s (allowed: %v)", [lib.name(input), c.container.name, cap, allowed])
}
