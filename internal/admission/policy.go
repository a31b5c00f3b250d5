package admission

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	"k8s.io/apiserver/pkg/cel/environment"
)

const (
	groupName   = admissionregistrationv1.GroupName
	kindPolicy  = "ValidatingAdmissionPolicy"
	kindBinding = "ValidatingAdmissionPolicyBinding"
)

// isAdmissionObject reports whether obj is a policy or a binding of the
// GA API (admissionregistration.k8s.io/v1).
func isAdmissionObject(obj map[string]any) (kind string, ok bool) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ = obj["kind"].(string)
	if apiVersion != groupName+"/v1" || (kind != kindPolicy && kind != kindBinding) {
		return "", false
	}
	return kind, true
}

// decodePolicy reads a policy and defaults it as the apiserver does on
// create (SetDefaults of admissionregistration/v1).
func decodePolicy(obj map[string]any) (*admissionregistrationv1.ValidatingAdmissionPolicy, error) {
	var p admissionregistrationv1.ValidatingAdmissionPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &p); err != nil {
		return nil, err
	}
	if p.Spec.FailurePolicy == nil {
		f := admissionregistrationv1.Fail
		p.Spec.FailurePolicy = &f
	}
	defaultMatch(p.Spec.MatchConstraints)
	return &p, nil
}

// decodeBinding reads a binding and defaults it.
func decodeBinding(obj map[string]any) (*admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	var b admissionregistrationv1.ValidatingAdmissionPolicyBinding
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &b); err != nil {
		return nil, err
	}
	defaultMatch(b.Spec.MatchResources)
	if r := b.Spec.ParamRef; r != nil && r.ParameterNotFoundAction == nil {
		a := admissionregistrationv1.DenyAction
		r.ParameterNotFoundAction = &a
	}
	return &b, nil
}

func defaultMatch(m *admissionregistrationv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		e := admissionregistrationv1.Equivalent
		m.MatchPolicy = &e
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for _, rules := range [][]admissionregistrationv1.NamedRuleWithOperations{m.ResourceRules, m.ExcludeResourceRules} {
		for i := range rules {
			if rules[i].Scope == nil {
				s := admissionregistrationv1.AllScopes
				rules[i].Scope = &s
			}
		}
	}
}

// compiled is a policy compiled for evaluation, once per run.
type compiled struct {
	policy       *admissionregistrationv1.ValidatingAdmissionPolicy
	validations  plugincel.ConditionEvaluator
	messages     plugincel.ConditionEvaluator
	audits       plugincel.ConditionEvaluator
	matcher      matchconditions.Matcher
	hasMatchCond bool
	// invalid is the apiserver's refusal of the policy ("" when it is
	// created), and invalidPath the field it names.
	invalid     string
	invalidPath []string
}

// compilePolicy checks and compiles a policy. envs is the CEL environment
// set of the Kubernetes version. The policy is compiled as the apiserver
// validates a new policy (environment.NewExpressions, refusing what does
// not compile or has the wrong type) and then as its admission plugin
// compiles stored policies (environment.StoredExpressions).
func compilePolicy(p *admissionregistrationv1.ValidatingAdmissionPolicy, envs *environment.EnvSet) *compiled {
	c := &compiled{policy: p}
	if msg, path := validatePolicy(p, envs); msg != "" {
		c.invalid, c.invalidPath = msg, path
		return c
	}
	hasParam := p.Spec.ParamKind != nil
	withAuthz := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: true}
	noAuthz := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: false}
	comp, err := plugincel.NewCompositedCompiler(envs)
	if err != nil {
		c.invalid = err.Error()
		return c
	}
	comp.CompileAndStoreVariables(variables(p.Spec.Variables), withAuthz, environment.StoredExpressions)
	if n := len(p.Spec.MatchConditions); n > 0 {
		acc := make([]plugincel.ExpressionAccessor, n)
		for i := range p.Spec.MatchConditions {
			acc[i] = (*matchconditions.MatchCondition)(&p.Spec.MatchConditions[i])
		}
		c.matcher = matchconditions.NewMatcher(comp.CompileCondition(acc, withAuthz, environment.StoredExpressions), p.Spec.FailurePolicy, "policy", "validate", p.Name)
		c.hasMatchCond = true
	}
	vals := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	msgs := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	for i, v := range p.Spec.Validations {
		vals[i] = &validationCond{v}
		if v.MessageExpression != "" {
			msgs[i] = &messageCond{v.MessageExpression}
		}
	}
	audits := make([]plugincel.ExpressionAccessor, len(p.Spec.AuditAnnotations))
	for i, a := range p.Spec.AuditAnnotations {
		audits[i] = &auditCond{a}
	}
	c.validations = comp.CompileCondition(vals, withAuthz, environment.StoredExpressions)
	c.messages = comp.CompileCondition(msgs, noAuthz, environment.StoredExpressions)
	c.audits = comp.CompileCondition(audits, withAuthz, environment.StoredExpressions)
	return c
}

// validatePolicy is the part of the apiserver's validation of a new
// policy that decides whether it exists at all: required fields,
// selectors, and every CEL expression compiling to its type. It returns
// the apiserver's refusal and the field it names.
func validatePolicy(p *admissionregistrationv1.ValidatingAdmissionPolicy, envs *environment.EnvSet) (string, []string) {
	refuse := func(path []string, err *field.Error) (string, []string) {
		return apierrors.NewInvalid(schema.GroupKind{Group: groupName, Kind: kindPolicy}, p.Name, field.ErrorList{err}).Error(), path
	}
	spec := field.NewPath("spec")
	if p.Spec.MatchConstraints == nil {
		return refuse([]string{"spec"}, field.Required(spec.Child("matchConstraints"), ""))
	}
	if len(p.Spec.MatchConstraints.ResourceRules) == 0 {
		return refuse([]string{"spec", "matchConstraints"}, field.Required(spec.Child("matchConstraints", "resourceRules"), ""))
	}
	if len(p.Spec.Validations) == 0 && len(p.Spec.AuditAnnotations) == 0 {
		return refuse([]string{"spec"}, field.Required(spec.Child("validations"), "validations or auditAnnotations must contain at least one item"))
	}
	for _, sel := range []struct {
		name string
		s    *metav1.LabelSelector
	}{{"namespaceSelector", p.Spec.MatchConstraints.NamespaceSelector}, {"objectSelector", p.Spec.MatchConstraints.ObjectSelector}} {
		if _, err := metav1.LabelSelectorAsSelector(sel.s); err != nil {
			return refuse([]string{"spec", "matchConstraints", sel.name}, field.Invalid(spec.Child("matchConstraints", sel.name), sel.s.String(), err.Error()))
		}
	}
	if pk := p.Spec.ParamKind; pk != nil {
		if _, err := schema.ParseGroupVersion(pk.APIVersion); err != nil || pk.Kind == "" {
			return refuse([]string{"spec", "paramKind"}, field.Invalid(spec.Child("paramKind"), pk.String(), "apiVersion and kind must name a kind"))
		}
	}
	comp, err := plugincel.NewCompositedCompiler(envs)
	if err != nil {
		return err.Error(), []string{"spec"}
	}
	hasParam := p.Spec.ParamKind != nil
	withAuthz := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: true}
	noAuthz := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: false}
	check := func(path []string, fp *field.Path, expr string, acc plugincel.ExpressionAccessor, opts plugincel.OptionalVariableDeclarations) (string, []string) {
		res := comp.CompileCELExpression(acc, opts, environment.NewExpressions)
		if res.Error != nil {
			return refuse(path, field.Invalid(fp, expr, res.Error.Detail))
		}
		return "", nil
	}
	for i, v := range p.Spec.Variables {
		fp := spec.Child("variables").Index(i).Child("expression")
		if v.Name == "" {
			return refuse([]string{"spec", "variables", fmt.Sprint(i)}, field.Required(spec.Child("variables").Index(i).Child("name"), ""))
		}
		res := comp.CompileAndStoreVariable(&variable{v}, withAuthz, environment.NewExpressions)
		if res.Error != nil {
			return refuse([]string{"spec", "variables", fmt.Sprint(i), "expression"}, field.Invalid(fp, v.Expression, res.Error.Detail))
		}
	}
	for i := range p.Spec.MatchConditions {
		mc := &p.Spec.MatchConditions[i]
		if msg, path := check([]string{"spec", "matchConditions", fmt.Sprint(i), "expression"}, spec.Child("matchConditions").Index(i).Child("expression"), mc.Expression, (*matchconditions.MatchCondition)(mc), withAuthz); msg != "" {
			return msg, path
		}
	}
	for i, v := range p.Spec.Validations {
		at := spec.Child("validations").Index(i)
		idx := fmt.Sprint(i)
		if strings.TrimSpace(v.Expression) == "" {
			return refuse([]string{"spec", "validations", idx}, field.Required(at.Child("expression"), "expression is not specified"))
		}
		if msg, path := check([]string{"spec", "validations", idx, "expression"}, at.Child("expression"), v.Expression, &validationCond{v}, withAuthz); msg != "" {
			return msg, path
		}
		if v.MessageExpression != "" {
			if msg, path := check([]string{"spec", "validations", idx, "messageExpression"}, at.Child("messageExpression"), v.MessageExpression, &messageCond{v.MessageExpression}, noAuthz); msg != "" {
				return msg, path
			}
		}
	}
	for i, a := range p.Spec.AuditAnnotations {
		at := spec.Child("auditAnnotations").Index(i).Child("valueExpression")
		if msg, path := check([]string{"spec", "auditAnnotations", fmt.Sprint(i), "valueExpression"}, at, a.ValueExpression, &auditCond{a}, withAuthz); msg != "" {
			return msg, path
		}
	}
	return "", nil
}

// validateBinding is the apiserver's validation of a new binding, as far
// as it decides whether the binding exists.
func validateBinding(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) (string, []string) {
	refuse := func(path []string, err *field.Error) (string, []string) {
		return apierrors.NewInvalid(schema.GroupKind{Group: groupName, Kind: kindBinding}, b.Name, field.ErrorList{err}).Error(), path
	}
	spec := field.NewPath("spec")
	if b.Spec.PolicyName == "" {
		return refuse([]string{"spec"}, field.Required(spec.Child("policyName"), ""))
	}
	if len(b.Spec.ValidationActions) == 0 {
		return refuse([]string{"spec"}, field.Required(spec.Child("validationActions"), ""))
	}
	seen := map[admissionregistrationv1.ValidationAction]bool{}
	for i, a := range b.Spec.ValidationActions {
		at := spec.Child("validationActions").Index(i)
		switch a {
		case admissionregistrationv1.Deny, admissionregistrationv1.Warn, admissionregistrationv1.Audit:
		default:
			return refuse([]string{"spec", "validationActions", fmt.Sprint(i)}, field.NotSupported(at, a, []string{"Audit", "Deny", "Warn"}))
		}
		if seen[a] {
			return refuse([]string{"spec", "validationActions", fmt.Sprint(i)}, field.Duplicate(at, a))
		}
		seen[a] = true
	}
	if seen[admissionregistrationv1.Deny] && seen[admissionregistrationv1.Warn] {
		return refuse([]string{"spec", "validationActions"}, field.Invalid(spec.Child("validationActions"), b.Spec.ValidationActions, "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
	}
	if r := b.Spec.ParamRef; r != nil {
		if (r.Name == "") == (r.Selector == nil) {
			return refuse([]string{"spec", "paramRef"}, field.Forbidden(spec.Child("paramRef"), "one of name or selector must be specified"))
		}
		if r.Selector != nil {
			if _, err := metav1.LabelSelectorAsSelector(r.Selector); err != nil {
				return refuse([]string{"spec", "paramRef", "selector"}, field.Invalid(spec.Child("paramRef", "selector"), r.Selector.String(), err.Error()))
			}
		}
	}
	if m := b.Spec.MatchResources; m != nil {
		for _, sel := range []struct {
			name string
			s    *metav1.LabelSelector
		}{{"namespaceSelector", m.NamespaceSelector}, {"objectSelector", m.ObjectSelector}} {
			if _, err := metav1.LabelSelectorAsSelector(sel.s); err != nil {
				return refuse([]string{"spec", "matchResources", sel.name}, field.Invalid(spec.Child("matchResources", sel.name), sel.s.String(), err.Error()))
			}
		}
	}
	return "", nil
}
