# An older conftest policy in Rego v0 syntax: it must still load.
package main

deny_configmap_size[msg] {
	input.kind == "ConfigMap"
	count(input.data) > 100
	msg := "ConfigMap too large"
}
