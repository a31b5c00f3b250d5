package finding

import (
	"cmp"
	"slices"
)

// Rule is the metadata of one rule. Each rule is declared once, as a
// package-level variable of the package that emits it (its rules.go); the
// lint engine's checker registry collects them for `gitops-lint rules`,
// SARIF rules[] and docs/rules.md. Rego rules add theirs at run time.
type Rule struct {
	ID          string   `json:"id"`
	Severity    Severity `json:"severity"`
	Help        string   `json:"help"`
	Remediation string   `json:"remediation,omitempty"`
}

// New is the one way a checker builds a finding: f stamped with the rule's
// id and default severity. A finding that deliberately reports at another
// severity sets it afterwards, with a comment saying why.
func (r Rule) New(f Finding) Finding {
	f.Rule, f.Severity = r.ID, r.Severity
	return f
}

// SortRules sorts rules by id, in place, and returns them.
func SortRules(rules []Rule) []Rule {
	slices.SortStableFunc(rules, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
	return rules
}

// RuleSet collects a package's rules as they are declared, so that a rule
// is declared once, wherever its package keeps it, and listed by that one
// declaration:
//
//	var rules finding.RuleSet
//	var RuleX = rules.Add(finding.Rule{ID: "group/x", Severity: finding.Error, …})
type RuleSet struct{ rules []Rule }

// Add records r and returns it.
func (s *RuleSet) Add(r Rule) Rule {
	s.rules = append(s.rules, r)
	return r
}

// Rules returns a copy of the recorded rules, in declaration order.
func (s *RuleSet) Rules() []Rule { return slices.Clone(s.rules) }
