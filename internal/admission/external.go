package admission

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitops-lint/gitops-lint/internal/admission/gatekeeper"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// The policy engines besides the apiserver's own that admission knows:
// Gatekeeper (ConstraintTemplates and constraints, through
// internal/admission/gatekeeper) and Kyverno (its CEL ValidatingPolicy,
// evaluated as a ValidatingAdmissionPolicy bound to every object; its
// pattern-based ClusterPolicy and Policy rules are not evaluated).
const (
	kyvernoPolicyGroup = "policies.kyverno.io"
	kyvernoLegacyGroup = "kyverno.io"
	kindVPol           = "ValidatingPolicy"
)

// isGatekeeper reports whether obj is a ConstraintTemplate or a
// constraint.
func isGatekeeper(obj map[string]any) bool {
	g := objects.Group(str(obj["apiVersion"]))
	return g == gatekeeper.TemplateGroup || g == gatekeeper.ConstraintGroup
}

func str(v any) string { s, _ := v.(string); return s }

// source position of an admission object: its file and line, or the
// --admission-dir it came from.
func (s source) position() (string, int) {
	if s.o != nil {
		return s.o.File, s.o.Line
	}
	return s.dir, 0
}

// gatekeeperPolicy compiles the templates and constraints of gk once per
// distinct set (environments usually share them).
func (c *Checker) gatekeeperPolicy(ctx context.Context, gk []gatekeeper.Source) (*gatekeeper.Policy, []gatekeeper.Problem) {
	h := sha256.New()
	for _, s := range gk {
		b, _ := json.Marshal(s)
		h.Write(b)
		h.Write([]byte{0})
	}
	key := string(h.Sum(nil))
	c.mu.Lock()
	e, ok := c.gk[key]
	if !ok {
		e = &gkEntry{}
		c.gk[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		p, problems, err := gatekeeper.Load(ctx, gk)
		if err != nil {
			problems = append(problems, gatekeeper.Problem{Kind: gatekeeper.ProblemNotEvaluated, Message: err.Error()})
		}
		e.policy, e.problems = p, problems
		for _, v := range gk {
			if objects.Group(str(v.Object["apiVersion"])) != gatekeeper.ConstraintGroup {
				continue
			}
			md, _ := v.Object["metadata"].(map[string]any)
			c.seenRule(PolicyRulePrefix+str(md["name"]), fmt.Sprintf("The Gatekeeper constraint %s %s: Gatekeeper's webhook reviews every object it matches; its enforcementAction makes a violation an error (deny), a warning (warn) or an info (dryrun).", str(v.Object["kind"]), str(md["name"])))
		}
	})
	return e.policy, e.problems
}

// seenRule records the rule of a policy met in this run.
func (c *Checker) seenRule(id, help string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[id]; !ok {
		c.seen[id] = finding.Rule{ID: id, Severity: finding.Error, Help: help,
			Remediation: "Change the object so that the policy passes, or have the policy's owners exempt it."}
	}
}

// gatekeeperProblems are the findings of the templates and constraints
// Gatekeeper would not enforce: an invalid one is admission/invalid-policy
// (its constraints cannot be created), one gitops-lint cannot evaluate
// offline is admission/not-evaluated.
func (c *Checker) gatekeeperProblems(x *render.Index, e *render.Environment, byPos map[string]source, problems []gatekeeper.Problem) []finding.Finding {
	var out []finding.Finding
	for _, p := range problems {
		s, ok := byPos[fmt.Sprintf("%s:%d", p.File, p.Line)]
		if !ok {
			s = source{dir: p.File}
		}
		rule := RuleNotEvaluated
		msg := fmt.Sprintf("Gatekeeper %s is not evaluated offline: %s", p.Object, p.Message)
		if p.Kind == gatekeeper.ProblemInvalid {
			rule = RuleInvalidPolicy
			msg = fmt.Sprintf("Gatekeeper would not enforce %s: %s", p.Object, p.Message)
		}
		out = append(out, c.about(x, e, s, rule, msg, nil)...)
	}
	return out
}

// about is the finding about the admission object s (at path within
// it), none when s belongs to a Kustomization the run skips.
func (c *Checker) about(x *render.Index, e *render.Environment, s source, rule finding.Rule, msg string, path []string) []finding.Finding {
	if s.k != nil && s.k.Unchanged {
		return nil
	}
	f := rule.New(finding.Finding{Environment: e.Name, Message: msg})
	if s.o == nil {
		f.Message += " (from --admission-dir " + s.dir + ")"
		return []finding.Finding{f}
	}
	f.File, f.Line, f.Column, f.Kustomization, f.Object = s.o.File, s.o.Line, s.o.Column, s.k.ID(), s.o.Ref()
	if s.o.File == "" {
		f.Line, f.Column = 0, 0
		return []finding.Finding{f}
	}
	if doc := x.DocAt(s.o.File, s.o.Line); doc != nil && len(path) > 0 {
		f.Line, f.Column = doc.FieldPos(path...)
	}
	return []finding.Finding{f}
}

// review runs the Gatekeeper constraints of the cluster on one object.
func (c *Checker) review(ctx context.Context, cl *cluster, k *render.Kustomization, o *render.Object, user string, groups []string, ns string) []finding.Finding {
	if cl.gk == nil || cl.gk.Constraints() == 0 {
		return nil
	}
	var nsObj map[string]any
	if n, err := cl.ns.Get(ns); ns != "" && err == nil && n != nil {
		nsObj, _ = runtime.DefaultUnstructuredConverter.ToUnstructured(n)
	}
	vs, _, err := cl.gk.Review(ctx, gatekeeper.Source{Object: o.Content, File: o.File, Line: o.Line}, nsObj, user, groups)
	if err != nil {
		return nil // no apiVersion or kind, or the run's deadline: schema and the run say so
	}
	var out []finding.Finding
	for _, v := range vs {
		f := finding.Rule{ID: PolicyRulePrefix + v.ConstraintName, Severity: finding.Error}.New(finding.Finding{
			File: o.File, Line: o.Line, Column: o.Column, Environment: cl.e.Name, Kustomization: k.ID(), Object: o.Ref(), Message: v.Message})
		switch v.Severity {
		case gatekeeper.SeverityWarning:
			f.Severity = finding.Warning
		case gatekeeper.SeverityInfo:
			f.Severity = finding.Info
		}
		if o.File == "" {
			f.Line, f.Column = 0, 0
			f.Message += fmt.Sprintf(" (in %s of source %s/%s/%s, not in this repository)", o.OriginPath, k.SourceKind, k.SourceNamespace, k.SourceName)
		}
		out = append(out, f)
	}
	return out
}

// kyvernoPolicy turns a Kyverno ValidatingPolicy into the
// ValidatingAdmissionPolicy it extends and the binding Kyverno applies
// implicitly (every object its matchConstraints select, with its
// validationActions). ok is false, with the reason, for one that only
// Kyverno can evaluate: another evaluation mode, or no validationActions.
func kyvernoPolicy(obj map[string]any) (policy, binding map[string]any, why string) {
	md, _ := obj["metadata"].(map[string]any)
	name := str(md["name"])
	spec, _ := obj["spec"].(map[string]any)
	if mode := objects.NestedString(spec, "evaluation", "mode"); mode != "" && mode != "Kubernetes" {
		return nil, nil, fmt.Sprintf("its evaluation mode is %s, not Kubernetes admission", mode)
	}
	if on, ok := objects.Nested(spec, "evaluation", "admission", "enabled").(bool); ok && !on {
		return nil, nil, "admission is disabled (spec.evaluation.admission.enabled: false)"
	}
	actions, _ := spec["validationActions"].([]any)
	if len(actions) == 0 {
		return nil, nil, "it sets no validationActions"
	}
	ps := map[string]any{}
	for _, f := range []string{"matchConstraints", "matchConditions", "variables", "validations", "auditAnnotations", "failurePolicy", "paramKind"} {
		if v, ok := spec[f]; ok {
			ps[f] = v
		}
	}
	policy = map[string]any{"apiVersion": groupName + "/v1", "kind": kindPolicy, "metadata": map[string]any{"name": name}, "spec": ps}
	binding = map[string]any{"apiVersion": groupName + "/v1", "kind": kindBinding, "metadata": map[string]any{"name": name},
		"spec": map[string]any{"policyName": name, "validationActions": actions}}
	return policy, binding, ""
}

// kyvernoLegacy is the not-evaluated finding of a Kyverno ClusterPolicy or
// Policy: its pattern, deny, foreach, CEL and image rules are Kyverno's
// own engine, which gitops-lint does not link.
func (c *Checker) kyvernoLegacy(x *render.Index, e *render.Environment, s source) []finding.Finding {
	spec, _ := s.obj["spec"].(map[string]any)
	rules, _ := spec["rules"].([]any)
	var kinds []string
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		for _, k := range []string{"validate", "mutate", "generate", "verifyImages"} {
			if _, ok := rm[k]; ok && !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	md, _ := s.obj["metadata"].(map[string]any)
	msg := fmt.Sprintf("Kyverno %s %s is not evaluated offline: its %s rules need Kyverno's own engine (gitops-lint evaluates Kyverno's CEL ValidatingPolicy only; see docs/admission.md)",
		str(s.obj["kind"]), str(md["name"]), strings.Join(kinds, ", "))
	return c.about(x, e, s, RuleNotEvaluated, msg, nil)
}

// firstLine is s up to its first line break (a compiler's error, without
// the caret diagrams that follow).
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
