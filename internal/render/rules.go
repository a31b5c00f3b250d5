package render

import "github.com/gitops-lint/gitops-lint/internal/finding"

// The rules render emits, each declared once: findings are built with
// Rule.New, so a rule's id and default severity live in its declaration.
var (
	RuleYAMLSyntax = rules.Add(finding.Rule{ID: "yaml/syntax", Severity: finding.Error,
		Help:        "A YAML file does not parse (duplicate keys, bad indentation, binary content, aliases that expand too far).",
		Remediation: "Fix the YAML at the given line; `yamllint` shows the same position."})
	RuleError = rules.Add(finding.Rule{ID: "render/error", Severity: finding.Error,
		Help:        "kustomize-controller would fail to build this Kustomization; the message is worded as Flux words it.",
		Remediation: "Run the same build locally with `gitops-lint render --kustomization NS/NAME` and fix the kustomization it names."})
	RuleSubstitution = rules.Add(finding.Rule{ID: "render/substitution", Severity: finding.Error,
		Help:        "A ${var} has no value and no default under kustomize-controller's strict post-build substitution.",
		Remediation: "Add the variable to spec.postBuild.substitute or a substituteFrom ConfigMap/Secret, give it a default (${var:=default}), or escape it as $${var}."})
	RuleSourceMissing = rules.Add(finding.Rule{ID: "render/source-missing", Severity: finding.Warning,
		Help:        "A Kustomization's source is not available locally, so its subtree is not rendered or checked.",
		Remediation: "Pass the source's checkout with --source NAMESPACE/NAME=DIR (or its URL=DIR)."})
	RulePathEscape = rules.Add(finding.Rule{ID: "render/path-escape", Severity: finding.Error,
		Help:        "A path leaves the source root (a symlink or ..), which kustomize-controller's secure filesystem refuses.",
		Remediation: "Keep every resource, component and patch path inside the repository."})
	RuleRemoteBase = rules.Add(finding.Rule{ID: "render/remote-base", Severity: finding.Error,
		Help:        "A remote base is used; gitops-lint never fetches it, and under --no-remote-bases kustomize-controller refuses it.",
		Remediation: "Vendor the base into the repository, or reference it through a Flux source."})
	RuleLimit = rules.Add(finding.Rule{ID: "render/limit", Severity: finding.Error,
		Help:        "gitops-lint stopped reading or rendering part of the repository because a bound that protects the machine was reached (all files read, rendered bytes or objects, one Kustomization's post-build substitution, kustomize build work); what lies beyond it is not checked, so the run fails rather than pass unchecked content.",
		Remediation: "Shrink what the message names (split the file or Kustomization, remove padding, add files to .sourceignore), or, for a repository you trust, raise the limit it names with --limit KEY=VALUE."})
)

// rules records the rules render declares (here or beside the code that
// emits them).
var rules finding.RuleSet

// Rules are the rules render emits.
func Rules() []finding.Rule { return rules.Rules() }
