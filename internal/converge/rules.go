package converge

import (
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// The rules converge emits, each declared once: findings are built with
// Rule.New, so a rule's id and default severity live in its declaration.
var (
	RuleDuplicateObject = rules.Add(finding.Rule{ID: "duplicate/object", Severity: finding.Error,
		Help:        "Two Kustomizations of one environment apply the same object; they fight over its fields and prune each other's copy.",
		Remediation: "Keep the object in one Kustomization (move it to a shared base applied once)."})
	RuleSourceNotFound = rules.Add(finding.Rule{ID: "flux/source-not-found", Severity: finding.Error,
		Help:        "A HelmRelease's chart source or chartRef names a Flux source (GitRepository, OCIRepository, HelmRepository, Bucket, HelmChart, ExternalArtifact) that no Kustomization of the environment creates and no known producer (an ArtifactGenerator, a FluxInstance, the HelmRelease's own HelmChart) makes, while every Kustomization of the environment was rendered, so a fresh cluster cannot converge.",
		Remediation: "Create the source in a Kustomization of the environment (and depend on it), or fix its name."})
	RuleReferenceOutOfBand = rules.Add(finding.Rule{ID: "flux/reference-out-of-band", Severity: finding.Warning,
		Help:        "A non-optional postBuild.substituteFrom or HelmRelease valuesFrom names a Secret or ConfigMap that no Kustomization of the environment creates and no known producer (ExternalSecret, SealedSecret, cert-manager Certificate, a provides: entry) makes: it must come from outside git (by hand, a Helm chart, another repository's controller), or a fresh cluster does not converge.",
		Remediation: "Create it in git, mark the reference optional: true, or declare what creates it under provides: in .gitops-lint.yaml."})
	RuleDependsOnMissing = rules.Add(finding.Rule{ID: "flux/depends-on-missing", Severity: finding.Error,
		Help:        "dependsOn names a Kustomization or HelmRelease the environment does not define (and no producer such as a FluxInstance makes), while every Kustomization of the environment was rendered; the dependent stays not ready forever.",
		Remediation: "Fix the name or namespace, or add the dependency to the environment."})
	RuleDependsOnCycle = rules.Add(finding.Rule{ID: "flux/depends-on-cycle", Severity: finding.Error,
		Help:        "dependsOn forms a cycle, so none of its members ever reconciles.",
		Remediation: "Break the cycle: one of the members must not depend on the others."})
	RuleCRDOrder = rules.Add(finding.Rule{ID: "flux/crd-order", Severity: finding.Error,
		Help:        "An object's kind comes from a CRD that other Kustomizations apply, and this Kustomization neither applies it nor depends on any of them (directly or transitively), so a fresh cluster fails its first reconcile.",
		Remediation: "Add the Kustomization that applies the CRD to dependsOn."})
	RuleNamespaceOrder = rules.Add(finding.Rule{ID: "flux/namespace-order", Severity: finding.Error,
		Help:        "An object's namespace is created only by other Kustomizations, none of which this one depends on, so a fresh cluster fails its first reconcile.",
		Remediation: "Add the Kustomization that creates the namespace to dependsOn, or create the namespace here."})
	RuleSealedSecretScope = rules.Add(finding.Rule{ID: "sealedsecret/scope", Severity: finding.Error,
		Help:        "A strict- or namespace-scoped SealedSecret is renamed or moved to another namespace by the overlay (namePrefix, targetNamespace, patches), so the controller cannot decrypt it.",
		Remediation: "Re-seal it with kubeseal for its final name and namespace, or seal it namespace-wide or cluster-wide."})
)

// rules records the rules converge declares (here or beside the code that
// emits them).
var rules finding.RuleSet

// Rules are the rules converge emits.
func Rules() []finding.Rule { return rules.Rules() }

// Needs is what converge looks up in the environment while it judges a
// Kustomization's objects: what a fresh cluster must create first (CRDs,
// namespaces, the sources, Secrets and ConfigMaps its spec and HelmReleases
// reference) and same-named objects (duplicates). --changed-since and
// --shard render what it names. (render matches a need by the kind and
// name of the documents a Kustomization declares, so the producers of
// producers.go — an ExternalSecret making a Secret — are not yet rendered
// for it: under --changed-since a produced Secret may be warned about.)
var Needs = render.Needs{CRDs: true, Namespaces: true, SameName: true, References: true}
