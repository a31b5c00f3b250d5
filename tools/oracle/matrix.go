package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/identity"
	"github.com/gitops-lint/gitops-lint/internal/rbacsim"
)

// MatrixResult is the agreement of the random matrix.
type MatrixResult struct {
	Cases, Agree int
	// Allowed counts the cases the apiserver allowed (the rest it denied).
	Allowed int
	Diffs   []Disagreement
}

type resDef struct {
	group, resource string
	namespaced      bool
	subs            []string
}

var matrixResources = []resDef{
	{"", "pods", true, []string{"log", "exec", "status"}},
	{"", "configmaps", true, nil},
	{"", "secrets", true, nil},
	{"", "nodes", false, []string{"status"}},
	{"", "namespaces", false, []string{"finalize", "status"}},
	{"apps", "deployments", true, []string{"scale", "status"}},
	{"batch", "cronjobs", true, []string{"status"}},
	{"rbac.authorization.k8s.io", "roles", true, nil},
	{"rbac.authorization.k8s.io", "clusterroles", false, nil},
	{"example.com", "widgets", true, []string{"status"}},
	{"storage.k8s.io", "storageclasses", false, nil},
}

var matrixVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind"}
var matrixNames = []string{"a", "b", "c"}
var matrixNamespaces = []string{"mx-a", "mx-b"}

// mcase is one generated case: objects, an identity, a request.
type mcase struct {
	id      identity.Identity
	objects []map[string]any
	req     rbacsim.Request
	desc    string
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randRule(r *rand.Rand) (map[string]any, resDef) {
	rd := pick(r, matrixResources)
	groups := []any{rd.group}
	switch r.IntN(6) {
	case 0:
		groups = []any{"*"}
	case 1:
		groups = []any{rd.group, "other.example"}
	}
	var res []any
	switch n := r.IntN(10); {
	case n < 4:
		res = []any{rd.resource}
	case n == 4:
		res = []any{"*"}
	case n == 5 && len(rd.subs) > 0:
		res = []any{rd.resource + "/" + pick(r, rd.subs)}
	case n == 6 && len(rd.subs) > 0:
		res = []any{"*/" + pick(r, rd.subs)}
	case n == 7:
		res = []any{rd.resource + "/*"} // not a wildcard in RBAC
	case n == 8 && len(rd.subs) > 0:
		res = []any{rd.resource, rd.resource + "/" + pick(r, rd.subs)}
	default:
		res = []any{rd.resource}
	}
	verbs := []any{pick(r, matrixVerbs)}
	switch r.IntN(5) {
	case 0:
		verbs = []any{"*"}
	case 1:
		verbs = append(verbs, pick(r, matrixVerbs))
	}
	rule := map[string]any{"apiGroups": groups, "resources": res, "verbs": verbs}
	switch r.IntN(5) {
	case 0:
		rule["resourceNames"] = []any{pick(r, matrixNames)}
	case 1:
		rule["resourceNames"] = []any{"a", "b"}
	}
	return rule, rd
}

func genCase(r *rand.Rand, i int) mcase {
	const rb = "rbac.authorization.k8s.io/v1"
	id := identity.Identity{Namespace: fmt.Sprintf("mxid-%d", i), Name: "sa"}
	c := mcase{id: id}
	var rules []any
	var rds []resDef
	for n := 1 + r.IntN(3); n > 0; n-- {
		rule, rd := randRule(r)
		rules = append(rules, rule)
		rds = append(rds, rd)
	}
	bindNS := pick(r, matrixNamespaces)
	var subject map[string]any
	switch r.IntN(3) {
	case 0:
		subject = map[string]any{"kind": "ServiceAccount", "name": id.Name, "namespace": id.Namespace}
	case 1:
		subject = map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": id.User()}
	default:
		subject = map[string]any{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts:" + id.Namespace}
	}
	name := fmt.Sprintf("mx-%d", i)
	var roleRef map[string]any
	shape := r.IntN(10)
	switch {
	case shape < 3: // Role + RoleBinding
		c.objects = append(c.objects, map[string]any{"apiVersion": rb, "kind": "Role", "metadata": map[string]any{"name": name, "namespace": bindNS}, "rules": rules})
		roleRef = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
		c.desc = "Role+RoleBinding in " + bindNS
	case shape < 7: // ClusterRole, maybe aggregated
		if r.IntN(2) == 0 {
			label := "oracle-agg-" + name
			c.objects = append(c.objects, map[string]any{"apiVersion": rb, "kind": "ClusterRole", "metadata": map[string]any{"name": name},
				"aggregationRule": map[string]any{"clusterRoleSelectors": []any{map[string]any{"matchLabels": map[string]any{label: "true"}}}}})
			for j, rule := range rules {
				c.objects = append(c.objects, map[string]any{"apiVersion": rb, "kind": "ClusterRole",
					"metadata": map[string]any{"name": fmt.Sprintf("%s-part-%d", name, j), "labels": map[string]any{label: "true"}}, "rules": []any{rule}})
			}
			c.desc = "aggregated ClusterRole"
		} else {
			c.objects = append(c.objects, map[string]any{"apiVersion": rb, "kind": "ClusterRole", "metadata": map[string]any{"name": name}, "rules": rules})
			c.desc = "ClusterRole"
		}
		roleRef = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
	default: // a bootstrap aggregated role
		boot := pick(r, []string{"view", "edit", "admin"})
		roleRef = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": boot}
		c.desc = "bootstrap ClusterRole " + boot
		rules = nil
	}
	if roleRef["kind"] == "ClusterRole" && r.IntN(2) == 0 {
		c.objects = append(c.objects, map[string]any{"apiVersion": rb, "kind": "ClusterRoleBinding", "metadata": map[string]any{"name": name}, "roleRef": roleRef, "subjects": []any{subject}})
		c.desc += " via ClusterRoleBinding"
	} else {
		c.objects = append(c.objects, map[string]any{"apiVersion": rb, "kind": "RoleBinding", "metadata": map[string]any{"name": name, "namespace": bindNS}, "roleRef": roleRef, "subjects": []any{subject}})
		c.desc += " via RoleBinding in " + bindNS
	}
	c.desc += fmt.Sprintf(", subject %s", subject["kind"])

	// The request: half the time aimed at one of the rules, else random.
	rd := pick(r, matrixResources)
	aimed := len(rds) > 0 && r.IntN(10) < 7
	if aimed {
		rd = rds[r.IntN(len(rds))]
	}
	req := rbacsim.Request{Verb: pick(r, matrixVerbs), APIGroup: rd.group, Resource: rd.resource}
	if len(rules) > 0 && r.IntN(10) < 7 {
		rule := rules[r.IntN(len(rules))].(map[string]any)
		if v := pick(r, rule["verbs"].([]any)).(string); v != "*" {
			req.Verb = v
		}
	}
	if len(rd.subs) > 0 && r.IntN(3) == 0 {
		req.Subresource = pick(r, rd.subs)
	}
	if r.IntN(2) == 0 && req.Verb != "list" && req.Verb != "watch" && req.Verb != "deletecollection" && (req.Verb != "create" || req.Subresource != "") {
		req.Name = pick(r, matrixNames) // a create of a top-level resource carries no name
	}
	if rd.namespaced {
		req.Namespace = pick(r, append(matrixNamespaces, "mx-c", ""))
		if aimed && r.IntN(2) == 0 {
			req.Namespace = bindNS
		}
	}
	c.req = req
	return c
}

// RunMatrix creates n random cases in the cluster and compares every
// SubjectAccessReview with rbacsim.
func RunMatrix(ctx context.Context, cl *Client, n int, seed uint64, logf func(string, ...any)) (MatrixResult, error) {
	start := time.Now()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cases := make([]mcase, n)
	for i := range cases {
		cases[i] = genCase(r, i)
	}
	rep := &Replayer{c: cl, logf: logf}
	for _, ns := range matrixNamespaces {
		if err := rep.applyAdmin(ctx, nsObj(ns)); err != nil {
			return MatrixResult{}, err
		}
	}
	// The world before the cases: the cluster's bootstrap policy.
	world := rbacsim.NewWorld()
	for _, res := range []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"} {
		m, _, err := cl.Get(ctx, "/apis/rbac.authorization.k8s.io/v1/"+res)
		if err != nil {
			return MatrixResult{}, err
		}
		kind := map[string]string{"clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding", "roles": "Role", "rolebindings": "RoleBinding"}[res]
		items, _ := m["items"].([]any)
		for _, it := range items {
			im, _ := it.(map[string]any)
			if strings.HasPrefix(im["metadata"].(map[string]any)["name"].(string), "oracle-sync") {
				continue
			}
			im["apiVersion"], im["kind"] = "rbac.authorization.k8s.io/v1", kind
			_ = world.Add(im)
		}
	}
	// Create every case's objects, 16 at a time.
	var objs []map[string]any
	for _, c := range cases {
		objs = append(objs, c.objects...)
		for _, o := range c.objects {
			_ = world.Add(o)
		}
	}
	world.Aggregate()
	if err := parallel(ctx, len(objs), 16, func(i int) error {
		if err := rep.applyAdmin(ctx, objs[i]); err != nil {
			return fmt.Errorf("create %s: %w", describe(objs[i]), err)
		}
		return nil
	}); err != nil {
		return MatrixResult{}, err
	}
	logf("matrix: created %d objects for %d cases in %s", len(objs), n, time.Since(start).Round(time.Millisecond))
	rep.waitAggregation(ctx)
	if err := rep.syncRBAC(ctx); err != nil {
		return MatrixResult{}, err
	}
	res := MatrixResult{Cases: n}
	var mu sync.Mutex
	err := parallel(ctx, n, 16, func(i int) error {
		c := cases[i]
		q := c.req
		api, reason, err := cl.Access(ctx, SAR{User: c.id.User(), Groups: c.id.Groups(), Namespace: q.Namespace, Verb: q.Verb, Group: q.APIGroup, Resource: q.Resource, Subresource: q.Subresource, Name: q.Name})
		if err != nil {
			return err
		}
		sim := rbacsim.Allows(rbacsim.PolicyRules(world.Grants(c.id, ""), q.Namespace), q)
		mu.Lock()
		defer mu.Unlock()
		if api {
			res.Allowed++
		}
		if api == sim {
			res.Agree++
			return nil
		}
		var rules []string
		for _, o := range c.objects {
			if rs, ok := o["rules"]; ok {
				rules = append(rules, fmt.Sprint(rs))
			}
		}
		res.Diffs = append(res.Diffs, Disagreement{
			Where:     fmt.Sprintf("matrix case %d (%s)", i, c.desc),
			Object:    fmt.Sprintf("%s %s/%s sub=%q name=%q ns=%q; rules %s", q.Verb, q.APIGroup, q.Resource, q.Subresource, q.Name, q.Namespace, strings.Join(rules, " ")),
			Aspect:    "SubjectAccessReview",
			Apiserver: fmt.Sprintf("allowed=%v %s", api, reason),
			Lint:      fmt.Sprintf("allowed=%v", sim),
		})
		return nil
	})
	if err != nil {
		return res, err
	}
	// Clean up so a rerun against the same cluster starts fresh.
	_ = parallel(ctx, len(objs), 16, func(i int) error { return cl.Delete(ctx, objs[i]) })
	logf("matrix: %d cases in %s", n, time.Since(start).Round(time.Millisecond))
	return res, nil
}

func parallel(ctx context.Context, n, workers int, f func(int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
