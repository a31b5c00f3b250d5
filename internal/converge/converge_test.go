package converge

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gitops-lint/gitops-lint/internal/finding"
	"github.com/gitops-lint/gitops-lint/internal/render"
)

// applying returns an environment of n Kustomizations that each apply the
// Namespace "shared" from infra/namespace.yaml.
func applying(n int) *render.Environment {
	env := &render.Environment{Name: "dev"}
	for i := range n {
		env.Kustomizations = append(env.Kustomizations, &render.Kustomization{
			Namespace: "flux-system", Name: fmt.Sprintf("k%d", i), File: fmt.Sprintf("clusters/dev/k%d.yaml", i), Line: 1, Rendered: true,
			Objects: []*render.Object{{
				Content: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shared"}},
				File:    "infra/namespace.yaml", Line: 1,
			}},
		})
	}
	return env
}

func duplicates(env *render.Environment) []finding.Finding {
	var out []finding.Finding
	for _, f := range checkEnv(&render.Index{}, env, nil) {
		if f.Rule == RuleDuplicateObject.ID {
			out = append(out, f)
		}
	}
	return out
}

// TestDuplicateObjectWording: every applier's finding has the same
// message, naming the first four appliers and how many more, so that
// copies from one file and line fold into one finding.
func TestDuplicateObjectWording(t *testing.T) {
	const tail = ": they would fight over its fields and prune each other's copy"
	const at = " at infra/namespace.yaml:1"
	for _, tc := range []struct {
		n    int
		want string
	}{
		{2, "Namespace/shared is applied by 2 Kustomizations (flux-system/k0" + at + ", flux-system/k1" + at + ")" + tail},
		{4, "Namespace/shared is applied by 4 Kustomizations (flux-system/k0" + at + ", flux-system/k1" + at + ", flux-system/k2" + at + ", flux-system/k3" + at + ")" + tail},
		{5, "Namespace/shared is applied by 5 Kustomizations (flux-system/k0" + at + ", flux-system/k1" + at + ", flux-system/k2" + at + ", flux-system/k3" + at + " and 1 more)" + tail},
		{1000, "Namespace/shared is applied by 1000 Kustomizations (flux-system/k0" + at + ", flux-system/k1" + at + ", flux-system/k2" + at + ", flux-system/k3" + at + " and 996 more)" + tail},
	} {
		fs := duplicates(applying(tc.n))
		if len(fs) != tc.n {
			t.Fatalf("%d appliers: %d findings", tc.n, len(fs))
		}
		for _, f := range fs {
			if f.Message != tc.want {
				t.Fatalf("%d appliers, %s:\n got %s\nwant %s", tc.n, f.Kustomization, f.Message, tc.want)
			}
		}
		if folded := finding.Fold(finding.Sort(fs)); len(folded) != 1 || folded[0].Count() != tc.n {
			t.Errorf("%d appliers of one file and line fold into %d findings, want 1 ×%d", tc.n, len(folded), tc.n)
		}
	}
}

// TestDuplicateObjectManyAppliers: 2,500 identical Kustomizations named
// every other one in each of their findings: 2,500² names, out of memory.
func TestDuplicateObjectManyAppliers(t *testing.T) {
	env := applying(2500)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fs := duplicates(env)
	took := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	size := 0
	for _, f := range fs {
		size += len(f.Message)
	}
	t.Logf("%d findings, %d KiB of messages, %v, %d MiB allocated", len(fs), size>>10, took, (after.TotalAlloc-before.TotalAlloc)>>20)
	if len(fs) != 2500 || size > 2500*512 {
		t.Errorf("%d findings, %d bytes of messages", len(fs), size)
	}
	if took > 5*time.Second || after.TotalAlloc-before.TotalAlloc > 256<<20 {
		t.Errorf("took %v and allocated %d MiB", took, (after.TotalAlloc-before.TotalAlloc)>>20)
	}
}

// TestLongestChainOrder: the chain is listed first dependency first (it
// was built by prepending, which costs the square of its length).
func TestLongestChainOrder(t *testing.T) {
	g := &Graph{Environment: "dev"}
	const n = 20000
	for i := range n {
		node := GraphNode{ID: fmt.Sprintf("Kustomization/ns/k%05d", i), Bound: time.Minute}
		if i > 0 {
			node.DependsOn = []string{fmt.Sprintf("Kustomization/ns/k%05d", i-1)}
		}
		g.Nodes = append(g.Nodes, node)
	}
	chain, total := g.LongestChain()
	if len(chain) != n || chain[0] != "Kustomization/ns/k00000" || chain[n-1] != fmt.Sprintf("Kustomization/ns/k%05d", n-1) || total != n*time.Minute {
		t.Errorf("chain of %d from %s to %s, %v", len(chain), chain[0], chain[len(chain)-1], total)
	}
}
