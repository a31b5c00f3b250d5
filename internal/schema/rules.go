package schema

import (
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// The rules schema emits, each declared once: findings are built with
// Rule.New, so a rule's id and default severity live in its declaration.
var (
	RuleInvalid = rules.Add(finding.Rule{ID: "schema/invalid", Severity: finding.Error,
		Help:        "The object breaks its schema: the built-in Kubernetes schema of the chosen version, its CustomResourceDefinition (CEL x-kubernetes-validations included).",
		Remediation: "Fix the field at the JSON path the message names."})
	RuleUnknownKind = rules.Add(finding.Rule{ID: "schema/unknown-kind", Severity: finding.Warning,
		Help:        "No schema is known for the object's kind, so it is not validated.",
		Remediation: "Apply its CustomResourceDefinition in the same environment (a Kustomization it depends on), or pass --crd-dir DIR holding the CRD."})
)

// rules records the rules schema declares (here or beside the code that
// emits them).
var rules finding.RuleSet

// Rules are the rules schema emits.
func Rules() []finding.Rule { return rules.Rules() }

// Needs is what schema looks up in the environment while it judges a
// Kustomization's objects: the CustomResourceDefinitions of the kinds it
// validates. --changed-since and --shard render what it names.
var Needs = render.Needs{CRDs: true}
