package gitopslint.no_loadbalancer_test

import data.gitopslint.no_loadbalancer

tenant := {"tenant": true, "kustomization": {"name": "team-a", "namespace": "team-a"}, "params": {}}

lb := {"kind": "Service", "metadata": {"name": "web", "namespace": "team-a"}, "spec": {"type": "LoadBalancer"}}

test_tenant_loadbalancer_denied if {
	count(no_loadbalancer.deny) == 1 with input as lb with data.gitops_lint as tenant
}

test_tenant_nodeport_denied if {
	count(no_loadbalancer.deny) == 1 with input as json.patch(lb, [{"op": "replace", "path": "/spec/type", "value": "NodePort"}]) with data.gitops_lint as tenant
}

test_clusterip_allowed if {
	count(no_loadbalancer.deny) == 0 with input as json.patch(lb, [{"op": "replace", "path": "/spec/type", "value": "ClusterIP"}]) with data.gitops_lint as tenant
}

test_allowed_namespace if {
	count(no_loadbalancer.deny) == 0 with input as lb with data.gitops_lint as object.union(tenant, {"params": {"allowedLoadBalancerNamespaces": ["team-a"]}})
}

test_platform_allowed if {
	count(no_loadbalancer.deny) == 0 with input as lb with data.gitops_lint as object.union(tenant, {"tenant": false})
}
