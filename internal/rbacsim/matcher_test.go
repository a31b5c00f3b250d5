package rbacsim

// Differential test of Allows against an independent reference matcher.
//
// The reference matcher below (refAllows) is written from Kubernetes'
// documented RBAC semantics, not by calling the comparator Allows uses
// (k8s.io/component-helpers/auth/rbac/validation.Covers). Sources:
//
//   - Kubernetes documentation, "Using RBAC Authorization"
//     (https://kubernetes.io/docs/reference/access-authn-authz/rbac/),
//     sections "Referring to resources" and the Role examples:
//     RBAC names resources exactly as they appear in the URL ("pods");
//     a subresource is written "resource/subresource" ("pods/log");
//     resourceNames restricts a rule to individual objects and an empty
//     resourceNames means every name; "You cannot restrict create or
//     deletecollection requests by their resource name. For create, this
//     limitation is because the name of the new object may not be known at
//     authorization time", and list/watch are only restricted by name when
//     the client sends a metadata.name field selector (that is, a
//     collection request carries no name); "*" is a wildcard for
//     resources, apiGroups and verbs; nonResourceURLs rules apply to
//     non-resource paths such as /healthz.
//   - The PolicyRule API reference (k8s.io/api/rbac/v1 PolicyRule field
//     docs): "'*' represents all resources", "'*/foo' represents the
//     subresource 'foo' for all resources in the specified apiGroups",
//     "\"\" represents the core API group".
//   - The apiserver's RBAC authorizer, kubernetes/kubernetes
//     plugin/pkg/auth/authorizer/rbac/rbac.go: RuleAllows grants a
//     resource request when VerbMatches ("*" or an exact verb),
//     APIGroupMatches ("*" or an exact group), ResourceMatches ("*", an
//     exact match of "resource" or "resource/subresource", or
//     "*/subresource" when the request has that subresource) and
//     ResourceNameMatches (empty resourceNames, or the request's name
//     listed) all hold; a request is allowed when any rule allows it
//     (RulesAllow); a rule's nonResourceURLs are consulted only for
//     non-resource requests. The helpers live in
//     pkg/apis/rbac/v1/evaluation_helpers.go.
//   - How the request's name is known at authorization time:
//     k8s.io/apiserver/pkg/endpoints/request/requestinfo.go
//     (NewRequestInfo): the name is the path segment after the resource,
//     so POST to a collection (create) and GET of a collection (list,
//     watch) carry no name, while a request on a subresource of an object
//     (POST .../pods/web/eviction) carries the object's name.
//
// The reference was written by reading those sources, not by copying code.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// refAuthorizedName is the name the authorizer sees for req: a create of a
// top-level resource is a POST to the collection and has no name (the
// docs' "cannot restrict create by resource name"); collection requests
// (list/watch without a name field selector, deletecollection) have none
// either, which the Request models with Name "". A request on a
// subresource of a named object keeps the object's name, whatever its
// verb.
func refAuthorizedName(req Request) string {
	switch {
	case req.Verb == "deletecollection":
		return ""
	case req.Verb == "create" && req.Subresource == "":
		return ""
	}
	return req.Name
}

// refRuleAllows reports whether one rule allows a resource request.
func refRuleAllows(rule rbacv1.PolicyRule, req Request) bool {
	// verbs: "*" or the exact verb.
	if !slices.Contains(rule.Verbs, "*") && !slices.Contains(rule.Verbs, req.Verb) {
		return false
	}
	// apiGroups: "*" or the exact group; "" is the core group.
	if !slices.Contains(rule.APIGroups, "*") && !slices.Contains(rule.APIGroups, req.APIGroup) {
		return false
	}
	// resources: a rule with only nonResourceURLs has no resources and so
	// never matches a resource request.
	resOK := false
	for _, r := range rule.Resources {
		if r == "*" { // every resource and every subresource
			resOK = true
			break
		}
		if req.Subresource == "" {
			if r == req.Resource { // "pods" is the main resource only
				resOK = true
				break
			}
			continue
		}
		// a subresource request matches "pods/log" or "*/log" only.
		if r == req.Resource+"/"+req.Subresource || r == "*/"+req.Subresource {
			resOK = true
			break
		}
	}
	if !resOK {
		return false
	}
	// resourceNames: empty means any name (including none); otherwise the
	// request must carry one of the listed names.
	if len(rule.ResourceNames) == 0 {
		return true
	}
	name := refAuthorizedName(req)
	return name != "" && slices.Contains(rule.ResourceNames, name)
}

// refAllows: any rule allowing is enough; no rules deny.
func refAllows(rules []rbacv1.PolicyRule, req Request) bool {
	for _, r := range rules {
		if refRuleAllows(r, req) {
			return true
		}
	}
	return false
}

type matcherCase struct {
	name  string
	rules []rbacv1.PolicyRule
	req   Request
}

func (c matcherCase) String() string {
	var b strings.Builder
	res := c.req.Resource
	if c.req.Subresource != "" {
		res += "/" + c.req.Subresource
	}
	fmt.Fprintf(&b, "%s: %s %q %s name=%q with rules [", c.name, c.req.Verb, c.req.APIGroup, res, c.req.Name)
	for i, r := range c.rules {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "verbs=%q groups=%q resources=%q", r.Verbs, r.APIGroups, r.Resources)
		if len(r.ResourceNames) > 0 {
			fmt.Fprintf(&b, " names=%q", r.ResourceNames)
		}
		if len(r.NonResourceURLs) > 0 {
			fmt.Fprintf(&b, " urls=%q", r.NonResourceURLs)
		}
	}
	b.WriteString("]")
	return b.String()
}

var (
	mtRuleVerbs     = []string{"get", "create", "patch", "delete", "list", "escalate", "bind", "*"}
	mtRuleGroups    = []string{"", "apps", "rbac.authorization.k8s.io", "batch", "*"}
	mtRuleResources = []string{"pods", "pods/log", "deployments", "deployments/scale", "*/scale", "roles", "cronjobs", "*"}
	mtRuleNames     = [][]string{nil, {"web"}, {"web", "api"}, {"other"}}
	// Requests never carry wildcards.
	mtReqVerbs     = []string{"get", "create", "patch", "delete", "list", "escalate", "bind"}
	mtReqGroups    = []string{"", "apps", "rbac.authorization.k8s.io", "batch"}
	mtReqResources = []string{"pods", "pods/log", "deployments", "deployments/scale", "roles", "cronjobs"}
	mtReqNames     = []string{"", "web"}
)

func mtRequest(verb, group, resource, name string) Request {
	res, sub, _ := strings.Cut(resource, "/")
	return Request{Verb: verb, APIGroup: group, Resource: res, Subresource: sub, Name: name, Namespace: "team"}
}

// mtExhaustive combines every single-verb/group/resource/names rule with
// every request.
func mtExhaustive() []matcherCase {
	var out []matcherCase
	for _, rv := range mtRuleVerbs {
		for _, rg := range mtRuleGroups {
			for _, rr := range mtRuleResources {
				for _, rn := range mtRuleNames {
					rule := rbacv1.PolicyRule{Verbs: []string{rv}, APIGroups: []string{rg}, Resources: []string{rr}, ResourceNames: rn}
					for _, qv := range mtReqVerbs {
						for _, qg := range mtReqGroups {
							for _, qr := range mtReqResources {
								for _, qn := range mtReqNames {
									out = append(out, matcherCase{name: "exhaustive", rules: []rbacv1.PolicyRule{rule}, req: mtRequest(qv, qg, qr, qn)})
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

func mtPick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func mtPickN(r *rand.Rand, xs []string, maxN int) []string {
	n := 1 + r.IntN(maxN)
	var out []string
	for range n {
		x := mtPick(r, xs)
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// mtRandom builds multi-rule sets (0-4 rules, several verbs, groups and
// resources per rule, some nonResourceURLs-only rules). Half the requests
// are derived from one of the rules so that allowed answers are common.
func mtRandom(n int) []matcherCase {
	r := rand.New(rand.NewPCG(20240611, 7))
	var out []matcherCase
	for i := range n {
		var rules []rbacv1.PolicyRule
		for range r.IntN(5) {
			if r.IntN(8) == 0 {
				rules = append(rules, rbacv1.PolicyRule{
					Verbs:           mtPickN(r, mtRuleVerbs, 3),
					NonResourceURLs: mtPickN(r, []string{"/healthz", "/healthz/*", "*", "/api/*"}, 2),
				})
				continue
			}
			rule := rbacv1.PolicyRule{
				Verbs:     mtPickN(r, mtRuleVerbs, 3),
				APIGroups: mtPickN(r, mtRuleGroups, 2),
				Resources: mtPickN(r, mtRuleResources, 3),
			}
			rule.ResourceNames = mtPick(r, mtRuleNames)
			rules = append(rules, rule)
		}
		req := mtRequest(mtPick(r, mtReqVerbs), mtPick(r, mtReqGroups), mtPick(r, mtReqResources), mtPick(r, mtReqNames))
		if len(rules) > 0 && r.IntN(2) == 0 {
			// Aim at a rule, replacing wildcards by concrete values.
			base := rules[r.IntN(len(rules))]
			if v := mtPick(r, base.Verbs); v != "*" {
				req.Verb = v
			}
			if len(base.APIGroups) > 0 {
				if g := mtPick(r, base.APIGroups); g != "*" {
					req.APIGroup = g
				}
			}
			if len(base.Resources) > 0 {
				switch res := mtPick(r, base.Resources); {
				case res == "*":
				case strings.HasPrefix(res, "*/"):
					req.Resource, req.Subresource = mtPick(r, []string{"deployments", "statefulsets", "replicasets"}), strings.TrimPrefix(res, "*/")
				default:
					req.Resource, req.Subresource, _ = strings.Cut(res, "/")
				}
			}
		}
		out = append(out, matcherCase{name: fmt.Sprintf("random#%d", i), rules: rules, req: req})
	}
	return out
}

func mtRule(verbs, groups, resources, names []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
}

func mtL(s ...string) []string { return s }

// mtEdgeCases are hand-written cases with the answer Kubernetes gives.
type mtEdgeCase struct {
	matcherCase
	want bool
}

func mtEdgeCases() []mtEdgeCase {
	core, apps := mtL(""), mtL("apps")
	e := func(name string, want bool, req Request, rules ...rbacv1.PolicyRule) mtEdgeCase {
		return mtEdgeCase{matcherCase{name: name, rules: rules, req: req}, want}
	}
	return []mtEdgeCase{
		e("empty rule set denies", false, mtRequest("get", "", "pods", "web")),
		e("create with resourceNames rule is denied", false, mtRequest("create", "apps", "deployments", "web"),
			mtRule(mtL("create"), apps, mtL("deployments"), mtL("web"))),
		e("create without resourceNames is allowed", true, mtRequest("create", "apps", "deployments", "web"),
			mtRule(mtL("create"), apps, mtL("deployments"), nil)),
		e("get web with resourceNames [web]", true, mtRequest("get", "", "pods", "web"),
			mtRule(mtL("get"), core, mtL("pods"), mtL("web"))),
		e("get web with resourceNames [other]", false, mtRequest("get", "", "pods", "web"),
			mtRule(mtL("get"), core, mtL("pods"), mtL("other"))),
		e("list collection with resourceNames is denied", false, mtRequest("list", "", "pods", ""),
			mtRule(mtL("list"), core, mtL("pods"), mtL("web"))),
		e("list with metadata.name field selector web", true, mtRequest("list", "", "pods", "web"),
			mtRule(mtL("list"), core, mtL("pods"), mtL("web"))),
		e("* resource covers a subresource", true, mtRequest("get", "", "pods", "web"),
			mtRule(mtL("get"), core, mtL("*"), nil)),
		e("* resource covers pods/log", true, mtRequest("get", "", "pods/log", "web"),
			mtRule(mtL("get"), core, mtL("*"), nil)),
		e("pods does not cover pods/log", false, mtRequest("get", "", "pods/log", "web"),
			mtRule(mtL("get"), core, mtL("pods"), nil)),
		e("pods/log does not cover pods", false, mtRequest("get", "", "pods", "web"),
			mtRule(mtL("get"), core, mtL("pods/log"), nil)),
		e("*/scale covers deployments/scale", true, mtRequest("patch", "apps", "deployments/scale", "web"),
			mtRule(mtL("patch"), apps, mtL("*/scale"), nil)),
		e("*/scale covers statefulsets/scale", true, mtRequest("get", "apps", "statefulsets/scale", "web"),
			mtRule(mtL("get"), apps, mtL("*/scale"), nil)),
		e("*/scale does not cover the main resource", false, mtRequest("get", "apps", "deployments", "web"),
			mtRule(mtL("get"), apps, mtL("*/scale"), nil)),
		e("*/scale does not cover another subresource", false, mtRequest("get", "apps", "deployments/status", "web"),
			mtRule(mtL("get"), apps, mtL("*/scale"), nil)),
		e("verb * with nonResourceURLs-only rule is denied", false, mtRequest("get", "", "pods", "web"),
			rbacv1.PolicyRule{Verbs: mtL("*"), NonResourceURLs: mtL("*")}),
		e("core group does not match apps", false, mtRequest("get", "apps", "deployments", "web"),
			mtRule(mtL("get"), core, mtL("deployments"), nil)),
		e("group * matches any group", true, mtRequest("escalate", "rbac.authorization.k8s.io", "roles", "admin"),
			mtRule(mtL("escalate"), mtL("*"), mtL("roles"), nil)),
		e("verb * matches bind", true, mtRequest("bind", "rbac.authorization.k8s.io", "roles", "admin"),
			mtRule(mtL("*"), mtL("rbac.authorization.k8s.io"), mtL("roles"), nil)),
		e("second rule allows", true, mtRequest("delete", "batch", "cronjobs", "nightly"),
			mtRule(mtL("get"), mtL("batch"), mtL("cronjobs"), nil),
			mtRule(mtL("delete"), mtL("batch"), mtL("cronjobs"), mtL("nightly"))),
		e("verbs are exact", false, mtRequest("patch", "apps", "deployments", "web"),
			mtRule(mtL("get", "list", "update"), apps, mtL("deployments"), nil)),
		// Kubernetes puts the object's name on a subresource create
		// (POST /api/v1/namespaces/team/pods/web/eviction), so resourceNames
		// restrict it like any named request.
		e("create subresource of a named object with resourceNames [web]", true, mtRequest("create", "", "pods/eviction", "web"),
			mtRule(mtL("create"), core, mtL("pods/eviction"), mtL("web"))),
		e("create subresource of a named object with resourceNames [other]", false, mtRequest("create", "", "pods/eviction", "web"),
			mtRule(mtL("create"), core, mtL("pods/eviction"), mtL("other"))),
	}
}

func TestMatcherEdgeCases(t *testing.T) {
	for _, c := range mtEdgeCases() {
		if ref := refAllows(c.rules, c.req); ref != c.want {
			t.Errorf("reference matcher wrong on hand-written case %s: got %v, want %v", c, ref, c.want)
		}
		if got := Allows(c.rules, c.req); got != c.want {
			t.Errorf("Allows disagrees with Kubernetes on %s: got %v, want %v", c, got, c.want)
		}
	}
}

func TestMatcherDifferential(t *testing.T) {
	type source struct {
		label string
		cases []matcherCase
	}
	var hand []matcherCase
	for _, c := range mtEdgeCases() {
		hand = append(hand, c.matcherCase)
	}
	sources := []source{
		{"exhaustive single-rule", mtExhaustive()},
		{"random multi-rule", mtRandom(5000)},
		{"hand-written", hand},
	}
	var total, allowed, denied, nDisagree int
	var disagreements []string
	for _, src := range sources {
		var a, d int
		for _, c := range src.cases {
			want := refAllows(c.rules, c.req)
			if want {
				a++
			} else {
				d++
			}
			if got := Allows(c.rules, c.req); got != want {
				nDisagree++
				if len(disagreements) < 20 {
					disagreements = append(disagreements, fmt.Sprintf("%s: Allows=%v reference=%v", c, got, want))
				}
			}
		}
		t.Logf("%s: %d cases, %d allowed, %d denied by the reference", src.label, len(src.cases), a, d)
		total += len(src.cases)
		allowed += a
		denied += d
	}
	if total < 200 {
		t.Fatalf("only %d cases generated", total)
	}
	t.Logf("total: %d cases, %d allowed, %d denied by the reference; %d disagreements", total, allowed, denied, nDisagree)
	if nDisagree > 0 {
		t.Errorf("%d disagreements between Allows and the reference matcher; first %d:\n%s",
			nDisagree, len(disagreements), strings.Join(disagreements, "\n"))
	}
}
