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
	policy      *admissionregistrationv1.ValidatingAdmissionPolicy
	validations plugincel.ConditionEvaluator
	messages    plugincel.ConditionEvaluator
	audits      plugincel.ConditionEvaluator
	matcher     matchconditions.Matcher
	// invalid is the apiserver's refusal of the policy ("" when it is
	// created), and invalidPath the field it names.
	invalid     string
	invalidPath []string
}

// compilers are the CEL compilers of a run: the apiserver's environment
// set of the Kubernetes version, and one compiler over it shared by every
// policy without variables (building a compiler's environments is what
// compiling a policy costs most; a policy with variables needs a
// composited compiler of its own, which stores them).
type compilers struct {
	envs  *environment.EnvSet
	plain plugincel.Compiler
	err   string // the environment could not be built
}

// compilePolicy checks and compiles a policy, once, as the apiserver
// validates a new policy (environment.NewExpressions: what does not
// compile or has the wrong type refuses the policy); the programs it
// compiled are the ones evaluated (the stored-expression environment the
// admission plugin compiles with accepts everything the new-expression one
// does, the same way).
func compilePolicy(p *admissionregistrationv1.ValidatingAdmissionPolicy, cs *compilers) *compiled {
	c := &compiled{policy: p}
	refuse := func(path []string, err *field.Error) *compiled {
		c.invalid = apierrors.NewInvalid(schema.GroupKind{Group: groupName, Kind: kindPolicy}, p.Name, field.ErrorList{err}).Error()
		c.invalidPath = path
		return c
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
	hasParam := p.Spec.ParamKind != nil
	withAuthz := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: true}
	noAuthz := plugincel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: false}

	var comp *plugincel.CompositedCompiler
	compile := cs.plain.CompileCELExpression
	if usesVariables(p) {
		var err error
		if comp, err = plugincel.NewCompositedCompiler(cs.envs); err != nil {
			c.invalid = err.Error()
			return c
		}
		compile = comp.CompileCELExpression
		for i, v := range p.Spec.Variables {
			if v.Name == "" {
				return refuse([]string{"spec", "variables", fmt.Sprint(i)}, field.Required(spec.Child("variables").Index(i).Child("name"), ""))
			}
			res := comp.CompileAndStoreVariable(&variable{v}, withAuthz, environment.NewExpressions)
			if res.Error != nil {
				return refuse([]string{"spec", "variables", fmt.Sprint(i), "expression"}, field.Invalid(spec.Child("variables").Index(i).Child("expression"), shown(v.Expression), res.Error.Detail))
			}
		}
	}
	// condition compiles expressions, stopping at the first refusal; a nil
	// accessor is a placeholder (a validation without messageExpression).
	type expr struct {
		acc  plugincel.ExpressionAccessor
		path []string
		fp   *field.Path
	}
	var bad *compiled
	condition := func(exprs []expr, opts plugincel.OptionalVariableDeclarations) plugincel.ConditionEvaluator {
		results := make([]plugincel.CompilationResult, len(exprs))
		for i, e := range exprs {
			if e.acc == nil || bad != nil {
				continue
			}
			results[i] = compile(e.acc, opts, environment.NewExpressions)
			if results[i].Error != nil {
				bad = refuse(e.path, field.Invalid(e.fp, shown(e.acc.GetExpression()), results[i].Error.Detail))
			}
		}
		if comp != nil {
			// With variables, evaluation needs the composition context
			// the composited compiler's evaluators carry.
			accs := make([]plugincel.ExpressionAccessor, len(exprs))
			for i, e := range exprs {
				accs[i] = e.acc
			}
			return comp.CompileCondition(accs, opts, environment.NewExpressions)
		}
		return plugincel.NewCondition(results)
	}
	var conds, vals, msgs, audits []expr
	for i := range p.Spec.MatchConditions {
		mc := &p.Spec.MatchConditions[i]
		at := spec.Child("matchConditions").Index(i).Child("expression")
		conds = append(conds, expr{(*matchconditions.MatchCondition)(mc), []string{"spec", "matchConditions", fmt.Sprint(i), "expression"}, at})
	}
	for i, v := range p.Spec.Validations {
		at := spec.Child("validations").Index(i)
		idx := fmt.Sprint(i)
		if strings.TrimSpace(v.Expression) == "" {
			return refuse([]string{"spec", "validations", idx}, field.Required(at.Child("expression"), "expression is not specified"))
		}
		vals = append(vals, expr{&validationCond{v}, []string{"spec", "validations", idx, "expression"}, at.Child("expression")})
		m := expr{path: []string{"spec", "validations", idx, "messageExpression"}, fp: at.Child("messageExpression")}
		if v.MessageExpression != "" {
			m.acc = &messageCond{v.MessageExpression}
		}
		msgs = append(msgs, m)
	}
	for i, a := range p.Spec.AuditAnnotations {
		audits = append(audits, expr{&auditCond{a}, []string{"spec", "auditAnnotations", fmt.Sprint(i), "valueExpression"}, spec.Child("auditAnnotations").Index(i).Child("valueExpression")})
	}
	if len(conds) > 0 {
		c.matcher = matchconditions.NewMatcher(condition(conds, withAuthz), p.Spec.FailurePolicy, "policy", "validate", p.Name)
	}
	c.validations = condition(vals, withAuthz)
	c.messages = condition(msgs, noAuthz)
	c.audits = condition(audits, withAuthz)
	if bad != nil {
		return bad
	}
	return c
}

// usesVariables reports whether a policy needs the composited compiler:
// it declares variables, or an expression names them (and must then fail
// as the apiserver fails it).
func usesVariables(p *admissionregistrationv1.ValidatingAdmissionPolicy) bool {
	if len(p.Spec.Variables) > 0 {
		return true
	}
	mentions := func(s string) bool { return strings.Contains(s, "variables") }
	for _, m := range p.Spec.MatchConditions {
		if mentions(m.Expression) {
			return true
		}
	}
	for _, v := range p.Spec.Validations {
		if mentions(v.Expression) || mentions(v.MessageExpression) {
			return true
		}
	}
	for _, a := range p.Spec.AuditAnnotations {
		if mentions(a.ValueExpression) {
			return true
		}
	}
	return false
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

// maxShown is the longest expression a refusal quotes whole: the apiserver
// quotes it all, but a hostile one (the parser refuses more than 100,000
// code points) would fill the report.
const maxShown = 1024

func shown(expr string) string {
	if len(expr) <= maxShown {
		return expr
	}
	return fmt.Sprintf("%s… (%d more bytes)", strings.ToValidUTF8(expr[:maxShown], ""), len(expr)-maxShown)
}
