package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/admission"
	"github.com/gitops-lint/gitops-lint/internal/catalog"
	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/rbacsim"
	"github.com/gitops-lint/gitops-lint/internal/render"
	"github.com/gitops-lint/gitops-lint/internal/schema"
)

const adminManager = "gitops-lint-oracle"

// Repo is one repository to replay.
type Repo struct {
	Name    string
	Root    string
	Sources map[string]string
}

// EnvResult is the agreement of one environment.
type EnvResult struct {
	Repo, Env                           string
	Objects, Agree, Disagree, Uncertain int
	// What the apiserver answered: denied (403 or a denied get), of which
	// escalations, invalid (422/400, or apiVersion/kind not served).
	Denied, Escalation, Invalid, PruneChecked int
	// Admission: the policies and bindings applied (Refused: of them, the
	// ones the apiserver refused to create), and the objects a policy
	// denied or warned about (admission.go).
	Policies, Refused, AdmissionDenied, AdmissionWarned int
}

// Disagreement is one object both sides judged differently.
type Disagreement struct {
	Where     string // repo/env/kustomization
	Object    string
	Aspect    string // rbac, schema, prune
	Apiserver string
	Lint      string
}

// Replayer holds the cluster client and gitops-lint's checkers.
type Replayer struct {
	c      *Client
	rbac   *rbacsim.Checker
	schema *schema.Checker
	adm    *admission.Checker
	logf   func(string, ...any)
	syncN  int
	// sentinelN numbers the admission sentinels; sentinel is the current
	// one's name (admission.go).
	sentinelN int
	sentinel  string
	keeper    bool // the keeper policy is installed
	Results   []EnvResult
	Diffs     []Disagreement
	Unsure    []Disagreement // the apiserver's answer did not decide
	Wording   []Disagreement // forbidden messages worded differently
	Warnings  []string
	// unknownKinds holds "env|kustomization|apiVersion|kind" of every
	// schema/unknown-kind finding: gitops-lint reports a kind once per
	// Kustomization, and that finding stands for all its objects.
	unknownKinds map[string]bool
}

func NewReplayer(c *Client, logf func(string, ...any)) (*Replayer, error) {
	rc, err := rbacsim.Load(rbacsim.Options{})
	if err != nil {
		return nil, err
	}
	sc, err := schema.Load(schema.Options{KubernetesVersion: strings.TrimPrefix(KubeVersion[:strings.LastIndex(KubeVersion, ".")], "v")})
	if err != nil {
		return nil, err
	}
	ac, err := admission.Load(admission.Options{KubernetesVersion: strings.TrimPrefix(KubeVersion[:strings.LastIndex(KubeVersion, ".")], "v")})
	if err != nil {
		return nil, err
	}
	return &Replayer{c: c, rbac: rc, schema: sc, adm: ac, logf: logf}, nil
}

func objKey(env, k, apiVersion, kind, ns, name string) string {
	return strings.Join([]string{env, k, apiVersion, kind, ns, name}, "|")
}

// Replay renders and replays one repository.
func (r *Replayer) Replay(ctx context.Context, repo Repo) error {
	res, err := render.Render(ctx, render.Options{Root: repo.Root, Sources: repo.Sources})
	if err != nil {
		return fmt.Errorf("render %s: %w", repo.Name, err)
	}
	var fs []finding.Finding
	fs = append(fs, r.rbac.Check(ctx, res)...)
	fs = append(fs, r.schema.Check(ctx, res)...)
	fs = append(fs, r.adm.Check(ctx, res)...)
	lint := map[string][]finding.Finding{}
	r.unknownKinds = map[string]bool{}
	for _, f := range fs {
		if f.Rule == schema.RuleUnknownKind.ID && f.Object != nil {
			r.unknownKinds[f.Environment+"|"+f.Kustomization+"|"+f.Object.APIVersion+"|"+f.Object.Kind] = true
		}
		if f.Rule == rbacsim.RuleIdentityOutsideGit.ID {
			// gitops-lint does not simulate this identity: its RBAC is
			// granted outside git, so there is no verdict to compare.
			lint[outsideKey(f.Environment, f.Kustomization)] = nil
			continue
		}
		if f.Object == nil {
			continue
		}
		key := objKey(f.Environment, f.Kustomization, f.Object.APIVersion, f.Object.Kind, f.Object.Namespace, f.Object.Name)
		lint[key] = append(lint[key], f)
	}
	for _, e := range res.Environments {
		if err := r.replayEnv(ctx, repo, e, lint); err != nil {
			return fmt.Errorf("%s/%s: %w", repo.Name, e.Name, err)
		}
	}
	return nil
}

func isRBAC(o map[string]any) bool {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	return strings.HasPrefix(av, "rbac.authorization.k8s.io/") && (k == "Role" || k == "ClusterRole" || k == "RoleBinding" || k == "ClusterRoleBinding")
}

func isBinding(o map[string]any) bool {
	k, _ := o["kind"].(string)
	return isRBAC(o) && (k == "RoleBinding" || k == "ClusterRoleBinding")
}

func isCRD(o map[string]any) bool {
	av, _ := o["apiVersion"].(string)
	k, _ := o["kind"].(string)
	return strings.HasPrefix(av, "apiextensions.k8s.io/") && k == "CustomResourceDefinition"
}

func nsObj(name string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}
}

var fluxReconciler = rbacsim.FluxReconcilerBinding()

// applyAdmin applies obj for real as admin.
func (r *Replayer) applyAdmin(ctx context.Context, obj map[string]any) error {
	resp, err := r.c.Apply(ctx, clean(obj), adminManager, false, "", nil)
	if err != nil {
		return err
	}
	if resp.Code >= 300 || resp.Code == 0 {
		_, msg := resp.Status()
		return fmt.Errorf("%d %s", resp.Code, msg)
	}
	return nil
}

// clean drops the fields an apply must not carry, and the SOPS metadata
// kustomize-controller removes when it decrypts a Secret (gitops-lint
// reports an undecrypted one as render/not-decrypted, before any apply).
func clean(obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if k != "status" && k != "sops" {
			out[k] = v
		}
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		m := map[string]any{}
		for k, v := range md {
			if k != "resourceVersion" && k != "uid" && k != "creationTimestamp" && k != "managedFields" {
				m[k] = v
			}
		}
		out["metadata"] = m
	}
	return out
}

func describe(o map[string]any) string {
	k, _ := o["kind"].(string)
	md, _ := o["metadata"].(map[string]any)
	n, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if ns != "" {
		return k + "/" + ns + "/" + n
	}
	return k + "/" + n
}

func (r *Replayer) replayEnv(ctx context.Context, repo Repo, e *render.Environment, lint map[string][]finding.Finding) error {
	start := time.Now()
	// 1. Preload CRDs, Namespaces, ServiceAccounts and RBAC as admin.
	var crds, rbac []map[string]any
	fluxCRDs, err := catalog.FluxCRDs()
	if err != nil {
		return err
	}
	fc, err := decodeStream(fluxCRDs)
	if err != nil {
		return err
	}
	// As gitops-lint does: the embedded Flux CRDs with the Flux Operator's
	// patch to notification-controller's kinds (docs/flux-operator.md).
	crds = append(crds, schema.WithOperatorPatch(fc)...)
	namespaces := map[string]bool{"flux-system": true}
	// The rendered Namespaces are applied as written (their labels are
	// what admission policies' namespaceSelectors match).
	nsObjects := map[string]map[string]any{}
	sas := map[identity.Identity]bool{{Namespace: "flux-system", Name: "kustomize-controller"}: true}
	ownReconciler := false
	for _, k := range e.Kustomizations {
		namespaces[k.Namespace] = true
		if id, ok := identity.Of(e, k); ok {
			sas[id] = true
		}
		for _, o := range k.Objects {
			if ns := o.Namespace(); ns != "" {
				namespaces[ns] = true
			}
			switch {
			case isCRD(o.Content):
				crds = append(crds, o.Content)
			case o.Kind() == "Namespace" && o.APIVersion() == "v1":
				namespaces[o.Name()] = true
				nsObjects[o.Name()] = o.Content
			case isRBAC(o.Content):
				rbac = append(rbac, o.Content)
				if o.Kind() == "ClusterRoleBinding" && strings.HasPrefix(o.Name(), "cluster-reconciler") {
					ownReconciler = true
				}
			}
		}
	}
	if !ownReconciler {
		rbac = append(rbac, fluxReconciler)
	}
	for _, crd := range crds {
		if err := r.applyAdmin(ctx, crd); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: preload %s: %v", repo.Name, e.Name, describe(crd), err))
		}
	}
	if err := r.waitCRDs(ctx, crds); err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: %v", repo.Name, e.Name, err))
	}
	if err := r.c.Discover(ctx); err != nil {
		return err
	}
	nsNames := make([]string, 0, len(namespaces))
	for n := range namespaces {
		nsNames = append(nsNames, n)
	}
	sort.Strings(nsNames)
	for _, n := range nsNames {
		obj := nsObj(n)
		if o, ok := nsObjects[n]; ok {
			obj = o
		}
		if err := r.applyAdmin(ctx, obj); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: namespace %s: %v", repo.Name, e.Name, n, err))
		}
	}
	for id := range sas {
		sa := map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": id.Name, "namespace": id.Namespace}}
		if err := r.applyAdmin(ctx, sa); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: %s: %v", repo.Name, e.Name, describe(sa), err))
		}
	}
	var applied []map[string]any
	for _, o := range rbac {
		if err := r.applyAdmin(ctx, o); err != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: preload %s: %v", repo.Name, e.Name, describe(o), err))
			continue
		}
		applied = append(applied, o)
	}
	defer func() {
		// Reset: the next environment starts from the bootstrap policy.
		for _, o := range applied {
			if o["metadata"].(map[string]any)["name"] == "cluster-reconciler-flux-system" && !ownReconciler {
				continue // every environment has it
			}
			if err := r.c.Delete(ctx, o); err != nil {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: reset: %v", repo.Name, e.Name, err))
			}
		}
		_ = r.syncRBAC(ctx)
	}()
	r.waitAggregation(ctx)
	if err := r.syncRBAC(ctx); err != nil {
		return err
	}
	er := EnvResult{Repo: repo.Name, Env: e.Name}
	// 1b. The environment's admission policies, bindings and params.
	policies, err := r.installPolicies(ctx, repo, e, lint, &er)
	if err != nil {
		return err
	}
	defer r.removePolicies(ctx, repo, e, policies)

	// 2. Replay every object as the identity kustomize-controller uses.
	for _, k := range e.Kustomizations {
		id, withID := identity.Of(e, k)
		if _, outside := lint[outsideKey(e.Name, k.ID())]; outside {
			withID = false // the schema verdicts are still compared
		}
		if !withID {
			id = identity.Identity{Namespace: "flux-system", Name: "kustomize-controller"}
		}
		// gitops-lint judges a Kustomization without the bindings it
		// applies itself (on a fresh cluster they do not exist yet): take
		// them out of the cluster while its objects are replayed.
		var own []map[string]any
		if withID {
			for _, o := range k.Objects {
				if isBinding(o.Content) {
					own = append(own, o.Content)
				}
			}
		}
		for _, o := range own {
			_ = r.c.Delete(ctx, o)
		}
		if len(own) > 0 {
			if err := r.syncRBAC(ctx); err != nil {
				return err
			}
		}
		for _, o := range k.Objects {
			er.Objects++
			key := objKey(e.Name, k.ID(), o.APIVersion(), o.Kind(), o.Namespace(), o.Name())
			verdict := r.judge(ctx, repo, e, k, id, withID, o, lint[key], &er, len(policies) > 0)
			switch verdict {
			case "agree":
				er.Agree++
			case "disagree":
				er.Disagree++
			default:
				er.Uncertain++
			}
		}
		for _, o := range own {
			if err := r.applyAdmin(ctx, o); err != nil {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s/%s: restore %s: %v", repo.Name, e.Name, describe(o), err))
			}
		}
		if len(own) > 0 {
			if err := r.syncRBAC(ctx); err != nil {
				return err
			}
		}
	}
	r.Results = append(r.Results, er)
	r.logf("%s/%s: %d objects in %s", repo.Name, e.Name, er.Objects, time.Since(start).Round(time.Millisecond))
	return nil
}

// lintVerdict sums up gitops-lint's findings for one object.
type lintVerdict struct {
	rbac      string // ok, forbidden, escalation
	rbacMsg   string
	invalid   bool
	invalidAt string
	prune     bool
	unknown   bool // schema/unknown-kind
}

func summarize(fs []finding.Finding) lintVerdict {
	v := lintVerdict{rbac: "ok"}
	for _, f := range fs {
		switch f.Rule {
		case rbacsim.RuleForbidden.ID:
			v.rbac, v.rbacMsg = "forbidden", f.Message
		case rbacsim.RuleEscalation.ID:
			if v.rbac == "ok" {
				v.rbac, v.rbacMsg = "escalation", f.Message
			}
		case schema.RuleInvalid.ID, schema.RuleRemovedAPI.ID, schema.RuleDeprecatedAPI.ID:
			v.invalid = true
			if v.invalidAt == "" {
				v.invalidAt = f.Message
			}
		case admission.RuleInvalidPolicy.ID:
			// The apiserver's validation of the policy object refuses it.
			v.invalid = true
			if v.invalidAt == "" {
				v.invalidAt = f.Message
			}
		case rbacsim.RulePrune.ID:
			v.prune = true
		case schema.RuleUnknownKind.ID:
			v.unknown = true
		}
	}
	return v
}

const escalationText = "attempting to grant RBAC permissions not currently held"

// judge replays one object and compares; it returns agree, disagree or
// uncertain.
func (r *Replayer) judge(ctx context.Context, repo Repo, e *render.Environment, k *render.Kustomization, id identity.Identity, withID bool, o *render.Object, fs []finding.Finding, er *EnvResult, policies bool) string {
	where := repo.Name + "/" + e.Name + "/" + k.ID()
	what := describe(o.Content)
	lv := summarize(fs)
	resp, err := r.c.Apply(ctx, clean(o.Content), "kustomize-controller", true, id.User(), id.Groups())
	if err != nil {
		r.Unsure = append(r.Unsure, Disagreement{Where: where, Object: what, Aspect: "transport", Apiserver: err.Error(), Lint: fmt.Sprint(lv)})
		return "uncertain"
	}
	_, msg := resp.Status()
	if resp.Code == 0 {
		er.Invalid++
		// The apiserver serves no such apiVersion/kind (after this
		// environment's CRDs): it cannot apply it at all. gitops-lint
		// should say so with schema/invalid or schema/unknown-kind; RBAC
		// cannot be decided.
		if lv.invalid || lv.unknown || r.unknownKinds[e.Name+"|"+k.ID()+"|"+o.APIVersion()+"|"+o.Kind()] {
			return "agree"
		}
		r.Diffs = append(r.Diffs, Disagreement{Where: where, Object: what, Aspect: "schema (not served)", Apiserver: msg, Lint: lintString(lv)})
		return "disagree"
	}
	apiRBAC, apiRBACMsg, schemaKnown, apiInvalid := "", "", false, false
	// A policy's denial comes after authorization and validation: the
	// request passed both.
	admDenied := policyDenied(resp.Code, msg)
	switch {
	case resp.Code >= 200 && resp.Code < 300 || admDenied:
		apiRBAC, schemaKnown = "ok", true
		// kustomize-controller also reads the object before applying it.
		ri, _ := r.c.Resource(o.APIVersion(), o.Kind())
		ns := ""
		if ri.Namespaced {
			ns = o.Namespace()
			if ns == "" {
				ns = "default"
			}
		}
		ok, _, err := r.c.Access(ctx, SAR{User: id.User(), Groups: id.Groups(), Namespace: ns, Verb: "get", Group: group(o.APIVersion()), Resource: ri.Name, Name: o.Name()})
		if err == nil && !ok {
			apiRBAC = "forbidden"
			apiRBACMsg = "(SubjectAccessReview) get denied; the dry-run apply itself was allowed"
		}
	case resp.Code == 403:
		apiRBAC, apiRBACMsg = "forbidden", msg
		if strings.Contains(msg, escalationText) {
			apiRBAC = "escalation"
		}
	case resp.Code == 422 || resp.Code == 400:
		apiRBAC, schemaKnown, apiInvalid = "ok", true, true
	case resp.Code == 500 && strings.Contains(msg, "failed to create typed patch object"):
		// Server-side apply rejects a patch that does not fit the
		// object's schema (unknown field, wrong type) while building the
		// typed patch, and reports it as a 500 InternalError.
		apiRBAC, schemaKnown, apiInvalid = "ok", true, true
	}
	if !withID && apiRBAC != "" && apiRBAC != "ok" {
		// Without an identity gitops-lint checks no RBAC; the reconciler
		// is cluster-admin, so a denial here is the oracle's own setup.
		r.Unsure = append(r.Unsure, Disagreement{Where: where, Object: what, Aspect: "rbac (no identity)", Apiserver: fmt.Sprintf("%d %s", resp.Code, msg), Lint: "not checked"})
		return "uncertain"
	}
	if apiRBAC == "" {
		r.Unsure = append(r.Unsure, Disagreement{Where: where, Object: what, Aspect: "apply", Apiserver: fmt.Sprintf("%d %s", resp.Code, msg), Lint: lintString(lv)})
		return "uncertain"
	}
	switch {
	case apiRBAC == "escalation":
		er.Denied++
		er.Escalation++
	case apiRBAC == "forbidden":
		er.Denied++
	}
	if apiInvalid {
		er.Invalid++
	}
	agree := true
	if withID && apiRBAC != lv.rbac {
		agree = false
		r.Diffs = append(r.Diffs, Disagreement{Where: where, Object: what, Aspect: "rbac", Apiserver: apiRBAC + ": " + firstNonEmpty(apiRBACMsg, fmt.Sprintf("%d", resp.Code)), Lint: lv.rbac + ": " + lv.rbacMsg})
	}
	if withID && apiRBAC == "forbidden" && lv.rbac == "forbidden" && resp.Code == 403 {
		if w := wordingDiff(msg, lv.rbacMsg); w != "" {
			r.Wording = append(r.Wording, Disagreement{Where: where, Object: what, Aspect: w, Apiserver: msg, Lint: lv.rbacMsg})
		}
	}
	if withID && apiRBAC == "escalation" && lv.rbac == "escalation" {
		// Both name the object and the user the same way up to the
		// apiserver's reason; what follows (the missing rules) is worded
		// differently on purpose.
		a, _, _ := strings.Cut(msg, escalationText)
		l, _, _ := strings.Cut(lv.rbacMsg, escalationText)
		if a != l {
			r.Wording = append(r.Wording, Disagreement{Where: where, Object: what, Aspect: "escalation prefix differs", Apiserver: msg, Lint: lv.rbacMsg})
		}
	}
	if schemaKnown && apiInvalid && !lv.invalid && unresolvedVariable.MatchString(msg) {
		// The apiserver rejects a ${var} gitops-lint left as written: its
		// value comes from a ConfigMap or Secret created outside git, so
		// on the cluster the field holds something else.
		r.Unsure = append(r.Unsure, Disagreement{Where: where, Object: what, Aspect: "schema (unresolved ${var}: its value is created outside git)", Apiserver: fmt.Sprintf("%d %s", resp.Code, msg), Lint: lintString(lv)})
		return "uncertain"
	}
	if schemaKnown && apiInvalid != lv.invalid {
		agree = false
		a := "valid"
		if apiInvalid {
			a = fmt.Sprintf("invalid (%d): %s", resp.Code, msg)
		}
		l := "valid"
		if lv.invalid {
			l = "schema/invalid: " + lv.invalidAt
		}
		r.Diffs = append(r.Diffs, Disagreement{Where: where, Object: what, Aspect: "schema", Apiserver: a, Lint: l})
	}
	if policies && apiRBAC == "ok" && !apiInvalid {
		if d := r.compareAdmission(resp, admDenied, msg, fs, er); d != "" {
			agree = false
			r.Diffs = append(r.Diffs, Disagreement{Where: where, Object: what, Aspect: "admission", Apiserver: admissionString(resp, admDenied, msg), Lint: d})
		}
	}
	if withID && apiRBAC == "ok" && lv.rbac == "ok" && (k.Prune || k.Force) {
		ri, _ := r.c.Resource(o.APIVersion(), o.Kind())
		ns := ""
		if ri.Namespaced {
			ns = o.Namespace()
		}
		er.PruneChecked++
		ok, _, err := r.c.Access(ctx, SAR{User: id.User(), Groups: id.Groups(), Namespace: ns, Verb: "delete", Group: group(o.APIVersion()), Resource: ri.Name, Name: o.Name()})
		if err == nil && ok == lv.prune {
			agree = false
			r.Diffs = append(r.Diffs, Disagreement{Where: where, Object: what, Aspect: "prune (delete)", Apiserver: fmt.Sprintf("delete allowed=%v", ok), Lint: fmt.Sprintf("rbac/prune reported=%v", lv.prune)})
		}
	}
	if agree {
		return "agree"
	}
	return "disagree"
}

// unresolvedVariable matches a post-build variable reference in an
// apiserver message: the value it rejected is still "${name}".
var unresolvedVariable = regexp.MustCompile(`Invalid value: "[^"]*\$\{[A-Za-z_][A-Za-z0-9_]*(:?=[^}]*)?\}`)

func lintString(lv lintVerdict) string {
	s := "rbac " + lv.rbac
	if lv.invalid {
		s += ", schema/invalid"
	}
	if lv.prune {
		s += ", rbac/prune"
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func group(apiVersion string) string {
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// wordingDiff compares the apiserver's `User "..." cannot VERB resource ...`
// clause with the start of gitops-lint's message, the verb aside (SSA is
// authorized as patch; gitops-lint names the first denied of get, create,
// patch). It returns "" when they match.
func wordingDiff(api, lint string) string {
	if strings.HasPrefix(lint, strings.TrimSpace(api)) {
		return "" // gitops-lint repeats the apiserver's message, then adds context
	}
	i := strings.Index(api, "User \"")
	if i < 0 {
		return "apiserver message has no User clause"
	}
	clause := api[i:]
	apiVerb, lintVerb := verbOf(clause), verbOf(lint)
	norm := strings.Replace(clause, " cannot "+apiVerb+" ", " cannot "+lintVerb+" ", 1)
	if !strings.HasPrefix(lint, norm) {
		return "clause differs"
	}
	if apiVerb != lintVerb {
		return "verb only (apiserver " + apiVerb + ", gitops-lint " + lintVerb + ")"
	}
	return ""
}

func verbOf(s string) string {
	_, after, ok := strings.Cut(s, " cannot ")
	if !ok {
		return ""
	}
	verb, _, _ := strings.Cut(after, " ")
	return verb
}

func (r *Replayer) waitCRDs(ctx context.Context, crds []map[string]any) error {
	deadline := time.Now().Add(60 * time.Second)
	for _, crd := range crds {
		name, _ := crd["metadata"].(map[string]any)["name"].(string)
		for {
			m, code, err := r.c.Get(ctx, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name)
			if err != nil {
				return err
			}
			if code == 404 {
				break // failed to apply; reported already
			}
			if established(m) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not Established after 60s", name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func established(m map[string]any) bool {
	st, _ := m["status"].(map[string]any)
	conds, _ := st["conditions"].([]any)
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["type"] == "Established" && cm["status"] == "True" {
			return true
		}
	}
	return false
}

// waitAggregation waits until every aggregated ClusterRole holds the rules
// rbacsim's aggregation computes from the cluster's ClusterRoles.
func (r *Replayer) waitAggregation(ctx context.Context) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, _, err := r.c.Get(ctx, "/apis/rbac.authorization.k8s.io/v1/clusterroles")
		if err != nil {
			return
		}
		items, _ := m["items"].([]any)
		w := rbacsim.NewWorld()
		have := map[string]int{}
		for _, it := range items {
			im, _ := it.(map[string]any)
			im["apiVersion"], im["kind"] = "rbac.authorization.k8s.io/v1", "ClusterRole" // list items carry neither
			_ = w.Add(im)
			if im["aggregationRule"] != nil {
				rules, _ := im["rules"].([]any)
				have[im["metadata"].(map[string]any)["name"].(string)] = len(rules)
			}
		}
		w.Aggregate()
		done := true
		var pending []string
		for n, got := range have {
			want, _ := w.RoleRules("ClusterRole", "", n)
			if len(want) != got {
				done = false
				pending = append(pending, fmt.Sprintf("%s (%d/%d rules)", n, got, len(want)))
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			sort.Strings(pending)
			r.Warnings = append(r.Warnings, "aggregated ClusterRoles not as rbacsim aggregates them after 30s: "+strings.Join(pending, ", "))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// syncRBAC waits until the apiserver's RBAC authorizer has seen every RBAC
// change so far: it bumps a sentinel of each RBAC kind (informers deliver
// each kind in order) and polls SubjectAccessReviews until both answer.
func (r *Replayer) syncRBAC(ctx context.Context) error {
	r.syncN++
	res := fmt.Sprintf("oracle-sync-%d", r.syncN)
	rb := "rbac.authorization.k8s.io/v1"
	rule := func(verb string) []any {
		return []any{map[string]any{"apiGroups": []any{"oracle.invalid"}, "resources": []any{res}, "verbs": []any{verb}}}
	}
	subj := []any{map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "oracle-sync"}}
	objs := []map[string]any{
		{"apiVersion": rb, "kind": "ClusterRole", "metadata": map[string]any{"name": "oracle-sync"}, "rules": rule("get")},
		{"apiVersion": rb, "kind": "ClusterRoleBinding", "metadata": map[string]any{"name": "oracle-sync-" + res}, "roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "oracle-sync"}, "subjects": subj},
		{"apiVersion": rb, "kind": "Role", "metadata": map[string]any{"name": "oracle-sync", "namespace": "default"}, "rules": rule("list")},
		{"apiVersion": rb, "kind": "RoleBinding", "metadata": map[string]any{"name": "oracle-sync-" + res, "namespace": "default"}, "roleRef": map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "oracle-sync"}, "subjects": subj},
	}
	for _, o := range objs {
		if err := r.applyAdmin(ctx, o); err != nil {
			return fmt.Errorf("sync sentinel: %w", err)
		}
	}
	defer func() {
		_ = r.c.Delete(ctx, objs[1])
		_ = r.c.Delete(ctx, objs[3])
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		a, _, err1 := r.c.Access(ctx, SAR{User: "oracle-sync", Verb: "get", Group: "oracle.invalid", Resource: res})
		b, _, err2 := r.c.Access(ctx, SAR{User: "oracle-sync", Namespace: "default", Verb: "list", Group: "oracle.invalid", Resource: res})
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if a && b {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("RBAC sentinel %s not visible after 30s", res)
}

func decodeStream(data []byte) ([]map[string]any, error) { return objects.Decode(data) }

// repos lists the repositories to replay: the platform fixture, the RBAC
// fixture of the CLI tests, the oracle's own schema probes and, when
// present, every repository of the corpus (../shared/corpus beside the
// project, or $ORACLE_CORPUS), with the sources their tenants need.
func repos(root string) ([]Repo, func(), error) {
	var out []Repo
	plat := filepath.Join(root, "testdata/repos/platform")
	out = append(out, Repo{Name: "platform", Root: plat, Sources: map[string]string{
		"team-a/team-a": filepath.Join(root, "testdata/repos/team-a"),
		"team-b/team-b": filepath.Join(root, "testdata/repos/team-b"),
	}})
	tmp, err := os.MkdirTemp("", "gitops-lint-oracle-fixture-")
	if err != nil {
		return nil, func() {}, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	if err := extractTxtar(filepath.Join(root, "internal/cli/testdata/script/rbac.txtar"), "repo/", tmp); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	out = append(out, Repo{Name: "rbac-fixture", Root: tmp})
	// ValidatingAdmissionPolicies: the fixture of admission.txtar.
	adm := filepath.Join(tmp, "admission-fixture")
	if err := extractTxtar(filepath.Join(root, "internal/cli/testdata/script/admission.txtar"), "repo/", adm); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	out = append(out, Repo{Name: "admission-fixture", Root: adm})
	out = append(out, Repo{Name: "admission-probe", Root: filepath.Join(root, "tools/oracle/testdata/admission-probe")})
	out = append(out, Repo{Name: "schema-probe", Root: filepath.Join(root, "tools/oracle/testdata/schema-probe")})
	// Objects the apiserver rejects in its Go validation (names, labels,
	// images, ports, selectors), which gitops-lint's semantic checks cover.
	out = append(out, Repo{Name: "schema-gaps", Root: filepath.Join(root, "tools/oracle/testdata/schema-gaps")})
	// Pruning and defaulting before validation (testdata/schema-defaults,
	// with the HTTPRoute CRD the schema tests keep compressed).
	defaults := filepath.Join(tmp, "schema-defaults")
	if err := copyDefaultsFixture(root, defaults); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	// Last: CRDs stay installed, and a later repository must not be
	// judged with a CRD its environment does not have.
	last := Repo{Name: "schema-defaults", Root: defaults}
	out = append(out, corpusRepos(root)...)
	return append(out, last), cleanup, nil
}

// corpusSources are the --source mappings a corpus repository needs: its
// tenants' repositories, which the corpus holds beside it.
var corpusSources = map[string]map[string]string{
	"flux2-multi-tenancy": {"apps/dev-team": "flux2-multi-tenancy-dev-team"},
	"controlplaneio-fluxcd-d1-fleet": {
		"https://github.com/controlplaneio-fluxcd/d1-apps.git":  "controlplaneio-fluxcd-d1-apps",
		"https://github.com/controlplaneio-fluxcd/d1-infra.git": "controlplaneio-fluxcd-d1-infra",
	},
}

// corpusRepos is every repository of the corpus, in name order.
func corpusRepos(root string) []Repo {
	dir := filepath.Join(root, "..", "shared", "corpus")
	if d := os.Getenv("ORACLE_CORPUS"); d != "" {
		dir = d
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []Repo
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		r := Repo{Name: e.Name(), Root: filepath.Join(dir, e.Name())}
		for ref, sub := range corpusSources[e.Name()] {
			if r.Sources == nil {
				r.Sources = map[string]string{}
			}
			r.Sources[ref] = filepath.Join(dir, sub)
		}
		out = append(out, r)
	}
	return out
}

// outsideKey marks a Kustomization whose identity gitops-lint reports as
// granted outside git (rbac/identity-outside-git).
func outsideKey(env, ks string) string { return "identity-outside-git\x00" + env + "\x00" + ks }

// copyDefaultsFixture copies testdata/schema-defaults to dst and writes the
// Gateway API HTTPRoute CRD into it, uncompressed.
func copyDefaultsFixture(root, dst string) error {
	src := filepath.Join(root, "tools/oracle/testdata/schema-defaults")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(root, "internal/schema/testdata/gateway.networking.k8s.io_httproutes.yaml.gz"))
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	crd, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dst, "clusters/dev/httproutes-crd.yaml"), crd, 0o644)
}
