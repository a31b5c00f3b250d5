package converge

import (
	"slices"
	"sort"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/objects"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// Graph is the dependsOn graph of an environment: Kustomizations and
// HelmReleases, each edge from a dependent to what it depends on. The
// report package prints it (render --graph).
type Graph struct {
	Environment string
	Nodes       []GraphNode
}

// GraphNode is one Kustomization or HelmRelease.
type GraphNode struct {
	ID        string   // "Kustomization/ns/name"
	DependsOn []string // ids
	// Bound is the longest time the controller may wait on it: spec.timeout
	// when set, else its interval (kustomize-controller's default timeout).
	Bound time.Duration
}

// BuildGraph returns the dependsOn graph of env.
func BuildGraph(env *render.Environment) *Graph {
	g := &Graph{Environment: env.Name}
	add := func(kind, ns, name string, spec map[string]any) {
		n := GraphNode{ID: kind + "/" + ns + "/" + name, Bound: bound(spec)}
		for _, d := range deps(spec, ns) {
			n.DependsOn = append(n.DependsOn, kind+"/"+d.ns+"/"+d.name)
		}
		sort.Strings(n.DependsOn)
		g.Nodes = append(g.Nodes, n)
	}
	for _, k := range env.Kustomizations {
		add("Kustomization", k.Namespace, k.Name, k.Spec)
		for _, o := range k.Objects {
			if o.Kind() == "HelmRelease" && objects.Group(o.APIVersion()) == "helm.toolkit.fluxcd.io" {
				spec, _ := o.Content["spec"].(map[string]any)
				add("HelmRelease", o.Namespace(), o.Name(), spec)
			}
		}
	}
	sort.Slice(g.Nodes, func(i, j int) bool { return g.Nodes[i].ID < g.Nodes[j].ID })
	return g
}

func bound(spec map[string]any) time.Duration {
	for _, field := range []string{"timeout", "interval"} {
		if d, err := time.ParseDuration(str(spec[field])); err == nil {
			return d
		}
	}
	return 0
}

// LongestChain returns the dependsOn chain with the largest summed bound
// (cycles ignored), first dependency first, and that sum: an upper bound on
// how long a fresh cluster waits for the chain's last member.
func (g *Graph) LongestChain() ([]string, time.Duration) {
	byID := map[string]GraphNode{}
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	memo := map[string]time.Duration{}
	next := map[string]string{}
	visiting := map[string]bool{}
	var cost func(id string) time.Duration
	cost = func(id string) time.Duration {
		if c, ok := memo[id]; ok {
			return c
		}
		if visiting[id] {
			return 0 // a cycle: reported by flux/depends-on-cycle
		}
		visiting[id] = true
		n := byID[id]
		best, bestDep := time.Duration(0), ""
		for _, d := range n.DependsOn {
			if _, ok := byID[d]; !ok {
				continue
			}
			if c := cost(d); c > best || bestDep == "" {
				best, bestDep = c, d
			}
		}
		visiting[id] = false
		memo[id] = best + n.Bound
		next[id] = bestDep
		return memo[id]
	}
	var top string
	var topCost time.Duration
	for _, n := range g.Nodes {
		if c := cost(n.ID); c > topCost || top == "" {
			top, topCost = n.ID, c
		}
	}
	var chain []string
	for id := top; id != ""; id = next[id] {
		chain = append(chain, id)
		if len(chain) > len(g.Nodes) {
			break
		}
	}
	slices.Reverse(chain) // first dependency first
	return chain, topCost
}
