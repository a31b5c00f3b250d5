package gitopslint.workloads_test

import data.gitopslint.allowed_capabilities
import data.gitopslint.image_pinned
import data.gitopslint.no_host_access
import data.gitopslint.no_privileged
import data.gitopslint.resource_requests

tenant := {"tenant": true, "kustomization": {"name": "team-a", "namespace": "team-a"}, "params": {}}

platform := object.union(tenant, {"tenant": false})

good_container := {"name": "web", "image": "nginx:1.27.3", "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}}}

deployment(pod) := {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": pod}}}

good := deployment({"containers": [good_container]})

test_good_workload_passes if {
	count(no_privileged.deny) == 0 with input as good with data.gitops_lint as tenant
	count(no_host_access.deny) == 0 with input as good with data.gitops_lint as tenant
	count(allowed_capabilities.deny) == 0 with input as good with data.gitops_lint as tenant
	count(image_pinned.warn) == 0 with input as good with data.gitops_lint as tenant
	count(resource_requests.warn) == 0 with input as good with data.gitops_lint as tenant
}

test_privileged_denied if {
	obj := deployment({"containers": [object.union(good_container, {"securityContext": {"privileged": true}})]})
	count(no_privileged.deny) == 1 with input as obj with data.gitops_lint as tenant
	count(no_privileged.deny) == 0 with input as obj with data.gitops_lint as platform
}

test_host_network_denied if {
	count(no_host_access.deny) == 1 with input as deployment({"hostNetwork": true, "containers": [good_container]}) with data.gitops_lint as tenant
}

test_host_path_denied if {
	obj := deployment({"containers": [good_container], "volumes": [{"name": "root", "hostPath": {"path": "/"}}]})
	count(no_host_access.deny) == 1 with input as obj with data.gitops_lint as tenant
}

add(caps) := deployment({"containers": [object.union(good_container, {"securityContext": {"capabilities": {"add": caps}}})]})

img(i) := deployment({"containers": [object.union(good_container, {"image": i})]})

test_capabilities if {
	count(allowed_capabilities.deny) == 0 with input as add(["NET_BIND_SERVICE"]) with data.gitops_lint as tenant
	count(allowed_capabilities.deny) == 1 with input as add(["SYS_ADMIN"]) with data.gitops_lint as tenant
	count(allowed_capabilities.deny) == 0 with input as add(["SYS_ADMIN"]) with data.gitops_lint as object.union(tenant, {"params": {"allowedCapabilities": ["SYS_ADMIN"]}})
}

test_cronjob_containers_seen if {
	obj := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [object.union(good_container, {"image": "busybox"})]}}}}}}
	count(image_pinned.warn) == 1 with input as obj with data.gitops_lint as tenant
}

test_image_pinning if {
	count(image_pinned.warn) == 1 with input as img("nginx") with data.gitops_lint as tenant
	count(image_pinned.warn) == 1 with input as img("nginx:latest") with data.gitops_lint as tenant
	count(image_pinned.warn) == 1 with input as img("registry:5000/team/app") with data.gitops_lint as tenant
	count(image_pinned.warn) == 0 with input as img("registry:5000/team/app:1.0") with data.gitops_lint as tenant
	count(image_pinned.warn) == 0 with input as img("ghcr.io/a/b@sha256:abc") with data.gitops_lint as tenant
}

test_requests_missing if {
	obj := deployment({"containers": [{"name": "web", "image": "nginx:1.27", "resources": {"requests": {"cpu": "10m"}}}]})
	count(resource_requests.warn) == 1 with input as obj with data.gitops_lint as tenant
}

test_requests_defaulted_from_limits if {
	obj := deployment({"containers": [{"name": "web", "image": "nginx:1.27", "resources": {"requests": {"cpu": "10m"}, "limits": {"memory": "256Mi"}}}]})
	count(resource_requests.warn) == 0 with input as obj with data.gitops_lint as tenant
	only_limits := deployment({"containers": [{"name": "web", "image": "nginx:1.27", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]})
	count(resource_requests.warn) == 0 with input as only_limits with data.gitops_lint as tenant
	cpu_limit := deployment({"containers": [{"name": "web", "image": "nginx:1.27", "resources": {"limits": {"cpu": "1"}}}]})
	count(resource_requests.warn) == 1 with input as cpu_limit with data.gitops_lint as tenant
}
