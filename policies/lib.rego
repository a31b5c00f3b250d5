# METADATA
# description: Helpers shared by gitops-lint's built-in policies.
package gitopslint.lib

# The pod spec of a workload object, whatever its kind.
pod_spec(obj) := obj.spec if obj.kind == "Pod"

pod_spec(obj) := obj.spec.template.spec if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

# The path of the pod spec in the object, for finding positions.
pod_path(obj) := ["spec"] if obj.kind == "Pod"

pod_path(obj) := ["spec", "template", "spec"] if obj.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

pod_path(obj) := ["spec", "jobTemplate", "spec", "template", "spec"] if obj.kind == "CronJob"

# Every container of a pod spec with its field path.
containers(obj) := [c |
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some i, ctr in pod_spec(obj)[field]
	c := {"container": ctr, "path": array.concat(pod_path(obj), [field, sprintf("%d", [i])])}
]

name(obj) := sprintf("%s/%s", [obj.kind, obj.metadata.name])

# The containers of the object under evaluation (input), computed once per
# evaluation and shared by every rule.
input_containers := containers(input)
