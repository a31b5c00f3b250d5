package finding

import "slices"

// Rule is the metadata of one rule. It drives `gitops-lint rules`, SARIF
// rules[] and docs/rules.md, so every rule a checker can emit is listed here
// (Rego rules add theirs at run time).
type Rule struct {
	ID          string   `json:"id"`
	Severity    Severity `json:"severity"`
	Help        string   `json:"help"`
	Remediation string   `json:"remediation,omitempty"`
}

// Rule ids of the contract. Use these constants, never string literals.
const (
	RuleYAMLSyntax        = "yaml/syntax"
	RuleRenderError       = "render/error"
	RuleSubstitution      = "render/substitution"
	RuleSourceMissing     = "render/source-missing"
	RulePathEscape        = "render/path-escape"
	RuleRemoteBase        = "render/remote-base"
	RuleSchemaInvalid     = "schema/invalid"
	RuleSchemaUnknownKind = "schema/unknown-kind"
	RuleRBACForbidden     = "rbac/forbidden"
	RuleRBACPrune         = "rbac/prune"
	RuleRBACEscalation    = "rbac/escalation"
	RuleRBACCrossNSRef    = "rbac/cross-namespace-ref"
	// RuleRBACUnknownResource extends the contract: a kind with no known
	// API resource, so its RBAC cannot be simulated (a warning, not a guess).
	RuleRBACUnknownResource = "rbac/unknown-resource"
	RuleDuplicateObject     = "duplicate/object"
	RuleSourceNotFound      = "flux/source-not-found"
	RuleDependsOnMissing    = "flux/depends-on-missing"
	RuleDependsOnCycle      = "flux/depends-on-cycle"
	RuleCRDOrder            = "flux/crd-order"
	RuleNamespaceOrder      = "flux/namespace-order"
	RuleSealedSecretScope   = "sealedsecret/scope"
	RulePromotionFF         = "promotion/not-fast-forward"
	// RulePromotionBranch and RulePromotionChain extend the contract.
	RulePromotionBranch = "promotion/branch-mismatch"
	RulePromotionChain  = "promotion/chain"
	// RuleRenderLimit extends the contract: a bound that protects the
	// machine (--limit) stopped reading or rendering part of the run.
	RuleRenderLimit = "render/limit"
)

// builtinRules are the Go rules that checkers in this build can emit.
// A rule is listed here only once a checker emits it.
var builtinRules = []Rule{
	{RuleYAMLSyntax, Error, "A YAML file does not parse (duplicate keys, bad indentation, binary content, aliases that expand too far).", "Fix the YAML at the given line; `yamllint` shows the same position."},
	{RuleRenderError, Error, "kustomize-controller would fail to build this Kustomization; the message is worded as Flux words it.", "Run the same build locally with `gitops-lint render --kustomization NS/NAME` and fix the kustomization it names."},
	{RuleSubstitution, Error, "A ${var} has no value and no default under kustomize-controller's strict post-build substitution.", "Add the variable to spec.postBuild.substitute or a substituteFrom ConfigMap/Secret, give it a default (${var:=default}), or escape it as $${var}."},
	{RuleSourceMissing, Warning, "A Kustomization's source is not available locally, so its subtree is not rendered or checked.", "Pass the source's checkout with --source NAMESPACE/NAME=DIR (or its URL=DIR)."},
	{RulePathEscape, Error, "A path leaves the source root (a symlink or ..), which kustomize-controller's secure filesystem refuses.", "Keep every resource, component and patch path inside the repository."},
	{RuleSchemaInvalid, Error, "The object breaks its schema: the built-in Kubernetes schema of the chosen version, its CustomResourceDefinition (CEL x-kubernetes-validations included), or it uses an API version Kubernetes no longer serves.", "Fix the field at the JSON path the message names; for a removed API version, move to the replacement it names."},
	{RuleSchemaUnknownKind, Warning, "No schema is known for the object's kind, so it is not validated.", "Apply its CustomResourceDefinition in the same environment (a Kustomization it depends on), or pass --crd-dir DIR holding the CRD."},
	{RuleRBACForbidden, Error, "The ServiceAccount kustomize-controller impersonates for this Kustomization may not get, create or patch (server-side apply) the object; the message is the apiserver's and lists the identity's bindings.", "Grant the ServiceAccount the verb on that resource (its RoleBinding's role), move the object to a namespace it manages, or drop the object."},
	{RuleRBACPrune, Warning, "The identity may apply the object but not delete it, so pruning (prune: true) or force-recreating (force: true) it would fail.", "Grant delete on the resource, or turn prune off for this Kustomization."},
	{RuleRBACEscalation, Error, "A Role, ClusterRole or binding would grant permissions the identity does not hold, and it lacks escalate/bind on the role; the apiserver refuses such escalation.", "Have the platform team apply the role or binding, grant the missing rules, or grant bind/escalate on that role."},
	{RuleRBACCrossNSRef, Error, "A sourceRef or dependsOn crosses namespaces while kustomize-controller runs with --no-cross-namespace-refs.", "Declare the source (or the dependency) in the Kustomization's own namespace."},
	{RuleRBACUnknownResource, Warning, "The object's kind maps to no known API resource (no built-in kind, no CRD in the environment), so its RBAC is not simulated.", "Apply the kind's CustomResourceDefinition in the environment, or pass --crd-dir DIR."},
	{RuleDuplicateObject, Error, "Two Kustomizations of one environment apply the same object; they fight over its fields and prune each other's copy.", "Keep the object in one Kustomization (move it to a shared base applied once)."},
	{RuleSourceNotFound, Error, "A Kustomization's sourceRef or substituteFrom, or a HelmRelease's chart source, chartRef or valuesFrom, names an object no Kustomization of the environment creates (and is not optional), so a fresh cluster cannot converge.", "Create the object in a Kustomization of the environment (and depend on it), mark the reference optional, or fix its name."},
	{RuleDependsOnMissing, Error, "dependsOn names a Kustomization or HelmRelease the environment does not define; the dependent stays not ready forever.", "Fix the name or namespace, or add the dependency to the environment."},
	{RuleDependsOnCycle, Error, "dependsOn forms a cycle, so none of its members ever reconciles.", "Break the cycle: one of the members must not depend on the others."},
	{RuleCRDOrder, Error, "An object's kind comes from a CRD that another Kustomization applies, and this Kustomization does not depend on it (directly or transitively), so a fresh cluster fails its first reconcile.", "Add the Kustomization that applies the CRD to dependsOn."},
	{RuleNamespaceOrder, Error, "An object's namespace is created only by another Kustomization this one does not depend on, so a fresh cluster fails its first reconcile.", "Add the Kustomization that creates the namespace to dependsOn, or create the namespace here."},
	{RuleSealedSecretScope, Error, "A strict- or namespace-scoped SealedSecret is renamed or moved to another namespace by the overlay (namePrefix, targetNamespace, patches), so the controller cannot decrypt it.", "Re-seal it with kubeseal for its final name and namespace, or seal it namespace-wide or cluster-wide."},
	{RulePromotionFF, Error, "A downstream branch of the promotion chain has commits its upstream lacks (a hotfix straight on test or main), so the next promotion cannot fast-forward; or a promotion pull request cannot fast-forward onto its target.", "Bring the commits upstream first (merge or cherry-pick them into the upstream branch), then promote."},
	{RulePromotionBranch, Error, "An environment's sync (GitRepository spec.ref.branch) follows another branch than the promotion chain assigns it.", "Point the environment's GitRepository at its branch of the chain, or fix the chain (--promotion, promotion: in .gitops-lint.yaml)."},
	{RulePromotionChain, Info, "The promotion chain gitops-lint checked, and where it came from.", "Set it explicitly with --promotion dev,test,main or promotion: in .gitops-lint.yaml."},
	{RuleRenderLimit, Error, "gitops-lint stopped reading or rendering part of the repository because a bound that protects the machine was reached (all files read, rendered bytes or objects, one Kustomization's post-build substitution, kustomize build work); what lies beyond it is not checked, so the run fails rather than pass unchecked content.", "Shrink what the message names (split the file or Kustomization, remove padding, add files to .sourceignore), or, for a repository you trust, raise the limit it names with --limit KEY=VALUE."},
	{RuleRemoteBase, Error, "A remote base is used; gitops-lint never fetches it, and under --no-remote-bases kustomize-controller refuses it.", "Vendor the base into the repository, or reference it through a Flux source."},
}

// Rules returns the metadata of every built-in Go rule, sorted by id.
func Rules() []Rule {
	out := slices.Clone(builtinRules)
	slices.SortFunc(out, func(a, b Rule) int {
		if a.ID < b.ID {
			return -1
		} else if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// Lookup returns the metadata of a built-in rule.
func Lookup(id string) (Rule, bool) {
	for _, r := range builtinRules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
