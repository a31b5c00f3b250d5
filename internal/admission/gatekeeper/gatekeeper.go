// Package gatekeeper evaluates OPA Gatekeeper policies offline: it compiles
// ConstraintTemplates (Rego) and their constraints with the Gatekeeper
// constraint framework (github.com/open-policy-agent/frameworks/constraint,
// Rego driver only) and reviews rendered objects as Gatekeeper's validating
// webhook would review their creation.
//
// The API:
//
//	p, problems, err := gatekeeper.Load(ctx, sources)
//	violations, skipped, err := p.Review(ctx, object, namespace, username, groups)
//
// Load takes every decoded object the caller has (only
// templates.gatekeeper.sh ConstraintTemplates, v1 and v1beta1, and
// constraints.gatekeeper.sh objects are read; anything else is ignored),
// each with the file and line it came from. A template or constraint that
// Gatekeeper would not enforce is a Problem naming its file and line, not
// an error: Rego that does not parse or compile, a template whose Rego calls
// a RefusedBuiltin (ProblemRefused), a template reading data.inventory
// (ProblemNotEvaluated: gitops-lint has no cluster to sync) or having only
// CEL code (ProblemNotEvaluated: the framework's CEL driver is not linked),
// a constraint whose kind no template defines, a constraint failing its
// template's parameter schema or carrying an unknown enforcementAction.
// Constraints of a template that did not load are ProblemNotEvaluated. The
// error is only for a cancelled context (OPA's compilation cannot be
// interrupted: a template still compiling when ctx ends is abandoned).
//
// Review evaluates one object as an admission CREATE by username/groups,
// with namespace the object's Namespace object (nil for a cluster-scoped
// object, or when it is not known). The review Rego sees is Gatekeeper's:
// input.review is the AdmissionRequest (kind, name, namespace,
// operation: CREATE, userInfo, object; resource is left empty: the plural
// is not known offline) with input.review.namespaceObject, and
// input.parameters the constraint's spec.parameters. Constraints are
// matched by spec.match as Gatekeeper's admission target matches them
// (kinds, scope, namespaces, excludedNamespaces, labelSelector,
// namespaceSelector, name, source — the webhook's reviews are source
// "Original"), at the webhook's enforcement point validation.gatekeeper.sh,
// so spec.scopedEnforcementActions apply. A constraint with a
// namespaceSelector cannot be matched against a namespaced object whose
// Namespace was not given: it is returned as a Skip, not guessed.
//
// Each Violation is one result of a violated constraint: its kind, name,
// enforcementAction (and the scoped actions at the webhook), the Severity
// (deny: error, warn: warning, dryrun: info; a scoped constraint takes its
// most severe action), the message as the user sees it — for deny
// `admission webhook "validation.gatekeeper.sh" denied the request: [NAME]
// MSG` (the API server's wording around Gatekeeper's `[NAME] MSG`), for warn
// the admission warning `[NAME] MSG` (kubectl prints it after "Warning: "),
// for dryrun the same `[NAME] MSG` as Gatekeeper's audit records — and the
// file and line of both the object and the constraint. Denial joins the
// deny messages of one object as the API server returns them.
//
// Review respects ctx's deadline (OPA's evaluation is cancelled with it); a
// Policy is safe for concurrent Reviews.
package gatekeeper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	apiconstraints "github.com/open-policy-agent/frameworks/constraint/pkg/apis/constraints"
	templatesv1 "github.com/open-policy-agent/frameworks/constraint/pkg/apis/templates/v1"
	templatesv1beta1 "github.com/open-policy-agent/frameworks/constraint/pkg/apis/templates/v1beta1"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/drivers/rego"
	regoschema "github.com/open-policy-agent/frameworks/constraint/pkg/client/drivers/rego/schema"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/reviews"
	"github.com/open-policy-agent/frameworks/constraint/pkg/core/templates"
	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Groups of Gatekeeper's objects.
const (
	TemplateGroup   = "templates.gatekeeper.sh"
	ConstraintGroup = apiconstraints.Group // constraints.gatekeeper.sh
	// WebhookName is Gatekeeper's validating webhook, as the API server
	// names it in a denial.
	WebhookName = apiconstraints.WebhookEnforcementPoint // validation.gatekeeper.sh
)

// Source is a decoded object and where it was read.
type Source struct {
	Object map[string]any
	File   string
	Line   int
}

// ProblemKind classifies a Problem.
type ProblemKind string

const (
	// ProblemInvalid: Gatekeeper would reject or not enforce the object.
	ProblemInvalid ProblemKind = "invalid"
	// ProblemRefused: the template calls a builtin gitops-lint does not
	// allow (RefusedBuiltins).
	ProblemRefused ProblemKind = "refused"
	// ProblemNotEvaluated: the object is valid but cannot be evaluated
	// offline (data.inventory), or depends on a template that did not load.
	ProblemNotEvaluated ProblemKind = "not evaluated"
)

// Problem is a template or constraint that is not enforced.
type Problem struct {
	Kind ProblemKind
	File string
	Line int
	// Object names the template or constraint: "ConstraintTemplate/NAME",
	// or "KIND/NAME" for a constraint.
	Object  string
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s: %s", p.File, p.Line, p.Object, p.Kind, p.Message)
}

// Severity of a violation, from its enforcement action.
type Severity string

const (
	SeverityError   Severity = "error"   // deny
	SeverityWarning Severity = "warning" // warn
	SeverityInfo    Severity = "info"    // dryrun
)

// Violation is one result of a violated constraint for one object.
type Violation struct {
	ConstraintKind string
	ConstraintName string
	// EnforcementAction is the constraint's spec.enforcementAction (deny
	// when unset): deny, warn, dryrun or scoped.
	EnforcementAction string
	// ScopedActions are, for a scoped constraint, its actions at the
	// webhook (sorted).
	ScopedActions []string
	Severity      Severity
	// Message is what the user is shown (see the package doc).
	Message string
	// Msg is the template's msg alone.
	Msg string
	// Details is the template's details, if any.
	Details any
	// File and Line locate the object reviewed.
	File string
	Line int
	// ConstraintFile and ConstraintLine locate the constraint.
	ConstraintFile string
	ConstraintLine int
}

// Skip is a constraint that could not be matched against an object offline.
type Skip struct {
	Kind, Name, Reason string
}

// Policy is a set of compiled templates and constraints.
type Policy struct {
	client      *client.Client
	constraints map[string]Source // "Kind/name"
}

// Constraints is the number of constraints loaded.
func (p *Policy) Constraints() int { return len(p.constraints) }

// Load compiles the templates and constraints among objs.
func Load(ctx context.Context, objs []Source) (*Policy, []Problem, error) {
	driver, err := rego.New(rego.DisableBuiltins(RefusedBuiltins...), rego.Externs())
	if err != nil {
		return nil, nil, fmt.Errorf("gatekeeper: rego driver: %w", err)
	}
	c, err := client.NewClient(client.Targets(target{}), client.Driver(driver),
		client.EnforcementPoints(WebhookName))
	if err != nil {
		return nil, nil, fmt.Errorf("gatekeeper: client: %w", err)
	}
	p := &Policy{client: c, constraints: map[string]Source{}}
	var problems []Problem
	// Kinds whose template did not load, with why.
	failed := map[string]string{}
	defined := map[string]Source{}
	var constraints []Source
	for _, src := range objs {
		group, version := groupVersion(src.Object)
		switch group {
		case TemplateGroup:
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			kind, prob, err := p.addTemplate(ctx, src, version, defined)
			if err != nil {
				return nil, nil, err
			}
			if prob != nil {
				problems = append(problems, *prob)
				if kind != "" {
					if _, ok := failed[kind]; !ok {
						failed[kind] = string(prob.Kind) + ": " + prob.Message
					}
				}
			}
		case ConstraintGroup:
			constraints = append(constraints, src)
		}
	}
	for _, src := range constraints {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if prob := p.addConstraint(ctx, src, failed); prob != nil {
			problems = append(problems, *prob)
		}
	}
	return p, problems, nil
}

func groupVersion(obj map[string]any) (string, string) {
	av, _ := obj["apiVersion"].(string)
	group, version, ok := strings.Cut(av, "/")
	if !ok {
		return "", av
	}
	return group, version
}

func objName(obj map[string]any) string {
	name, _, _ := unstructured.NestedString(obj, "metadata", "name")
	return name
}

// addTemplate converts, checks and adds one ConstraintTemplate. It returns
// the kind it defines (when known) and a Problem when it is not enforced.
func (p *Policy) addTemplate(ctx context.Context, src Source, version string, defined map[string]Source) (string, *Problem, error) {
	prob := func(kind ProblemKind, format string, args ...any) *Problem {
		return &Problem{Kind: kind, File: src.File, Line: src.Line,
			Object: "ConstraintTemplate/" + objName(src.Object), Message: fmt.Sprintf(format, args...)}
	}
	templ, err := convertTemplate(src.Object, version)
	kind := ""
	if templ != nil {
		kind = templ.Spec.CRD.Spec.Names.Kind
	}
	if err != nil {
		return kind, prob(ProblemInvalid, "%v", err), nil
	}
	if kind == "" {
		return "", prob(ProblemInvalid, "spec.crd.spec.names.kind is empty"), nil
	}
	if prev, dup := defined[kind]; dup {
		return "", prob(ProblemInvalid, "kind %s is already defined by the template at %s:%d", kind, prev.File, prev.Line), nil
	}
	defined[kind] = src
	if len(templ.Spec.Targets) != 1 || templ.Spec.Targets[0].Target != TargetName {
		return kind, prob(ProblemInvalid, "a template must have exactly one target, %s", TargetName), nil
	}
	if !hasRego(templ) {
		engines := []string{}
		for _, c := range templ.Spec.Targets[0].Code {
			engines = append(engines, c.Engine)
		}
		return kind, prob(ProblemNotEvaluated, "it has no Rego (engines %v): gitops-lint evaluates Gatekeeper's Rego only, not CEL (K8sNativeValidation)", engines), nil
	}
	if why := readsInventory(templ); why != "" {
		return kind, prob(ProblemNotEvaluated, "its Rego reads %s: gitops-lint does not sync cluster data (referential constraints are not evaluated)", why), nil
	}
	// OPA's compiler cannot be interrupted: a template whose compilation
	// outlives ctx is abandoned (with the Policy, which Load then does not
	// return).
	done := make(chan error, 1)
	go func() {
		_, err := p.client.AddTemplate(ctx, templ)
		done <- err
	}()
	select {
	case <-ctx.Done():
		return kind, nil, ctx.Err()
	case err = <-done:
	}
	if err != nil {
		msg := cleanError(err)
		if b := refusedIn(msg); b != "" {
			return kind, prob(ProblemRefused, "its Rego calls %s, which gitops-lint does not allow (no network, clock, randomness or runtime in repository-supplied Rego)", b), nil
		}
		return kind, prob(ProblemInvalid, "%s", msg), nil
	}
	return kind, nil, nil
}

// convertTemplate decodes a v1 or v1beta1 ConstraintTemplate, defaults it
// and converts it to the framework's version-free form.
func convertTemplate(obj map[string]any, version string) (templ *templates.ConstraintTemplate, err error) {
	defer func() {
		// The framework's defaulting panics on objects it cannot round-trip.
		if r := recover(); r != nil {
			templ, err = nil, fmt.Errorf("cannot decode the template: %v", r)
		}
	}()
	out := &templates.ConstraintTemplate{}
	switch version {
	case "v1":
		in := &templatesv1.ConstraintTemplate{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, in); err != nil {
			return nil, fmt.Errorf("cannot decode the template: %w", err)
		}
		templatesv1.SetObjectDefaults_ConstraintTemplate(in)
		if err := templatesv1.Convert_v1_ConstraintTemplate_To_templates_ConstraintTemplate(in, out, nil); err != nil {
			return nil, fmt.Errorf("cannot convert the template: %w", err)
		}
	case "v1beta1":
		in := &templatesv1beta1.ConstraintTemplate{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, in); err != nil {
			return nil, fmt.Errorf("cannot decode the template: %w", err)
		}
		templatesv1beta1.SetObjectDefaults_ConstraintTemplate(in)
		if err := templatesv1beta1.Convert_v1beta1_ConstraintTemplate_To_templates_ConstraintTemplate(in, out, nil); err != nil {
			return nil, fmt.Errorf("cannot convert the template: %w", err)
		}
	default:
		return nil, fmt.Errorf("apiVersion %s/%s is not supported (v1, v1beta1)", TemplateGroup, version)
	}
	if kind, _ := obj["kind"].(string); kind != "ConstraintTemplate" {
		return out, fmt.Errorf("kind %q is not ConstraintTemplate", kind)
	}
	return out, nil
}

func hasRego(templ *templates.ConstraintTemplate) bool {
	for _, c := range templ.Spec.Targets[0].Code {
		if c.Engine == regoschema.Name {
			return true
		}
	}
	return false
}

var inventoryRef = ast.MustParseRef("data.inventory")

// readsInventory reports the data.inventory reference in a template's Rego
// (entry point or libs), if any. Rego that does not parse is left to the
// driver to report.
func readsInventory(templ *templates.ConstraintTemplate) string {
	for _, t := range templ.Spec.Targets {
		for _, code := range t.Code {
			if code.Engine != regoschema.Name {
				continue
			}
			src, err := regoschema.GetSource(code)
			if err != nil {
				continue
			}
			version := ast.RegoV0
			if src.Version == "v1" {
				version = ast.RegoV1
			}
			for i, text := range append([]string{src.Rego}, src.Libs...) {
				mod, err := ast.ParseModuleWithOpts(fmt.Sprintf("lib%d", i), text, ast.ParserOptions{RegoVersion: version})
				if err != nil || mod == nil {
					continue
				}
				found := ""
				ast.WalkRefs(mod, func(r ast.Ref) bool {
					if found == "" && r.HasPrefix(inventoryRef) {
						found = inventoryRef.String()
						if r[0].Location != nil {
							if i == 0 {
								found += fmt.Sprintf(" (rego line %d)", r[0].Location.Row)
							} else {
								found += fmt.Sprintf(" (libs[%d] line %d)", i-1, r[0].Location.Row)
							}
						}
					}
					return found != ""
				})
				if found != "" {
					return found
				}
			}
		}
	}
	return ""
}

// regoLine is how the framework names a line of a template's entry point.
var regoLine = regexp.MustCompile(`\btemplate:(\d+):`)

// cleanError shortens the framework's error chain to its message: OPA's
// quotation of the offending source is dropped, and a position in the
// template's Rego is "rego line N".
func cleanError(err error) string {
	var kept []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(l, "\t") || strings.TrimSpace(l) == "" {
			continue
		}
		kept = append(kept, strings.TrimSpace(l))
	}
	msg := regoLine.ReplaceAllString(strings.Join(kept, "; "), "rego line $1:")
	const limit = 600
	if len(msg) > limit {
		msg = msg[:limit] + "..."
	}
	return msg
}

var knownActions = []string{"deny", "warn", "dryrun", "scoped"}

func (p *Policy) addConstraint(ctx context.Context, src Source, failed map[string]string) *Problem {
	u := &unstructured.Unstructured{Object: src.Object}
	kind, name := u.GetKind(), u.GetName()
	prob := func(pk ProblemKind, format string, args ...any) *Problem {
		return &Problem{Kind: pk, File: src.File, Line: src.Line, Object: kind + "/" + name, Message: fmt.Sprintf(format, args...)}
	}
	if why, ok := failed[kind]; ok {
		return prob(ProblemNotEvaluated, "the ConstraintTemplate defining %s is not enforced (%s)", kind, why)
	}
	key := kind + "/" + name
	if prev, dup := p.constraints[key]; dup {
		return prob(ProblemInvalid, "%s is already defined at %s:%d", key, prev.File, prev.Line)
	}
	action, err := apiconstraints.GetEnforcementAction(u)
	if err != nil {
		return prob(ProblemInvalid, "%v", err)
	}
	if !slices.Contains(knownActions, action) {
		return prob(ProblemInvalid, "spec.enforcementAction %q is not one of deny, warn, dryrun, scoped", action)
	}
	if _, err := p.client.AddConstraint(ctx, u.DeepCopy()); err != nil {
		if errors.Is(err, client.ErrMissingConstraintTemplate) {
			return prob(ProblemInvalid, "no ConstraintTemplate defines kind %s", kind)
		}
		return prob(ProblemInvalid, "%s", cleanError(err))
	}
	p.constraints[key] = src
	return nil
}

// Review evaluates obj as an admission CREATE (see the package doc).
func (p *Policy) Review(ctx context.Context, obj Source, namespace map[string]any, username string, groups []string) ([]Violation, []Skip, error) {
	u := &unstructured.Unstructured{Object: obj.Object}
	gvk := u.GroupVersionKind()
	if gvk.Version == "" || gvk.Kind == "" {
		return nil, nil, fmt.Errorf("%s:%d: %w", obj.File, obj.Line, ErrNoVersion)
	}
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, nil, fmt.Errorf("%s:%d: %w", obj.File, obj.Line, err)
	}
	kind := metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}
	r := &review{
		AdmissionRequest: admissionv1.AdmissionRequest{
			Kind:        kind,
			RequestKind: &kind,
			Name:        u.GetName(),
			Namespace:   u.GetNamespace(),
			Operation:   admissionv1.Create,
			UserInfo:    authenticationv1.UserInfo{Username: username, Groups: groups},
			Object:      runtime.RawExtension{Raw: raw},
		},
		object:    u,
		namespace: namespace,
		skipped:   &skipList{},
	}
	opts := []reviews.ReviewOpt{reviews.EnforcementPoint(WebhookName)}
	if namespace != nil {
		opts = append(opts, reviews.Namespace(namespace))
	}
	resp, err := p.client.Review(ctx, r, opts...)
	if cerr := ctx.Err(); cerr != nil {
		return nil, nil, fmt.Errorf("%s:%d: gatekeeper review: %w", obj.File, obj.Line, cerr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s:%d: gatekeeper review: %w", obj.File, obj.Line, err)
	}
	var out []Violation
	if tr := resp.ByTarget[TargetName]; tr != nil {
		for _, res := range tr.Results {
			out = append(out, p.violation(obj, res.Constraint, res.EnforcementAction, res.ScopedEnforcementActions, res.Msg, res.Metadata))
		}
	}
	return out, r.skipped.items, nil
}

func (p *Policy) violation(obj Source, c *unstructured.Unstructured, action string, scoped []string, msg string, meta map[string]any) Violation {
	v := Violation{
		EnforcementAction: action,
		Msg:               msg,
		File:              obj.File,
		Line:              obj.Line,
	}
	if c != nil {
		v.ConstraintKind, v.ConstraintName = c.GetKind(), c.GetName()
		src := p.constraints[v.ConstraintKind+"/"+v.ConstraintName]
		v.ConstraintFile, v.ConstraintLine = src.File, src.Line
	}
	if meta != nil {
		v.Details = meta["details"]
	}
	actions := []string{action}
	if apiconstraints.IsEnforcementActionScoped(action) {
		v.ScopedActions = slices.Sorted(slices.Values(scoped))
		actions = v.ScopedActions
	}
	line := fmt.Sprintf("[%s] %s", v.ConstraintName, msg)
	switch {
	case slices.Contains(actions, "deny"):
		v.Severity = SeverityError
		v.Message = deniedPrefix + line
	case slices.Contains(actions, "warn"):
		v.Severity = SeverityWarning
		v.Message = line
	default:
		v.Severity = SeverityInfo
		v.Message = line
	}
	return v
}

var deniedPrefix = fmt.Sprintf("admission webhook %q denied the request: ", WebhookName)

// Denial is the API server's message for an object whose violations are
// vs: Gatekeeper's deny lines joined by newlines after the webhook's
// prefix, or "" when nothing is denied.
func Denial(vs []Violation) string {
	var lines []string
	for _, v := range vs {
		if m, ok := strings.CutPrefix(v.Message, deniedPrefix); ok && v.Severity == SeverityError {
			lines = append(lines, m)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return deniedPrefix + strings.Join(lines, "\n")
}

// ErrNoVersion is returned by Review for an object without apiVersion or
// kind.
var ErrNoVersion = errors.New("object has no apiVersion or kind")
