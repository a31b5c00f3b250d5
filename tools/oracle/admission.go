package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/admission"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// sentinelName names the policy, binding and ConfigMap that tell when the
// apiserver enforces the policies applied before them: policies become
// effective asynchronously (the admission plugin's informers), in the
// order they were created.
const sentinelName = "gitops-lint-oracle-sentinel"

// keeperName names the policy that keeps the ConfigMap param informer
// running for the whole run (installPolicies).
const keeperName = "gitops-lint-oracle-keeper"

func isAdmissionKind(o map[string]any) bool {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	return av == "admissionregistration.k8s.io/v1" && (k == "ValidatingAdmissionPolicy" || k == "ValidatingAdmissionPolicyBinding")
}

// installPolicies applies, as admin, the environment's params (the
// objects of every policy's paramKind), policies and bindings, records
// the apiserver's refusals against admission/invalid-policy, then waits
// for the sentinel. It returns what it applied, to remove later.
func (r *Replayer) installPolicies(ctx context.Context, repo Repo, e *render.Environment, lint map[string][]finding.Finding, er *EnvResult) ([]map[string]any, error) {
	var policies, bindings []*render.Object
	paramKinds := map[string]bool{}
	for _, k := range e.Kustomizations {
		for _, o := range k.Objects {
			if !isAdmissionKind(o.Content) {
				continue
			}
			if o.Kind() == "ValidatingAdmissionPolicy" {
				policies = append(policies, o)
				if pk, ok := nested(o.Content, "spec", "paramKind").(map[string]any); ok {
					av, _ := pk["apiVersion"].(string)
					kind, _ := pk["kind"].(string)
					paramKinds[group(av)+"/"+kind] = true
				}
			} else {
				bindings = append(bindings, o)
			}
		}
	}
	if len(policies) == 0 {
		return nil, nil
	}
	var applied []map[string]any
	for _, k := range e.Kustomizations {
		for _, o := range k.Objects {
			if paramKinds[group(o.APIVersion())+"/"+o.Kind()] {
				if err := r.applyAdmin(ctx, o.Content); err != nil {
					r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: param %s: %v", repo.Name, e.Name, describe(o.Content), err))
					continue
				}
				applied = append(applied, o.Content)
			}
		}
	}
	// Policies before bindings, the sentinel last.
	for _, o := range append(slices.Clone(policies), bindings...) {
		er.Policies++
		resp, err := r.c.Apply(ctx, clean(o.Content), adminManager, false, "", nil)
		if err != nil {
			return applied, err
		}
		_, msg := resp.Status()
		refused := resp.Code < 200 || resp.Code >= 300
		if !refused {
			applied = append(applied, o.Content)
		} else {
			er.Refused++
		}
		// gitops-lint's verdict on the policy object itself.
		var invalid []string
		for _, k := range e.Kustomizations {
			key := objKey(e.Name, k.ID(), o.APIVersion(), o.Kind(), o.Namespace(), o.Name())
			for _, f := range lint[key] {
				if f.Rule == admission.RuleInvalidPolicy.ID {
					invalid = append(invalid, f.Message)
				}
			}
		}
		where := repo.Name + "/" + e.Name
		switch {
		case refused && !slices.Contains(invalid, msg):
			r.Diffs = append(r.Diffs, Disagreement{Where: where, Object: describe(o.Content), Aspect: "admission (policy refused)", Apiserver: fmt.Sprintf("%d %s", resp.Code, msg), Lint: firstNonEmpty(strings.Join(invalid, "; "), "accepted")})
		case !refused && len(invalid) > 0:
			r.Diffs = append(r.Diffs, Disagreement{Where: where, Object: describe(o.Content), Aspect: "admission (policy refused)", Apiserver: "created", Lint: strings.Join(invalid, "; ")})
		}
	}
	// A keeper policy with a ConfigMap param stays for the whole run: the
	// apiserver stops its ConfigMap param informer when the last policy
	// using that kind goes, and one started again may never sync ("no
	// params found" for params that exist), so the informer never stops.
	if !r.keeper {
		keeper := []map[string]any{
			{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": keeperName, "namespace": "default"}, "data": map[string]any{"keep": "on"}},
			{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": map[string]any{"name": keeperName},
				"spec": map[string]any{
					"failurePolicy":    "Ignore",
					"paramKind":        map[string]any{"apiVersion": "v1", "kind": "ConfigMap"},
					"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE"}, "resources": []any{"configmaps"}}}},
					"matchConditions":  []any{map[string]any{"name": "keeper", "expression": "object.metadata.name == '" + keeperName + "-never'"}},
					"validations":      []any{map[string]any{"expression": "true"}},
				}},
			{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": map[string]any{"name": keeperName},
				"spec": map[string]any{"policyName": keeperName, "validationActions": []any{"Deny"},
					"paramRef": map[string]any{"name": keeperName, "namespace": "default", "parameterNotFoundAction": "Allow"}}},
		}
		for _, o := range keeper {
			if err := r.applyAdmin(ctx, o); err != nil {
				return applied, fmt.Errorf("keeper %s: %w", describe(o), err)
			}
		}
		r.keeper = true
	}
	// Each environment has a sentinel of its own name: a policy deleted
	// and created again under one name may keep a param informer that no
	// longer syncs, so the same name never passes for a new one.
	r.sentinelN++
	sentinelName := fmt.Sprintf("%s-%d", sentinelName, r.sentinelN)
	sentinelParam := sentinelName + "-param"
	r.sentinel = sentinelName
	// The sentinel reads a ConfigMap param created after every other param:
	// its denial ("denied request: sentinel") also says that the apiserver's
	// ConfigMap param informer has seen them all (else "no params found").
	sentinel := []map[string]any{
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": sentinelParam, "namespace": "default"},
			"data": map[string]any{"sentinel": "on"}},
		{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": map[string]any{"name": sentinelName},
			"spec": map[string]any{
				"failurePolicy":    "Fail",
				"paramKind":        map[string]any{"apiVersion": "v1", "kind": "ConfigMap"},
				"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE", "UPDATE"}, "resources": []any{"configmaps"}}}},
				"matchConditions":  []any{map[string]any{"name": "sentinel", "expression": "object.metadata.name == '" + sentinelName + "'"}},
				"validations":      []any{map[string]any{"expression": "params.data.sentinel != 'on'", "message": "sentinel"}},
			}},
		{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": map[string]any{"name": sentinelName},
			"spec": map[string]any{"policyName": sentinelName, "validationActions": []any{"Deny"},
				"paramRef": map[string]any{"name": sentinelParam, "namespace": "default", "parameterNotFoundAction": "Deny"}}},
	}
	for _, o := range sentinel {
		if err := r.applyAdmin(ctx, o); err != nil {
			return applied, fmt.Errorf("sentinel %s: %w", describe(o), err)
		}
		applied = append(applied, o)
	}
	probe := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": sentinelName, "namespace": "default"}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := r.c.Apply(ctx, probe, adminManager, true, "", nil)
		if err != nil {
			return applied, err
		}
		_, msg := resp.Status()
		if policyDenied(resp.Code, msg) && strings.Contains(msg, "'"+sentinelName+"'") && strings.Contains(msg, "denied request: sentinel") {
			break
		}
		if time.Now().After(deadline) {
			return applied, fmt.Errorf("the sentinel policy was not enforced within a minute (last answer: %d %s)", resp.Code, msg)
		}
		select {
		case <-ctx.Done():
			return applied, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return applied, nil
}

// removePolicies deletes what installPolicies applied, bindings first and
// the sentinel last, then waits until the sentinel no longer denies its
// probe: the apiserver's policy and binding informers have then seen every
// deletion before it, so the next environment's replay meets none of
// these policies (without the wait, a sentinel of the same name still
// cached could pass for the next one's, and its policies meet objects they
// do not judge).
func (r *Replayer) removePolicies(ctx context.Context, repo Repo, e *render.Environment, applied []map[string]any) {
	sentinelName := r.sentinel
	var sentinel []map[string]any
	for i := len(applied) - 1; i >= 0; i-- {
		if md, _ := applied[i]["metadata"].(map[string]any); md["name"] == sentinelName {
			sentinel = append(sentinel, applied[i])
			continue
		}
		if err := r.c.Delete(ctx, applied[i]); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: remove %s: %v", repo.Name, e.Name, describe(applied[i]), err))
		}
	}
	for _, o := range sentinel {
		if err := r.c.Delete(ctx, o); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: remove %s: %v", repo.Name, e.Name, describe(o), err))
		}
	}
	if len(sentinel) == 0 {
		return
	}
	probe := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": sentinelName, "namespace": "default"}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := r.c.Apply(ctx, probe, adminManager, true, "", nil)
		if err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: waiting for the policies to go: %v", repo.Name, e.Name, err))
			return
		}
		if _, msg := resp.Status(); !(policyDenied(resp.Code, msg) && strings.Contains(msg, "'"+sentinelName+"'")) {
			return
		}
		if time.Now().After(deadline) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: the sentinel policy was still enforced a minute after its removal", repo.Name, e.Name))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// compareAdmission compares the apiserver's admission answer for an object
// that passed authorization and validation with gitops-lint's admission
// findings: a denial must be one of gitops-lint's errors, word for word
// (the apiserver reports the first, gitops-lint each); an admitted object
// must have no admission error, and the apiserver's policy warnings must be
// gitops-lint's warnings. Audit has no answer to compare. It returns ""
// when they agree, else gitops-lint's side.
func (r *Replayer) compareAdmission(resp Response, denied bool, msg string, fs []finding.Finding, er *EnvResult) string {
	var errs, warns []string
	for _, f := range fs {
		if !strings.HasPrefix(f.Rule, admission.PolicyRulePrefix) || f.Rule == admission.RuleInvalidPolicy.ID {
			continue
		}
		switch f.Severity {
		case finding.Error:
			errs = append(errs, f.Message)
		case finding.Warning:
			warns = append(warns, f.Message)
		}
	}
	lint := "errors: [" + strings.Join(errs, " | ") + "] warnings: [" + strings.Join(warns, " | ") + "]"
	if denied {
		er.AdmissionDenied++
		if slices.Contains(errs, msg) {
			return ""
		}
		return lint
	}
	var apiWarns []string
	for _, w := range resp.Warnings {
		if strings.HasPrefix(w, "Validation failed for ValidatingAdmissionPolicy") {
			apiWarns = append(apiWarns, w)
		}
	}
	if len(apiWarns) > 0 {
		er.AdmissionWarned++
	}
	slices.Sort(apiWarns)
	slices.Sort(warns)
	if len(errs) == 0 && slices.Equal(apiWarns, warns) {
		return ""
	}
	return lint
}

func admissionString(resp Response, denied bool, msg string) string {
	if denied {
		return "denied: " + msg
	}
	return fmt.Sprintf("admitted (%d), warnings: [%s]", resp.Code, strings.Join(resp.Warnings, " | "))
}

func nested(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// policyDenied tells a ValidatingAdmissionPolicy's denial: the apiserver
// answers it with the reason of the validation (422 Invalid by default,
// 403 for reason: Forbidden …) and its own wording.
func policyDenied(code int, msg string) bool {
	return code >= 400 && code < 500 && strings.Contains(msg, "ValidatingAdmissionPolicy '") && strings.Contains(msg, "denied request: ")
}
