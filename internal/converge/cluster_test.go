package converge

import (
	"strings"
	"testing"
)

func kubeConfig(secret string) map[string]any {
	return map[string]any{"kubeConfig": map[string]any{"secretRef": map[string]any{"name": secret}}}
}

// TestClustersAreApart: a hub applying the same object to two spokes (two
// kubeConfigs) and to itself applies three objects, not one three times;
// a namespace created on one spoke does not order the other's objects. Two
// Kustomizations applying it to the same spoke still fight, and the
// finding names the cluster.
func TestClustersAreApart(t *testing.T) {
	spokeA := kustomization("spoke-a", kubeConfig("spoke-a-kubeconfig"), namespace("app"), configMap("app", "settings"))
	spokeB := kustomization("spoke-b", kubeConfig("spoke-b-kubeconfig"), namespace("app"), configMap("app", "settings"))
	hub := kustomization("hub", nil, namespace("app"), configMap("app", "settings"))
	if fs := check(environment(hub, spokeA, spokeB)); len(fs) != 0 {
		t.Errorf("objects of different clusters reported together: %v", fs)
	}
	// The same spoke twice: a real duplicate, on that cluster.
	again := kustomization("spoke-a-again", kubeConfig("spoke-a-kubeconfig"), configMap("app", "settings"))
	dups := byRule(check(environment(hub, spokeA, again)), RuleDuplicateObject)
	if len(dups) != 2 || !strings.Contains(dups[0].Message, "on the cluster of kubeConfig secret flux-system/spoke-a-kubeconfig") {
		t.Errorf("want the duplicate on spoke-a, naming the cluster: %v", dups)
	}
	// spoke-a-again's ConfigMap goes into namespace app, which only spoke-a
	// creates on that cluster: an order finding there, not satisfied by the
	// hub's or spoke-b's namespace.
	if fs := byRule(check(environment(hub, spokeA, spokeB, again)), RuleNamespaceOrder); len(fs) != 1 || fs[0].Kustomization != "flux-system/spoke-a-again" ||
		!strings.Contains(fs[0].Message, "which only flux-system/spoke-a creates on the cluster of kubeConfig secret flux-system/spoke-a-kubeconfig, but") {
		t.Errorf("want one namespace-order finding for spoke-a-again: %v", fs)
	}
}
