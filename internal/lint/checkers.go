package lint

import (
	"context"

	"github.com/gitops-lint/gitops-lint/internal/admission"
	"github.com/gitops-lint/gitops-lint/internal/confine"
	"github.com/gitops-lint/gitops-lint/internal/converge"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/policy"
	"github.com/gitops-lint/gitops-lint/internal/pool"
	"github.com/gitops-lint/gitops-lint/internal/promote"
	"github.com/gitops-lint/gitops-lint/internal/rbacsim"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/schema"
)

// Settings are what the checkers of a run are built from.
type Settings struct {
	// Root is the linted repository (promotion reads its git history).
	Root              string
	KubernetesVersion string
	CRDDirs           []string
	RBACDirs          []string
	// AdmissionDirs hold admission policies installed outside git.
	AdmissionDirs []string
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
	// CPU is the run's limiter: parallel checkers hold a slot per work
	// item, the others one for their whole Check.
	CPU *pool.Limiter
	// Provides declares what exists besides what git applies (config
	// provides:), for the convergence checks.
	Provides []converge.Provide
}

// registry is every checker of a lint run, each built from the settings.
// To add a checker, add a line here: its name, the rules it owns and what
// it looks up in the environment (both declared in its package's rules.go),
// and its constructor.
//
// parallel: the checker spreads its work over the run's limiter itself
// (schema, policy); any other checker runs holding one slot.
var registry = []struct {
	name     string
	rules    func() []finding.Rule
	needs    render.Needs
	parallel bool
	build    func(Settings) (Checker, error)
}{
	{"schema", schema.Rules, schema.Needs, true, func(s Settings) (Checker, error) {
		return schema.Load(schema.Options{KubernetesVersion: s.KubernetesVersion, CRDDirs: s.CRDDirs, FileBytes: s.Limits.Or().FileBytes, Budget: s.Budget, Workers: s.Workers, CPU: s.CPU})
	}},
	{"rbac", rbacsim.Rules, rbacsim.Needs, false, func(s Settings) (Checker, error) {
		return rbacsim.Load(rbacsim.Options{RBACDirs: s.RBACDirs, FileBytes: s.Limits.Or().FileBytes, Budget: s.Budget})
	}},
	{"admission", admission.Rules, admission.Needs, false, func(s Settings) (Checker, error) {
		return admission.Load(admission.Options{Dirs: s.AdmissionDirs, RBACDirs: s.RBACDirs, FileBytes: s.Limits.Or().FileBytes, Budget: s.Budget, KubernetesVersion: s.KubernetesVersion})
	}},
	{"policy", policy.Rules, policy.Needs, true, func(s Settings) (Checker, error) {
		return policy.Load(context.Background(), policy.Options{Dirs: s.PolicyDirs, NoBuiltin: s.NoBuiltinPolicies, Namespaces: s.PolicyNamespaces, AllNamespaces: s.AllPolicyNamespaces, Workers: s.Workers, CPU: s.CPU, Params: s.PolicyParams, Limits: s.Limits, Budget: s.Budget})
	}},
	{"promotion", promote.Rules, promote.Needs, false, func(s Settings) (Checker, error) {
		return promote.Checker{Options: promote.Options{Root: s.Root, Chain: s.Promotion, ChainFrom: s.PromotionFrom, Env: s.Environ}}, nil
	}},
	{"converge", converge.Rules, converge.Needs, false, func(s Settings) (Checker, error) { return converge.Checker{Provides: s.Provides}, nil }},
}

// Rules is the metadata of every Go rule of this build, sorted by id: the
// renderer's and every registered checker's. Rego rules join at run time
// (RuleSource).
func Rules() []finding.Rule {
	out := render.Rules()
	for _, r := range registry {
		out = append(out, r.rules()...)
	}
	return finding.SortRules(out)
}

// Needs is what the registered checkers look up in the environment, all
// together: what --changed-since and --shard must render beyond the
// Kustomizations they lint.
func Needs() render.Needs {
	var out render.Needs
	for _, r := range registry {
		out = out.Union(r.needs)
	}
	return out
}

// NewCheckers builds every registered checker, each holding a slot of the
// run's limiter while it loads. An error (say, a policy directory that does
// not compile) is a finding.UsageError when the user can fix it.
func NewCheckers(s Settings) ([]Checker, error) {
	out := make([]Checker, 0, len(registry))
	for _, r := range registry {
		var c Checker
		var err error
		s.CPU.Do(func() { c, err = r.build(s) })
		if err != nil {
			return nil, err
		}
		if !r.parallel && s.CPU != nil {
			c = serial{c, s.CPU}
		}
		out = append(out, c)
	}
	return out, nil
}

// serial runs a one-goroutine checker holding one slot of the limiter.
type serial struct {
	Checker
	cpu *pool.Limiter
}

func (c serial) Check(ctx context.Context, res *render.Result) (out []finding.Finding) {
	c.cpu.Do(func() { out = c.Checker.Check(ctx, res) })
	return out
}

// Rules passes on the rules of a checker known only once it ran (the
// admission checker's policies, RuleSource).
func (c serial) Rules() []finding.Rule {
	if rs, ok := c.Checker.(RuleSource); ok {
		return rs.Rules()
	}
	return nil
}
