// Package converge checks that an environment's Flux tree converges on an
// empty cluster: every reference resolves to something the environment
// creates, dependsOn forms no cycle, and no object is applied twice.
package converge

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// ProvidesCRDsAnnotation on a HelmRelease lists the kinds its chart's CRDs
// define ("group/Kind", comma-separated), so that the fresh-cluster order
// check knows the Kustomization applying the HelmRelease provides them.
const ProvidesCRDsAnnotation = render.ProvidesCRDsAnnotation

// maxOthers bounds the appliers a duplicate/object message names, past
// the first.
const maxOthers = 3

// Checker runs the convergence checks.
type Checker struct {
	// Provides are the `provides:` entries of .gitops-lint.yaml: in-house
	// producers and objects that exist outside git (see producers.go).
	Provides []Provide
}

// node is a Kustomization or HelmRelease of the dependsOn graph.
type node struct {
	kind, ns, name string
	deps           []dep
	file           string
	line, col      int                   // the declaring document's position
	doc            *render.Doc           // the declaring document, for field positions
	k              *render.Kustomization // the Kustomization (or the one applying the HelmRelease)
	obj            *render.Object        // the HelmRelease object, nil for Kustomizations
}

type dep struct {
	ns, name string
	index    int
}

func (n *node) id() string { return n.kind + "/" + n.ns + "/" + n.name }

// Check implements the lint checker.
func (c Checker) Check(ctx context.Context, res *render.Result) []finding.Finding {
	var out []finding.Finding
	for _, env := range res.Environments {
		if ctx.Err() != nil {
			break
		}
		out = append(out, checkEnv(res.Index, env, c.Provides)...)
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

func deps(spec map[string]any, ns string) []dep {
	list, _ := spec["dependsOn"].([]any)
	var out []dep
	for i, d := range list {
		dm, _ := d.(map[string]any)
		dns := str(dm["namespace"])
		if dns == "" {
			dns = ns
		}
		out = append(out, dep{ns: dns, name: str(dm["name"]), index: i})
	}
	return out
}

func checkEnv(x *render.Index, env *render.Environment, provides []Provide) []finding.Finding {
	var out []finding.Finding
	w := newWorld(env, provides)
	type applied struct {
		k *render.Kustomization
		o *render.Object
	}
	byIdentity := map[string][]applied{}
	var nodes []*node
	for _, k := range env.Kustomizations {
		if k.Kind == "" { // a HelmRelease's release is its HelmRelease's node, below
			n := &node{kind: "Kustomization", ns: k.Namespace, name: k.Name, deps: deps(k.Spec, k.Namespace), file: k.File, line: k.Line, col: k.Column, k: k}
			n.doc = x.DocAt(k.File, k.Line)
			nodes = append(nodes, n)
		}
		cluster := k.Cluster() // objects meet only on one cluster: each kubeConfig is another
		for _, o := range k.Objects {
			ns := o.Namespace()
			key := cluster + "|" + objects.Group(o.APIVersion()) + "/" + o.Kind() + "/" + ns + "/" + o.Name()
			byIdentity[key] = append(byIdentity[key], applied{k, o})
			if o.Kind() == "HelmRelease" && objects.Group(o.APIVersion()) == "helm.toolkit.fluxcd.io" {
				spec, _ := o.Content["spec"].(map[string]any)
				hn := &node{kind: "HelmRelease", ns: ns, name: o.Name(), deps: deps(spec, ns), file: o.File, line: o.Line, col: o.Column, k: k, obj: o}
				hn.doc = x.DocAt(o.File, o.Line)
				nodes = append(nodes, hn)
			}
		}
	}
	// duplicate/object
	keys := make([]string, 0, len(byIdentity))
	for key := range byIdentity {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		as := byIdentity[key]
		// Each applier's copy gets a finding, all with one message naming
		// the appliers (the first few, then how many more, so that n
		// identical Kustomizations cost n findings of bounded size, not
		// n² names): copies from one file and line fold into one finding.
		owners := map[string]bool{}
		for _, a := range as {
			owners[a.k.ID()] = true
		}
		if len(owners) < 2 {
			continue
		}
		var names []string
		for _, a := range as {
			if len(names) == maxOthers+1 {
				break
			}
			names = append(names, fmt.Sprintf("%s at %s", a.k.ID(), where(a.o)))
		}
		list := strings.Join(names, ", ")
		if more := len(as) - len(names); more > 0 {
			list += fmt.Sprintf(" and %d more", more)
		}
		for _, a := range as {
			out = append(out, objectFinding(env, a.k, a.o, RuleDuplicateObject,
				fmt.Sprintf("%s is applied by %d Kustomizations (%s)%s: they would fight over its fields and prune each other's copy", a.o.Ref(), len(owners), list, onCluster(a.k))))
		}
	}
	// flux/depends-on-missing
	byID := map[string]*node{}
	for _, n := range nodes {
		byID[n.id()] = n
	}
	for _, n := range nodes {
		for _, d := range n.deps {
			if _, ok := byID[n.kind+"/"+d.ns+"/"+d.name]; ok {
				continue
			}
			// A producer makes it (a FluxInstance's Kustomization), or a
			// Kustomization that was not rendered may define it: the
			// environment cannot tell, render/source-missing says why.
			if ok, _ := w.exists(n.kind, d.ns, d.name); ok || len(w.mayCreate(n.kind, d.ns, d.name, n.k)) > 0 {
				continue
			}
			out = append(out, nodeFinding(env, n, RuleDependsOnMissing, []string{"spec", "dependsOn", fmt.Sprint(d.index)},
				fmt.Sprintf("%s %s/%s depends on %s %s/%s, which this environment does not define: it stays not ready (\"dependency not found\") forever", n.kind, n.ns, n.name, n.kind, d.ns, d.name)))
		}
	}
	// flux/depends-on-cycle
	for _, cycle := range cycles(nodes, byID) {
		first := cycle[0]
		var names []string
		for _, n := range cycle {
			names = append(names, n.ns+"/"+n.name)
		}
		names = append(names, first.ns+"/"+first.name)
		out = append(out, nodeFinding(env, first, RuleDependsOnCycle, []string{"spec", "dependsOn"},
			fmt.Sprintf("dependsOn forms a cycle, so none of these %ss ever reconciles: %s", first.kind, strings.Join(names, " → "))))
	}
	out = append(out, order(env, byID, w)...)
	out = append(out, sealedScope(x, env)...)
	out = append(out, references(env, nodes, byID, w)...)
	return out
}

func nsOr(ns, def string) string {
	if ns != "" {
		return ns
	}
	return def
}

func where(o *render.Object) string {
	if o.File == "" {
		return o.OriginPath
	}
	return fmt.Sprintf("%s:%d", o.File, o.Line)
}

// pos returns the position of the field at path of n's declaring document
// (the deepest of path that exists), (0, 0) when n has no file.
func (n *node) pos(path ...string) (line, col int) {
	switch {
	case n.file == "":
		return 0, 0
	case n.doc == nil:
		return n.line, n.col
	}
	return n.doc.FieldPos(path...)
}

// nodeFinding is a finding about n at the field at of its document.
func nodeFinding(env *render.Environment, n *node, rule finding.Rule, at []string, msg string) finding.Finding {
	f := rule.New(finding.Finding{Message: msg, Environment: env.Name})
	if n == nil {
		return f
	}
	f.File, f.Kustomization = n.file, n.k.ID()
	f.Line, f.Column = n.pos(at...)
	if n.obj != nil {
		f.Object = n.obj.Ref()
	}
	return f
}

// cycles returns the strongly connected components of the dependsOn graph
// that contain a cycle (Tarjan), each ordered from its first node by id.
func cycles(nodes []*node, byID map[string]*node) [][]*node {
	index := map[*node]int{}
	low := map[*node]int{}
	on := map[*node]bool{}
	var stack []*node
	var out [][]*node
	next := 0
	var strong func(v *node)
	strong = func(v *node) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		on[v] = true
		for _, d := range v.deps {
			w, ok := byID[v.kind+"/"+d.ns+"/"+d.name]
			if !ok {
				continue
			}
			if _, seen := index[w]; !seen {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []*node
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			self := len(comp) == 1 && slices.ContainsFunc(v.deps, func(d dep) bool { return d.ns == v.ns && d.name == v.name })
			if len(comp) > 1 || self {
				sort.Slice(comp, func(i, j int) bool { return comp[i].id() < comp[j].id() })
				out = append(out, comp)
			}
		}
	}
	sorted := slices.Clone(nodes)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].id() < sorted[j].id() })
	for _, n := range sorted {
		if _, seen := index[n]; !seen {
			strong(n)
		}
	}
	return out
}

// order simulates a bootstrap on an empty cluster: an object can be applied
// only when the CRD of its kind and its Namespace exist, that is when they
// are applied by the same Kustomization (Flux applies CRDs and Namespaces
// first), by an ancestor (which created this Kustomization after applying
// them), or by a Kustomization it depends on, transitively. CRDs and
// Namespaces that no Kustomization of the environment applies (installed by
// a HelmRelease, or outside git) are not judged.
func order(env *render.Environment, byID map[string]*node, w *world) []finding.Finding {
	// Every applier of each CRD and Namespace, in render order: any one of
	// them that the Kustomization is, or depends on, satisfies it.
	crdBy := map[string][]*render.Kustomization{} // group/Kind → appliers
	nsBy := map[string][]*render.Kustomization{}
	add := func(m map[string][]*render.Kustomization, key string, k *render.Kustomization) {
		if !slices.Contains(m[key], k) {
			m[key] = append(m[key], k)
		}
	}
	ks := map[string]*render.Kustomization{}
	unknown := map[string]bool{}
	for _, k := range w.unknown {
		unknown[k.ID()] = true
	}
	for _, k := range env.Kustomizations {
		ks[k.ID()] = k
		// A release's CRDs and Namespaces exist once the Kustomization that
		// applies its HelmRelease is reconciled, for the order on a fresh
		// cluster.
		applier := k
		if k.Kind != "" {
			if applier = ks[k.Parent]; applier == nil {
				continue
			}
		}
		cluster := k.Cluster()
		for _, o := range k.Objects {
			switch {
			case o.Kind() == "CustomResourceDefinition" && objects.Group(o.APIVersion()) == "apiextensions.k8s.io":
				group := objects.NestedString(o.Content, "spec", "group")
				kind := objects.NestedString(o.Content, "spec", "names", "kind")
				add(crdBy, cluster+"|"+group+"/"+kind, applier)
			case o.Kind() == "HelmRelease" && objects.Group(o.APIVersion()) == "helm.toolkit.fluxcd.io":
				// What a chart installs is not knowable offline; a
				// HelmRelease may declare the CRDs it provides.
				ann, _ := objects.Nested(o.Content, "metadata", "annotations").(map[string]any)
				for _, gk := range strings.Split(str(ann[ProvidesCRDsAnnotation]), ",") {
					if gk = strings.TrimSpace(gk); gk != "" {
						add(crdBy, cluster+"|"+gk, k)
					}
				}
			case o.Kind() == "Namespace" && o.APIVersion() == "v1":
				add(nsBy, cluster+"|"+o.Name(), applier)
			}
		}
	}
	// ready returns the Kustomizations whose objects exist before k applies:
	// itself, its ancestors, and what it depends on, transitively.
	ready := func(k *render.Kustomization) map[string]bool {
		seen := map[string]bool{}
		var visit func(id string)
		visit = func(id string) {
			if seen[id] {
				return
			}
			seen[id] = true
			kk, ok := ks[id]
			if !ok {
				return
			}
			if kk.Parent != "" {
				visit(kk.Parent)
			}
			if n := byID["Kustomization/"+id]; n != nil {
				for _, d := range n.deps {
					visit(d.ns + "/" + d.name)
				}
			}
		}
		visit(k.ID())
		return seen
	}
	// satisfied reports whether one of the appliers exists before k's
	// objects: k itself, or one in have. A Kustomization in have that was
	// not rendered may apply it too, for all we know.
	satisfied := func(appliers []*render.Kustomization, k *render.Kustomization, have map[string]bool) bool {
		for _, p := range appliers {
			if p == k || have[p.ID()] {
				return true
			}
		}
		for id := range have {
			if unknown[id] {
				return true
			}
		}
		return false
	}
	// Namespaces every cluster has, and the one Flux itself runs in (the
	// entry Kustomization's), exist before anything is applied.
	exists := map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}
	for _, k := range env.Kustomizations {
		if k.Parent == "" {
			exists[k.Namespace] = true
		}
	}
	var out []finding.Finding
	for _, k := range env.Kustomizations {
		if k.Kind != "" {
			out = append(out, releaseOrder(env, k, ks[k.Parent], byID, crdBy, nsBy, ready, satisfied, exists)...)
			continue
		}
		var have map[string]bool
		out = append(out, orderFindings(env, k, k, k.Objects, func() map[string]bool {
			if have == nil {
				have = ready(k)
			}
			return have
		}, satisfied, crdBy, nsBy, func(ns string) bool { return exists[ns] },
			orderWords{who: k.ID() + " does not depend on", fails: "its first reconcile fails"})...)
	}
	return out
}

// releaseOrder judges the objects of release r, which the HelmRelease of
// Kustomization parent installs, on an empty cluster: helm-controller
// installs the release once parent has applied its HelmRelease and the
// HelmReleases it dependsOn are ready, so a CRD or Namespace of another
// Kustomization must be applied by parent's ancestors or dependencies, or
// by those of a HelmRelease it depends on. The release namespace exists
// when install.createNamespace is set; the HelmRelease's own always does.
// As for Kustomizations, only CRDs and Namespaces some Kustomization of
// the environment applies are judged; a release's own CRDs and Namespaces
// count as its parent's, so releases of one Kustomization are not ordered
// among themselves.
func releaseOrder(env *render.Environment, r, parent *render.Kustomization, byID map[string]*node,
	crdBy, nsBy map[string][]*render.Kustomization, ready func(*render.Kustomization) map[string]bool,
	satisfied func([]*render.Kustomization, *render.Kustomization, map[string]bool) bool, exists map[string]bool) []finding.Finding {
	if parent == nil {
		return nil
	}
	var have map[string]bool
	haveAll := func() map[string]bool {
		if have != nil {
			return have
		}
		have = ready(parent)
		seen := map[string]bool{}
		var visit func(id string)
		visit = func(id string) { // the HelmReleases r depends on, transitively
			n := byID[id]
			if seen[id] || n == nil {
				return
			}
			seen[id] = true
			if n.k != nil {
				maps.Copy(have, ready(n.k))
			}
			for _, d := range n.deps {
				visit("HelmRelease/" + d.ns + "/" + d.name)
			}
		}
		visit("HelmRelease/" + r.Namespace + "/" + r.Name)
		return have
	}
	created := map[string]bool{r.Namespace: true}
	if objects.Nested(r.Spec, "install", "createNamespace") == true {
		created[cmp.Or(r.TargetNamespace, r.Namespace)] = true
	}
	return orderFindings(env, r, parent, r.Objects, haveAll, satisfied, crdBy, nsBy, func(ns string) bool { return exists[ns] || created[ns] },
		orderWords{
			who:   fmt.Sprintf("neither Kustomization %s (which applies HelmRelease %s/%s) nor the HelmReleases it depends on depend on", parent.ID(), r.Namespace, r.Name),
			fails: "the release's install fails", to: " to Kustomization " + parent.ID(), nsFix: ", or set install.createNamespace",
		})
}

// orderWords are what an order finding says of its unit: who does not
// depend on the appliers, what fails, where the fix goes.
type orderWords struct {
	who, fails, to, nsFix string
}

// orderFindings judges objs, which unit applies, on an empty cluster: the
// CRD of each one's kind and its Namespace must exist, that is be applied
// by applier itself or by a Kustomization in have() (computed only when
// needed); skipNS names Namespaces that exist anyway.
func orderFindings(env *render.Environment, unit, applier *render.Kustomization, objs []*render.Object, have func() map[string]bool,
	satisfied func([]*render.Kustomization, *render.Kustomization, map[string]bool) bool,
	crdBy, nsBy map[string][]*render.Kustomization, skipNS func(string) bool, w orderWords) []finding.Finding {
	var out []finding.Finding
	cluster := applier.Cluster() // CRDs and Namespaces are looked up on the cluster it applies to
	for _, o := range objs {
		gk := objects.Group(o.APIVersion()) + "/" + o.Kind()
		if ps, ok := crdBy[cluster+"|"+gk]; ok && !slices.Contains(ps, applier) && !satisfied(ps, applier, have()) {
			out = append(out, objectFinding(env, unit, o, RuleCRDOrder,
				fmt.Sprintf("%s needs the CustomResourceDefinition of %s, which %s%s, but %s %s: on a fresh cluster %s with \"no matches for kind %q\"; add dependsOn: [{name: %s, namespace: %s}]%s", o.Ref(), gk, appliersText(ps, "applies", "apply"), onCluster(applier), w.who, pronoun(ps), w.fails, o.Kind(), ps[0].Name, ps[0].Namespace, w.to)))
		}
		ns := o.Namespace()
		if ps, ok := nsBy[cluster+"|"+ns]; ok && ns != "" && !skipNS(ns) && !slices.Contains(ps, applier) && !satisfied(ps, applier, have()) {
			out = append(out, objectFinding(env, unit, o, RuleNamespaceOrder,
				fmt.Sprintf("%s goes into namespace %s, which only %s%s, but %s %s: on a fresh cluster %s with \"namespaces %q not found\"; add dependsOn: [{name: %s, namespace: %s}]%s%s", o.Ref(), ns, appliersText(ps, "creates", "create"), onCluster(applier), w.who, pronoun(ps), w.fails, ns, ps[0].Name, ps[0].Namespace, w.to, w.nsFix)))
		}
	}
	return out
}

// appliersText names the appliers of a CRD or Namespace, the first few and
// how many more, with the verb agreeing.
func appliersText(ps []*render.Kustomization, one, many string) string {
	var names []string
	for _, p := range ps {
		if len(names) == maxOthers {
			break
		}
		names = append(names, p.ID())
	}
	if len(ps) == 1 {
		return names[0] + " " + one
	}
	list := strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	if more := len(ps) - len(names); more > 0 {
		list = strings.Join(names, ", ") + fmt.Sprintf(" and %d more", more)
	}
	return list + " " + many
}

func pronoun(ps []*render.Kustomization) string {
	if len(ps) == 1 {
		return "it"
	}
	return "any of them"
}

// objectFinding is a finding about o, which k applies, at o's source
// position (none when it comes from another source).
func objectFinding(env *render.Environment, k *render.Kustomization, o *render.Object, rule finding.Rule, msg string) finding.Finding {
	f := rule.New(finding.Finding{Message: msg, File: o.File, Environment: env.Name, Kustomization: k.ID(), Object: o.Ref()})
	if o.File != "" {
		f.Line, f.Column = o.Line, o.Column
	}
	return f
}

// onCluster says which cluster a finding is about when it is not the
// environment's own.
func onCluster(k *render.Kustomization) string {
	if c := k.Cluster(); c != "" {
		return " on the cluster of kubeConfig " + c
	}
	return ""
}
