# METADATA
# title: CPU and memory requests are set
# description: Containers without CPU and memory requests are scheduled blindly and evicted first under pressure. A limit without a request counts as a request, since the apiserver copies the limit into the request.
# custom:
#   id: resource-requests
#   severity: warning
#   remediation: Set resources.requests.cpu and resources.requests.memory on every container.
package gitopslint.resource_requests

import data.gitopslint.lib

warn contains {"msg": msg, "path": c.path} if {
	some c in lib.input_containers
	not startswith(c.path[count(c.path) - 2], "ephemeral")
	some r in ["cpu", "memory"]
	not c.container.resources.requests[r]
	not c.container.resources.limits[r] # the apiserver defaults the request to the limit
	msg := sprintf("%s: container %q has no %s request", [lib.name(input), c.container.name, r])
}
