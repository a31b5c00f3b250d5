package admission

import (
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// The rules admission declares. Each ValidatingAdmissionPolicy is a rule
// of its own, admission/<policy name>, known once the policies are found
// (Checker.Rules); only the rule for a policy the apiserver would refuse
// is static.
var (
	RuleInvalidPolicy = rules.Add(finding.Rule{ID: "admission/invalid-policy", Severity: finding.Error,
		Help:        "A ValidatingAdmissionPolicy or ValidatingAdmissionPolicyBinding the apiserver refuses to create: a CEL expression that does not compile or has the wrong type, a required field missing, a bad selector. Its objects are applied unchecked (or the apply of its Kustomization fails).",
		Remediation: "Fix the expression or field the message names; `kubectl apply --dry-run=server` shows the same error."})
	RuleNotEvaluated = rules.Add(finding.Rule{ID: "admission/not-evaluated", Severity: finding.Info,
		Help:        "An admission policy gitops-lint does not evaluate offline: a Kyverno ClusterPolicy or Policy (pattern, deny, foreach, CEL and image rules need Kyverno's own engine), a Kyverno ValidatingPolicy that uses Kyverno's CEL libraries or another evaluation mode, a Gatekeeper template that reads data.inventory, has no Rego, or calls a builtin gitops-lint refuses. The objects it would judge are not checked against it.",
		Remediation: "Nothing to fix in the repository; test the policy with its own tooling (kyverno test, gator), or express it as a ValidatingAdmissionPolicy, which gitops-lint evaluates."})
)

// PolicyRulePrefix starts the id of every policy's rule: admission/NAME.
const PolicyRulePrefix = "admission/"

// rules records the static rules admission declares.
var rules finding.RuleSet

// Rules are the static rules admission emits (each policy's rule joins at
// run time: Checker.Rules).
func Rules() []finding.Rule { return rules.Rules() }

// Needs is what admission looks up in the environment while it judges a
// Kustomization's objects: the Namespaces (namespaceSelector, the
// namespace variable), the RBAC (the authorizer, and the objects RBAC
// forbids are left to rbacsim), CRDs (kind → resource), and the policies,
// bindings and params themselves, which are references.
var Needs = render.Needs{RBAC: true, CRDs: true, Namespaces: true, References: true}
