package promote

import (
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// The rules promote emits, each declared once: findings are built with
// Rule.New, so a rule's id and default severity live in its declaration.
var (
	RuleNotFastForward = rules.Add(finding.Rule{ID: "promotion/not-fast-forward", Severity: finding.Error,
		Help:        "A downstream branch of the promotion chain has commits its upstream lacks (a hotfix straight on test or main), so the next promotion cannot fast-forward; or a promotion pull request cannot fast-forward onto its target.",
		Remediation: "Bring the commits upstream first (merge or cherry-pick them into the upstream branch), then promote."})
	RuleBranchMismatch = rules.Add(finding.Rule{ID: "promotion/branch-mismatch", Severity: finding.Error,
		Help:        "An environment's sync (GitRepository spec.ref.branch) follows another branch than the promotion chain assigns it.",
		Remediation: "Point the environment's GitRepository at its branch of the chain, or fix the chain (--promotion, promotion: in .gitops-lint.yaml)."})
	RuleChain = rules.Add(finding.Rule{ID: "promotion/chain", Severity: finding.Info,
		Help:        "The promotion chain gitops-lint checked, and where it came from.",
		Remediation: "Set it explicitly with --promotion dev,test,main or promotion: in .gitops-lint.yaml."})
)

// rules records the rules promote declares (here or beside the code that
// emits them).
var rules finding.RuleSet

// Rules are the rules promote emits.
func Rules() []finding.Rule { return rules.Rules() }

// Needs is what promote looks up in the environment while it judges a
// Kustomization's objects: nothing; it reads git history. --changed-since
// and --shard render what it names.
var Needs = render.Needs{}
