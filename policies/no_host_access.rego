# METADATA
# title: No host namespaces or hostPath volumes in tenant workloads
# description: Tenant pods may not share the node's network, PID or IPC namespace, nor mount hostPath volumes.
# custom:
#   id: no-host-access
#   severity: error
#   remediation: Drop hostNetwork/hostPID/hostIPC and hostPath volumes; use a PersistentVolumeClaim for storage.
package gitopslint.no_host_access

import data.gitopslint.lib

deny contains {"msg": msg, "path": array.concat(lib.pod_path(input), [field])} if {
	data.gitops_lint.tenant
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	lib.pod_spec(input)[field] == true
	msg := sprintf("%s sets %s: tenant pods may not share the node's namespaces", [lib.name(input), field])
}

deny contains {"msg": msg, "path": array.concat(lib.pod_path(input), ["volumes", sprintf("%d", [i]), "hostPath"])} if {
	data.gitops_lint.tenant
	some i, v in lib.pod_spec(input).volumes
	v.hostPath
	msg := sprintf("%s mounts hostPath %q (volume %q): tenant pods may not read or write the node's filesystem", [lib.name(input), v.hostPath.path, v.name])
}
