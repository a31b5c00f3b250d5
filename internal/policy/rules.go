package policy

import (
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// RuleError is the one Go rule policy emits; the Rego rules it loads
// declare theirs (Engine.Rules).
var RuleError = rules.Add(finding.Rule{ID: "policy/error", Severity: finding.Error,
	Help:        "A Rego rule could not be evaluated on an object (it ran out of time under --limit policy-time, or a builtin failed on its input), so the object is not checked by it.",
	Remediation: "Fix the rule the message names (guard the builtin's input), or, for policies you trust, raise --limit policy-time."})

// rules records the Go rules policy declares (here or beside the code
// that emits them).
var rules finding.RuleSet

// Rules are the Go rules policy emits.
func Rules() []finding.Rule { return rules.Rules() }

// Needs is what policy looks up in the environment while it judges a
// Kustomization's objects: nothing beyond the objects it judges (combined
// policies see what the run renders). --changed-since and --shard render
// what it names.
var Needs = render.Needs{}
