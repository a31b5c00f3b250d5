package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"

	celtypes "github.com/google/cel-go/common/types"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	apiservercel "k8s.io/apiserver/pkg/cel"
)

// decision is one outcome of evaluating a policy through a binding for
// one object and one param: a failed validation (index into the policy's
// validations, -1 for anything else), or an error the failure policy
// turned into a denial.
type decision struct {
	validation int
	message    string
	// always: the denial stands whatever the binding's validationActions
	// (configuration errors and audit annotation errors, which the
	// apiserver adds to its denials directly).
	always bool
	// expr is the expression the decision is about, for its position.
	expr string
}

// maxMessageBytes is the longest messageExpression result the apiserver
// keeps (celconfig.MaxEvaluatedMessageExpressionSizeBytes).
const maxMessageBytes = celconfig.MaxEvaluatedMessageExpressionSizeBytes

// evaluate runs one compiled policy through one binding on an object,
// with one param (nil without params), as the apiserver's validator
// does: matchConditions first, then every validation with its message,
// then the audit annotations, each error decided by the failure policy.
func evaluate(ctx context.Context, c *compiled, va *admission.VersionedAttributes, gvr schema.GroupVersionResource, param runtime.Object, ns *corev1.Namespace, az authorizer.UnconditionalAuthorizer) []decision {
	fail := c.policy.Spec.FailurePolicy == nil || *c.policy.Spec.FailurePolicy == admissionregistrationv1.Fail
	onError := func(msg, expr string) []decision {
		if !fail {
			return nil
		}
		return []decision{{validation: -1, message: msg, expr: expr}}
	}
	if c.matcher != nil {
		r := c.matcher.Match(ctx, va, param, az)
		if r.Error != nil {
			return onError(r.Error.Error(), "")
		}
		if !r.Matches {
			return nil
		}
	}
	req := plugincel.CreateAdmissionRequest(va.Attributes, metav1.GroupVersionResource(gvr), metav1.GroupVersionKind(va.VersionedKind))
	nsObj := plugincel.CreateNamespaceObject(ns)
	results, remaining, err := c.validations.ForInput(ctx, va, req, plugincel.OptionalVariableBindings{VersionedParams: param, Authorizer: az}, nsObj, celconfig.RuntimeCELCostBudget)
	if err != nil {
		return onError(err.Error(), "")
	}
	messages, _, msgErr := c.messages.ForInput(ctx, va, req, plugincel.OptionalVariableBindings{VersionedParams: param}, nsObj, remaining)
	var out []decision
	for i, r := range results {
		v := c.policy.Spec.Validations[i]
		switch {
		case r.Error != nil:
			out = append(out, onError(r.Error.Error(), v.Expression)...)
		case errors.Is(msgErr, apiservercel.ErrInternal) || errors.Is(msgErr, apiservercel.ErrOutOfBudget):
			out = append(out, onError(fmt.Sprintf("failed messageExpression: %s", msgErr), v.MessageExpression)...)
		case r.EvalResult != celtypes.True:
			msg := ""
			if i < len(messages) && messages[i].Error == nil && messages[i].EvalResult != nil {
				if s, ok := messages[i].EvalResult.Value().(string); ok {
					s = strings.TrimSpace(s)
					// The apiserver drops an overlong or multi-line
					// message and falls back.
					if len(s) <= maxMessageBytes && !strings.Contains(s, "\n") {
						msg = s
					}
				}
			}
			if msg == "" {
				msg = strings.TrimSpace(v.Message)
			}
			if msg == "" {
				msg = "failed expression: " + strings.TrimSpace(v.Expression)
			}
			out = append(out, decision{validation: i, message: msg, expr: v.Expression})
		}
	}
	audits, _, err := c.audits.ForInput(ctx, va, req, plugincel.OptionalVariableBindings{VersionedParams: param}, ns, celconfig.RuntimeCELCostBudget)
	if err != nil {
		return append(out, markAlways(onError(err.Error(), ""))...)
	}
	for i, r := range audits {
		if r.ExpressionAccessor == nil {
			continue
		}
		expr := c.policy.Spec.AuditAnnotations[i].ValueExpression
		switch {
		case r.Error != nil:
			out = append(out, markAlways(onError(r.Error.Error(), expr))...)
		case r.EvalResult.Type() != celtypes.StringType && r.EvalResult.Type() != celtypes.NullType:
			out = append(out, markAlways(onError(fmt.Sprintf("valueExpression '%v' resulted in unsupported return type: %v. Return type must be either string or null.", expr, r.EvalResult.Type()), expr))...)
		}
	}
	return out
}

func markAlways(ds []decision) []decision {
	for i := range ds {
		ds[i].always = true
	}
	return ds
}
