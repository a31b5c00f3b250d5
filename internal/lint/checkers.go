package lint

import (
	"context"

	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/converge"
	"github.com/gitops-lint/gitops-lint/internal/policy"
	"github.com/gitops-lint/gitops-lint/internal/promote"
	"github.com/gitops-lint/gitops-lint/internal/rbacsim"
	"github.com/gitops-lint/gitops-lint/internal/schema"
)

// Settings are what the checkers of a run are built from.
type Settings struct {
	// Root is the linted repository (promotion reads its git history).
	Root              string
	KubernetesVersion string
	CRDDirs           []string
	RBACDirs          []string
	// Policy selection (see policy.Options).
	PolicyDirs          []string
	NoBuiltinPolicies   bool
	PolicyNamespaces    []string
	AllPolicyNamespaces bool
	PolicyParams        map[string]any
	// Promotion is the branch chain and where it came from.
	Promotion     []string
	PromotionFrom string
	// Environ is the process environment (pull-request variables).
	Environ map[string]string
	Workers int
	// Limits and Budget bound what checkers read (confine).
	Limits confine.Limits
	Budget *confine.Budget
}

// registry is every checker of a lint run, each built from the settings.
// To add a checker, add its constructor here; it owns its rules
// (internal/finding/rules.go until rules move into their checkers).
var registry = []struct {
	name  string
	build func(Settings) (Checker, error)
}{
	{"schema", func(s Settings) (Checker, error) {
		return schema.Load(schema.Options{KubernetesVersion: s.KubernetesVersion, CRDDirs: s.CRDDirs, FileBytes: s.Limits.Or().FileBytes, Budget: s.Budget, Workers: s.Workers})
	}},
	{"rbac", func(s Settings) (Checker, error) {
		return rbacsim.Load(rbacsim.Options{RBACDirs: s.RBACDirs, FileBytes: s.Limits.Or().FileBytes, Budget: s.Budget})
	}},
	{"policy", func(s Settings) (Checker, error) {
		return policy.Load(context.Background(), policy.Options{Dirs: s.PolicyDirs, NoBuiltin: s.NoBuiltinPolicies, Namespaces: s.PolicyNamespaces, AllNamespaces: s.AllPolicyNamespaces, Workers: s.Workers, Params: s.PolicyParams, Limits: s.Limits, Budget: s.Budget})
	}},
	{"promotion", func(s Settings) (Checker, error) {
		return promote.Checker{Options: promote.Options{Root: s.Root, Chain: s.Promotion, ChainFrom: s.PromotionFrom, Env: s.Environ}}, nil
	}},
	{"converge", func(Settings) (Checker, error) { return converge.Checker{}, nil }},
}

// NewCheckers builds every registered checker. An error (say, a policy
// directory that does not compile) is a finding.UsageError when the user
// can fix it.
func NewCheckers(s Settings) ([]Checker, error) {
	out := make([]Checker, 0, len(registry))
	for _, r := range registry {
		c, err := r.build(s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
