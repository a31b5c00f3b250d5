package gitopslint.objects_test

import data.gitopslint.no_plain_secret
import data.gitopslint.tenant_namespace
import data.gitopslint.unique_host

tenant := {"tenant": true, "targetNamespace": "", "kustomization": {"name": "team-a", "namespace": "team-a"}, "params": {}}

test_plain_secret_denied if {
	count(no_plain_secret.deny) == 1 with input as {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": "b"}}
}

test_sops_secret_allowed if {
	count(no_plain_secret.deny) == 0 with input as {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "ENC[...]"}, "sops": {"mac": "x"}}
}

test_empty_secret_allowed if {
	count(no_plain_secret.deny) == 0 with input as {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "kubernetes.io/service-account-token"}
}

test_other_namespace_denied if {
	count(tenant_namespace.deny) == 1 with input as {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team-b"}} with data.gitops_lint as tenant
}

test_own_namespace_allowed if {
	count(tenant_namespace.deny) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team-a"}} with data.gitops_lint as tenant
}

test_target_namespace_allowed if {
	count(tenant_namespace.deny) == 0 with input as {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team-b"}} with data.gitops_lint as object.union(tenant, {"targetNamespace": "team-a"})
}

item(kind, name, hosts, ks) := {"object": object.union({"kind": kind, "metadata": {"name": name}}, spec(kind, hosts)), "context": {"tenant": ks != "flux-system", "kustomization": {"namespace": ks, "name": ks}}}

platform(kind, name, hosts, ks) := {"object": object.union({"kind": kind, "metadata": {"name": name}}, spec(kind, hosts)), "context": {"tenant": false, "kustomization": {"namespace": "flux-system", "name": ks}}}

spec("Ingress", hosts) := {"spec": {"rules": [{"host": h} | some h in hosts]}}

spec("HTTPRoute", hosts) := {"spec": {"hostnames": hosts}}

test_shared_host_denied if {
	items := [item("Ingress", "a", ["app.example.com"], "team-a"), item("HTTPRoute", "b", ["app.example.com"], "team-b")]
	count(unique_host.deny) == 2 with input as items
}

test_distinct_hosts_allowed if {
	items := [item("Ingress", "a", ["a.example.com"], "team-a"), item("HTTPRoute", "b", ["b.example.com"], "team-b")]
	count(unique_host.deny) == 0 with input as items
}

test_tenant_and_platform_denied if {
	items := [item("Ingress", "a", ["app.example.com"], "team-a"), platform("HTTPRoute", "robots", ["app.example.com"], "infra")]
	count(unique_host.deny) == 2 with input as items
}

test_platform_kustomizations_share_host_allowed if {
	items := [platform("HTTPRoute", "app", ["app.example.com"], "apps"), platform("HTTPRoute", "robots", ["app.example.com"], "infra")]
	count(unique_host.deny) == 0 with input as items
}

test_same_kustomization_allowed if {
	items := [item("Ingress", "a", ["a.example.com"], "team-a"), item("Ingress", "b", ["a.example.com"], "team-a")]
	count(unique_host.deny) == 0 with input as items
}
