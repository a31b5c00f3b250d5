package rbacsim

import (
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// The rules rbacsim emits, each declared once: findings are built with
// Rule.New, so a rule's id and default severity live in its declaration.
var (
	RuleForbidden = rules.Add(finding.Rule{ID: "rbac/forbidden", Severity: finding.Error,
		Help:        "The ServiceAccount kustomize-controller impersonates for this Kustomization may not get, create or patch (server-side apply) the object; the message is the apiserver's and lists the identity's bindings.",
		Remediation: "Grant the ServiceAccount the verb on that resource (its RoleBinding's role), move the object to a namespace it manages, or drop the object."})
	RulePrune = rules.Add(finding.Rule{ID: "rbac/prune", Severity: finding.Warning,
		Help:        "The identity may apply the object but not delete it, so pruning (prune: true) or force-recreating (force: true) it would fail.",
		Remediation: "Grant delete on the resource, or turn prune off for this Kustomization."})
	RuleEscalation = rules.Add(finding.Rule{ID: "rbac/escalation", Severity: finding.Error,
		Help:        "A Role, ClusterRole or binding would grant permissions the identity does not hold, and it lacks escalate/bind on the role; the apiserver refuses such escalation.",
		Remediation: "Have the platform team apply the role or binding, grant the missing rules, or grant bind/escalate on that role."})
	RuleCrossNamespaceRef = rules.Add(finding.Rule{ID: "rbac/cross-namespace-ref", Severity: finding.Error,
		Help:        "A sourceRef or dependsOn crosses namespaces while kustomize-controller runs with --no-cross-namespace-refs.",
		Remediation: "Declare the source (or the dependency) in the Kustomization's own namespace."})
	RuleUnknownResource = rules.Add(finding.Rule{ID: "rbac/unknown-resource", Severity: finding.Warning,
		Help:        "The object's kind maps to no known API resource (no built-in kind, no CRD in the environment), so its RBAC is not simulated.",
		Remediation: "Apply the kind's CustomResourceDefinition in the environment, or pass --crd-dir DIR."})
)

// rules records the rules rbacsim declares (here or beside the code that
// emits them).
var rules finding.RuleSet

// Rules are the rules rbacsim emits.
func Rules() []finding.Rule { return rules.Rules() }

// Needs is what rbacsim looks up in the environment while it judges a
// Kustomization's objects: the RBAC the impersonated ServiceAccount holds,
// and CRDs (to map kinds to API resources). --changed-since and --shard
// render what it names.
var Needs = render.Needs{RBAC: true, CRDs: true}
