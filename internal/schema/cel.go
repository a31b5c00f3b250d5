package schema

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/gitops-lint/gitops-lint/internal/finding"
)

// celRules builds, once per CRD version schema, what the apiserver builds
// from it to admit a custom resource: its structural schema (which prunes
// and defaults the object) and its CEL validator, which evaluates the
// x-kubernetes-validations as admission would on create (no old object, so
// transition rules are skipped as they are on create).
type celRules struct {
	mu    sync.Mutex
	cache map[string]*celEntry
}

type celEntry struct {
	v *cel.Validator // nil: the schema has no x-kubernetes-validations
	// s is the structural schema with its defaults pruned, as the
	// apiserver serves the version (nil when err is set).
	s        *structuralschema.Structural
	defaults bool // s declares defaults
	err      error
}

func (c *celRules) validator(raw map[string]any) *celEntry {
	b, _ := json.Marshal(raw)
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil {
		c.cache = map[string]*celEntry{}
	}
	if e, ok := c.cache[key]; ok {
		return e
	}
	e := &celEntry{}
	c.cache[key] = e
	defer func() {
		// The apiserver builds these from CRDs it has validated; one it
		// would refuse must not crash the run.
		if r := recover(); r != nil {
			*e = celEntry{err: fmt.Errorf("CRD schema: %v", r)}
		}
	}()
	var v1 apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal(b, &v1); err != nil {
		e.err = fmt.Errorf("decode CRD schema: %w", err)
		return e
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&v1, &internal, nil); err != nil {
		e.err = fmt.Errorf("convert CRD schema: %w", err)
		return e
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		e.err = fmt.Errorf("CRD schema is not structural: %w", err)
		return e
	}
	// As the apiserver serves a version (customresource_handler.go): a
	// copy of the schema whose defaults are pruned as objects are, then
	// the same structural schema prunes, defaults and validates objects.
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		e.err = fmt.Errorf("CRD schema defaults: %w", err)
		return e
	}
	e.s = s
	e.defaults = hasDefaults(s)
	e.v = cel.NewValidator(s, true, celconfig.PerCallLimit)
	return e
}

// hasDefaults reports whether s declares a default anywhere.
func hasDefaults(s *structuralschema.Structural) bool {
	if s == nil {
		return false
	}
	if s.Default.Object != nil {
		return true
	}
	for _, p := range s.Properties {
		if hasDefaults(&p) {
			return true
		}
	}
	if s.AdditionalProperties != nil && hasDefaults(s.AdditionalProperties.Structural) {
		return true
	}
	return hasDefaults(s.Items)
}

// Validate evaluates the rules on obj (already pruned and defaulted) and
// returns the violations.
func (c *celRules) Validate(ctx context.Context, raw map[string]any, obj map[string]any) []Problem {
	return c.validator(raw).validate(ctx, obj)
}

func (e *celEntry) validate(ctx context.Context, obj map[string]any) []Problem {
	if e.err != nil || e.v == nil {
		return nil
	}
	// The apiserver's budget per object (strategy.go of customresource).
	errs, _ := e.v.Validate(ctx, nil, e.s, obj, nil, celconfig.RuntimeCELCostBudget)
	var out []Problem
	for _, fe := range errs {
		out = append(out, celProblem(fe))
	}
	return out
}

// RuleCELError is a warning. The apiserver answers a rule it cannot
// evaluate with an Invalid error (validation.go: "no such key: … evaluating
// rule: …"; a server-side apply dry run against 1.34 refuses such an
// object with 422), but that gitops-lint cannot evaluate a rule proves
// less than a rule evaluating to false: a missing field is how the object
// gitops-lint renders differs from the one the apiserver evaluates (until
// now, the defaults; still, on an update, the fields other field managers
// own, which a server-side apply keeps, and mutating admission), and cost
// estimates and the CEL library differ between Kubernetes versions.
var RuleCELError = rules.Add(finding.Rule{ID: "schema/cel-error", Severity: finding.Warning,
	Help:        "A CEL rule (x-kubernetes-validations) of the object's CustomResourceDefinition could not be evaluated on the object as the apiserver defaults it: it reads a field that is not set, exceeds the apiserver's cost budget, or does not compile here. The apiserver rejects the object if its evaluation fails the same way.",
	Remediation: "Set the field the rule reads (the message names the rule and its field path), or validate against the CRD version your cluster runs (--crd-dir)."})

// celProblem turns a field error of the CEL validator into a problem: a
// rule that evaluates to false is schema/invalid and says the rule's own
// message (or messageExpression result) at its field path; any other
// outcome (evaluation, compilation or cost failure) is schema/cel-error
// worded without the evaluator's internals.
func celProblem(fe *field.Error) Problem {
	p := Problem{Path: fieldPath(fe.Field)}
	detail := fe.Detail
	if fe.Type == field.ErrorTypeInternal {
		p.rule = &RuleCELError
		p.Msg = "x-kubernetes-validations could not be evaluated (the apiserver reports an internal error)"
		return p
	}
	// The apiserver's wording of each failure (schema/cel/validation.go).
	if cause, rule, ok := strings.Cut(detail, " evaluating rule: "); ok {
		p.rule = &RuleCELError
		p.Msg = fmt.Sprintf("x-kubernetes-validations rule %q could not be evaluated: %s", rule, celCause(cause))
		return p
	}
	for _, f := range []struct {
		marker, msg string
		named       bool // the rule follows the marker
	}{
		{"rule compile error: ", "a rule does not compile with gitops-lint's CEL library", false},
		{"rule compiler initialization error: ", "the rules do not compile with gitops-lint's CEL library", false},
		{"validation failed due to running out of cost budget", "the rules exceed the apiserver's CEL cost budget for one object", false},
		{"runtime cost could not be calculated for validation rule: ", "the cost of the rule could not be calculated", true},
		{"': no further validation rules will be run due to call cost exceeds limit for rule: ", "it exceeds the apiserver's CEL cost limit per evaluation", true},
		{"': call arguments did not match a supported operator, function or macro signature for rule: ", "it applies an operator or function to a value of a type it does not accept", true},
	} {
		_, rest, found := strings.Cut(detail, f.marker)
		if !found {
			continue
		}
		p.rule = &RuleCELError
		if f.named {
			rule, _, _ := strings.Cut(rest, ", no further validation rules will be run")
			p.Msg = fmt.Sprintf("x-kubernetes-validations rule %q could not be evaluated: %s", rule, f.msg)
		} else {
			p.Msg = "x-kubernetes-validations could not be evaluated: " + f.msg
		}
		return p
	}
	msg := detail
	if msg == "" {
		msg = fe.ErrorBody()
	}
	p.Msg = "x-kubernetes-validations: " + msg
	return p
}

var noSuchKeyRe = regexp.MustCompile(`^no such key: (.*)$`)

// celCause words the evaluator's error for the user.
func celCause(cause string) string {
	switch {
	case noSuchKeyRe.MatchString(cause):
		return fmt.Sprintf("it reads field %q, which the object does not set and the schema does not default", noSuchKeyRe.FindStringSubmatch(cause)[1])
	case strings.HasPrefix(cause, "index out of bounds"), strings.HasPrefix(cause, "index '"):
		return "it reads a list element the object does not have"
	case strings.Contains(cause, "division by zero"):
		return "it divides by zero"
	case strings.Contains(cause, "overflow"):
		return "an integer overflows"
	}
	return "its evaluation fails"
}

var indexRe = regexp.MustCompile(`\[([^\]]*)\]`)

// fieldPath splits "spec.rules[0].name" into its segments.
func fieldPath(p string) []string {
	if p == "" || p == "<nil>" {
		return nil
	}
	p = indexRe.ReplaceAllString(p, ".$1")
	var out []string
	for _, s := range strings.Split(p, ".") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
